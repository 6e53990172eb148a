import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import type { Rate } from "../policy/types.ts";
import {
  createRateLimiter,
  type LimitVerdict,
  StoreUnavailableError,
} from "./rate_limiter.ts";

const PER_MINUTE: Rate = { count: 20, windowMs: 60_000, text: "20/minute" };
const PER_10S: Rate = { count: 5, windowMs: 10_000, text: "5/10s" };
/** 30 s into a minute, so a 20/minute window has 30 s left. */
const T0 = Date.UTC(2026, 0, 1, 12, 0, 30);

/** Runs `body` with a real KV file in a fresh temp dir, then cleans up. */
async function withKv(body: (kv: Deno.Kv) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "parley_limits_" });
  const kv = await Deno.openKv(`${dir}/kv.sqlite`);
  try {
    await body(kv);
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function admitted(verdicts: readonly LimitVerdict[]): number {
  return verdicts.filter((verdict) => verdict.allowed).length;
}

async function counterKeys(kv: Deno.Kv): Promise<Deno.KvKey[]> {
  const keys: Deno.KvKey[] = [];
  for await (const entry of kv.list({ prefix: ["rl"] })) keys.push(entry.key);
  return keys;
}

Deno.test("charge() admits exactly the limit in sequence, counting remaining down", async () => {
  await withKv(async (kv) => {
    const limiter = createRateLimiter(kv);
    const verdicts: LimitVerdict[] = [];
    for (let i = 0; i < 25; i++) {
      verdicts.push(
        await limiter.charge(["ip", "acme", "1.2.3.4"], PER_MINUTE, T0),
      );
    }
    assert.equal(admitted(verdicts), 20);
    assert.deepEqual(
      verdicts.slice(0, 20).map((verdict) => verdict.remaining),
      Array.from({ length: 20 }, (_, i) => 19 - i),
    );
    for (const verdict of verdicts.slice(0, 20)) {
      assert.equal(verdict.allowed, true);
      assert.equal(verdict.limit, 20);
      assert.equal(verdict.resetMs, 30_000);
      assert.equal(verdict.retryAfterMs, undefined);
    }
    for (const verdict of verdicts.slice(20)) {
      assert.deepEqual(verdict, {
        allowed: false,
        limit: 20,
        remaining: 0,
        resetMs: 30_000,
        retryAfterMs: 30_000,
      });
    }
  });
});

Deno.test("charge() starts a fresh count in the next window", async () => {
  await withKv(async (kv) => {
    const limiter = createRateLimiter(kv);
    for (let i = 0; i < 20; i++) {
      await limiter.charge(["org", "acme"], PER_MINUTE, T0);
    }
    const spent = await limiter.charge(
      ["org", "acme"],
      PER_MINUTE,
      T0 + 29_999,
    );
    assert.equal(spent.allowed, false);
    assert.equal(spent.retryAfterMs, 1);
    const next = await limiter.charge(["org", "acme"], PER_MINUTE, T0 + 30_000);
    assert.equal(next.allowed, true);
    assert.equal(next.remaining, 19);
    assert.equal(next.resetMs, 60_000);
  });
});

Deno.test("charge() keeps distinct buckets independent", async () => {
  await withKv(async (kv) => {
    const limiter = createRateLimiter(kv);
    for (let i = 0; i < 20; i++) {
      await limiter.charge(["ip", "acme", "1.2.3.4"], PER_MINUTE, T0);
    }
    const cases: [string, readonly (string | number)[], number][] = [
      ["the spent bucket", ["ip", "acme", "1.2.3.4"], 0],
      ["another IP", ["ip", "acme", "1.2.3.5"], 1],
      ["another organization", ["ip", "globex", "1.2.3.4"], 1],
      ["the organization bucket", ["org", "acme"], 1],
      ["a numeric part", ["ip", 7, "1.2.3.4"], 1],
    ];
    for (const [name, bucket, expected] of cases) {
      const verdict = await limiter.charge(bucket, PER_MINUTE, T0);
      assert.equal(Number(verdict.allowed), expected, name);
    }
  });
});

Deno.test("charge() admits exactly the limit under concurrency", async () => {
  await withKv(async (kv) => {
    const limiter = createRateLimiter(kv);
    const verdicts = await Promise.all(
      Array.from(
        { length: 60 },
        () => limiter.charge(["ip", "acme", "9.9.9.9"], PER_MINUTE, T0),
      ),
    );
    assert.equal(admitted(verdicts), 20);
    assert.deepEqual(
      verdicts.filter((verdict) => verdict.allowed)
        .map((verdict) => verdict.remaining).sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i),
    );
    const stored = await kv.get<number>((await counterKeys(kv))[0] ?? []);
    assert.equal(stored.value, 20, "a spent bucket never grows");
  });
});

Deno.test("charge() stays exact per bucket with many concurrent buckets", async () => {
  // 150 buckets exceed one getMany (10 keys) and one atomic (100 checks).
  const cases: [string, number][] = [["default batches", 1_000], [
    "maxBatch 7",
    7,
  ]];
  for (const [name, maxBatch] of cases) {
    await withKv(async (kv) => {
      const limiter = createRateLimiter(kv, { maxBatch });
      const charges: Promise<[number, LimitVerdict]>[] = [];
      for (let round = 0; round < 8; round++) {
        for (let bucket = 0; bucket < 150; bucket++) {
          charges.push(
            limiter.charge(["ip", "acme", bucket], PER_10S, T0)
              .then((verdict) => [bucket, verdict]),
          );
        }
      }
      const perBucket = new Array<number>(150).fill(0);
      for (const [bucket, verdict] of await Promise.all(charges)) {
        if (verdict.allowed) perBucket[bucket]!++;
      }
      assert.deepEqual(perBucket, new Array<number>(150).fill(5), name);
    });
  }
});

Deno.test("charge() stays exact across limiters racing on one KV file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley_limits_" });
  const stores = await Promise.all(
    [1, 2, 3].map(() => Deno.openKv(`${dir}/kv.sqlite`)),
  );
  try {
    const limiters = stores.map((kv) => createRateLimiter(kv));
    const verdicts = await Promise.all(
      limiters.flatMap((limiter) =>
        Array.from(
          { length: 20 },
          () => limiter.charge(["ip", "acme", "5.5.5.5"], PER_MINUTE, T0),
        )
      ),
    );
    assert.equal(admitted(verdicts), 20);
  } finally {
    for (const kv of stores) kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("charge() counts 5/10s windows on their boundaries", async () => {
  await withKv(async (kv) => {
    const limiter = createRateLimiter(kv);
    const start = Date.UTC(2026, 0, 1, 12, 0, 0);
    // [offset ms, allowed, remaining, resetMs]
    const steps: [number, boolean, number, number][] = [
      [0, true, 4, 10_000],
      [1_000, true, 3, 9_000],
      [2_000, true, 2, 8_000],
      [3_000, true, 1, 7_000],
      [9_000, true, 0, 1_000],
      [9_999, false, 0, 1],
      [10_000, true, 4, 10_000],
      [25_000, true, 4, 5_000],
    ];
    for (const [offset, allowed, remaining, resetMs] of steps) {
      const verdict = await limiter.charge(
        ["org", "acme"],
        PER_10S,
        start + offset,
      );
      assert.deepEqual(
        [verdict.allowed, verdict.remaining, verdict.resetMs],
        [allowed, remaining, resetMs],
        `at +${offset} ms`,
      );
    }
  });
});

Deno.test("charge() keys counters by window and keeps rates of one bucket apart", async () => {
  await withKv(async (kv) => {
    const limiter = createRateLimiter(kv, { prefix: ["parley"] });
    await limiter.charge(["org", "acme"], PER_MINUTE, T0);
    await limiter.charge(["org", "acme"], PER_10S, T0);
    const keys: Deno.KvKey[] = [];
    for await (const entry of kv.list({ prefix: ["parley", "rl"] })) {
      keys.push(entry.key);
    }
    const minuteEnd = Date.UTC(2026, 0, 1, 12, 1, 0);
    const tenSecondEnd = Date.UTC(2026, 0, 1, 12, 0, 40);
    assert.deepEqual(keys, [
      ["parley", "rl", tenSecondEnd, 10_000, "org", "acme"],
      ["parley", "rl", minuteEnd, 60_000, "org", "acme"],
    ]);
  });
});

Deno.test("charge() rejects every request of a zero rate", async () => {
  await withKv(async (kv) => {
    const limiter = createRateLimiter(kv);
    const verdict = await limiter.charge(["org", "acme"], {
      count: 0,
      windowMs: 60_000,
      text: "0/minute",
    }, T0);
    assert.equal(verdict.allowed, false);
    assert.equal(verdict.retryAfterMs, 30_000);
  });
});

Deno.test("charge() refuses malformed rates with RangeError", async () => {
  await withKv(async (kv) => {
    const limiter = createRateLimiter(kv);
    const rates: Rate[] = [
      { count: 1.5, windowMs: 60_000, text: "1.5/minute" },
      { count: -1, windowMs: 60_000, text: "-1/minute" },
      { count: 5, windowMs: 0, text: "5/0s" },
      { count: 5, windowMs: Infinity, text: "5/forever" },
    ];
    for (const rate of rates) {
      await assert.rejects(
        limiter.charge(["org", "acme"], rate, T0),
        RangeError,
        rate.text,
      );
    }
  });
});

Deno.test("charge() throws StoreUnavailableError when the KV is closed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley_limits_" });
  try {
    const kv = await Deno.openKv(`${dir}/kv.sqlite`);
    const limiter = createRateLimiter(kv);
    kv.close();
    await assert.rejects(
      limiter.charge(["org", "acme"], PER_MINUTE, T0),
      (error: unknown) =>
        error instanceof StoreUnavailableError && error.code === "UNAVAILABLE",
    );
    await assert.rejects(
      limiter.sweep(T0),
      (error: unknown) =>
        error instanceof StoreUnavailableError && error.code === "UNAVAILABLE",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("charge() retries while another connection holds the write lock, then gives up", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley_limits_" });
  const kv = await Deno.openKv(`${dir}/kv.sqlite`);
  await kv.set(["warm-up"], true);
  // A second SQLite connection plays the other `deno serve` worker.
  const rival = new DatabaseSync(`${dir}/kv.sqlite`);
  try {
    const limiter = createRateLimiter(kv);
    // [lock held ms, outcome]
    const cases: [number, "admitted" | "UNAVAILABLE"][] = [
      [300, "admitted"],
      [2_300, "UNAVAILABLE"],
    ];
    for (const [holdMs, expected] of cases) {
      rival.exec("BEGIN IMMEDIATE");
      const released = new Promise<void>((release) =>
        setTimeout(() => {
          rival.exec("COMMIT");
          release();
        }, holdMs)
      );
      const outcome = await limiter.charge(["org", "acme"], PER_MINUTE, T0)
        .then(
          (verdict) => verdict.allowed ? "admitted" : "rejected",
          (error: unknown) =>
            error instanceof StoreUnavailableError ? error.code : String(error),
        );
      await released;
      assert.equal(outcome, expected, `lock held ${holdMs} ms`);
    }
  } finally {
    rival.close();
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("charge() answers a spent window without a KV round trip", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley_limits_" });
  try {
    const kv = await Deno.openKv(`${dir}/kv.sqlite`);
    const limiter = createRateLimiter(kv);
    for (let i = 0; i < 20; i++) {
      await limiter.charge(["org", "acme"], PER_MINUTE, T0);
    }
    kv.close();
    // Only a KV-free path can answer once the store is gone.
    const verdict = await limiter.charge(
      ["org", "acme"],
      PER_MINUTE,
      T0 + 1_000,
    );
    assert.equal(verdict.allowed, false);
    assert.equal(verdict.retryAfterMs, 29_000);
    // A higher limit for the same window is not known spent: it asks KV.
    await assert.rejects(
      limiter.charge(["org", "acme"], { ...PER_MINUTE, count: 21 }, T0),
      StoreUnavailableError,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("close() refuses further charges and leaves the KV open", async () => {
  await withKv(async (kv) => {
    const limiter = createRateLimiter(kv);
    const queued = limiter.charge(["org", "acme"], PER_MINUTE, T0);
    limiter.close();
    assert.equal((await queued).allowed, true, "a queued charge still settles");
    await assert.rejects(
      limiter.charge(["org", "acme"], PER_MINUTE, T0),
      StoreUnavailableError,
    );
    assert.equal((await kv.get(["anything"])).versionstamp, null);
  });
});

Deno.test("sweep() deletes counters of ended windows only", async () => {
  await withKv(async (kv) => {
    const limiter = createRateLimiter(kv, { now: () => T0 });
    await limiter.charge(["org", "acme"], PER_MINUTE, T0 - 60_000); // ended at T0 - 30 s
    await limiter.charge(["org", "acme"], PER_10S, T0 - 10_000); // ended at T0
    await limiter.charge(["org", "acme"], PER_10S, T0); // ends at T0 + 10 s
    await limiter.charge(["org", "acme"], PER_MINUTE); // current, ends at T0 + 30 s
    assert.equal((await counterKeys(kv)).length, 4);

    // A window ending exactly now is left for the next sweep.
    assert.equal(await limiter.sweep(T0 - 1), 1);
    assert.equal(await limiter.sweep(), 0);
    assert.equal(await limiter.sweep(T0 + 1), 1);
    assert.equal((await counterKeys(kv)).length, 2);

    const current = await limiter.charge(["org", "acme"], PER_MINUTE);
    assert.equal(current.remaining, 18, "the live counter survived");
    assert.equal(await limiter.sweep(T0 + 60_000), 2);
    assert.deepEqual(await counterKeys(kv), []);
  });
});

Deno.test("sweep() deletes more counters than one atomic can hold", async () => {
  await withKv(async (kv) => {
    const limiter = createRateLimiter(kv);
    const buckets = Array.from({ length: 1_200 }, (_, i) => ["ip", "acme", i]);
    await Promise.all(
      buckets.map((bucket) => limiter.charge(bucket, PER_10S, T0)),
    );
    assert.equal(await limiter.sweep(T0 + 10_001), 1_200);
    assert.deepEqual(await counterKeys(kv), []);
  });
});

const ORG_30: Rate = { count: 30, windowMs: 60_000, text: "30/minute" };

Deno.test("chargeAll() charges the next limit only when the previous one admitted", async () => {
  await withKv(async (kv) => {
    const limiter = createRateLimiter(kv);
    const ipRate: Rate = { count: 2, windowMs: 60_000, text: "2/minute" };
    const chain = [
      { bucket: ["ip", "acme", "203.0.113.7"], rate: ipRate },
      { bucket: ["org", "acme"], rate: ORG_30 },
    ];
    const results: LimitVerdict[][] = [];
    for (let i = 0; i < 4; i++) {
      results.push(await limiter.chargeAll(chain, T0));
    }
    assert.deepEqual(
      results.map((verdicts) => verdicts.map((v) => v.allowed)),
      [
        [true, true],
        [true, true],
        [false],
        [false],
      ],
    );
    // Only the two admitted requests reached the organization's counter.
    const org = await limiter.charge(["org", "acme"], ORG_30, T0);
    assert.equal(org.remaining, 30 - 3);
  });
});

Deno.test("chargeAll() counts the first limit even when a later one rejects", async () => {
  await withKv(async (kv) => {
    const limiter = createRateLimiter(kv);
    const orgRate: Rate = { count: 1, windowMs: 60_000, text: "1/minute" };
    const chain = [
      { bucket: ["ip", "acme", "203.0.113.7"], rate: PER_MINUTE },
      { bucket: ["org", "acme"], rate: orgRate },
    ];
    const first = await limiter.chargeAll(chain, T0);
    const second = await limiter.chargeAll(chain, T0);
    assert.deepEqual(first.map((v) => v.allowed), [true, true]);
    assert.deepEqual(second.map((v) => v.allowed), [true, false]);
    assert.equal(second[0]!.remaining, 20 - 2);
  });
});

Deno.test("chargeAll() stays exact for many IPs sharing one organization, concurrently", async () => {
  await withKv(async (kv) => {
    const limiter = createRateLimiter(kv);
    // 150 distinct IPs × 2 requests: more counters than one commit may check.
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        limiter.chargeAll([
          { bucket: ["ip", "acme", `10.0.0.${i % 150}`], rate: PER_MINUTE },
          { bucket: ["org", "acme"], rate: ORG_30 },
        ], T0)),
    );
    const orgAdmitted = results.filter((verdicts) =>
      verdicts[1]?.allowed
    ).length;
    assert.equal(orgAdmitted, 30);
    assert.ok(results.every((verdicts) => verdicts[0]?.allowed));
  });
});

Deno.test("knownSpent() answers once this process has seen a window spent", async () => {
  await withKv(async (kv) => {
    const limiter = createRateLimiter(kv);
    const bucket = ["ip", "acme", "203.0.113.7"];
    assert.equal(limiter.knownSpent(bucket, PER_10S, T0), undefined);
    for (let i = 0; i < 4; i++) await limiter.charge(bucket, PER_10S, T0);
    assert.equal(limiter.knownSpent(bucket, PER_10S, T0), undefined);
    assert.equal((await limiter.charge(bucket, PER_10S, T0)).allowed, true);
    const known = limiter.knownSpent(bucket, PER_10S, T0);
    assert.equal(known?.allowed, false);
    assert.equal(known?.retryAfterMs, 10_000 - (T0 % 10_000));
    assert.equal(
      limiter.knownSpent(bucket, PER_10S, T0 + 10_000),
      undefined,
      "a new window is not spent",
    );
  });
});
