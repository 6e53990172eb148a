import assert from "node:assert/strict";
import type { Rate } from "../policy/types.ts";
import type { CounterStore } from "../store/counter_store.ts";
import { testEachEngine } from "../tests/store_engines.ts";
import {
  type CounterName,
  createRateLimiter,
  type LimitCharge,
  type LimitVerdict,
  StoreUnavailableError,
} from "./rate_limiter.ts";

const PER_MINUTE: Rate = { count: 20, windowMs: 60_000, text: "20/minute" };
const PER_10S: Rate = { count: 5, windowMs: 10_000, text: "5/10s" };
const ORG_30: Rate = { count: 30, windowMs: 60_000, text: "30/minute" };
/** 30 s into a minute, so a 20/minute window has 30 s left. */
const T0 = Date.UTC(2026, 0, 1, 12, 0, 30);

const ORG: CounterName = { organizationId: "acme", bucket: "org" };

function ip(address: string | number, organizationId = "acme"): CounterName {
  return { organizationId, bucket: `ip:${address}` };
}

function admitted(verdicts: readonly LimitVerdict[]): number {
  return verdicts.filter((verdict) => verdict.allowed).length;
}

/** The stored count of a counter's window, read without counting (a peek). */
async function storedCount(
  counters: CounterStore,
  counter: CounterName,
  rate: Rate,
  now: number,
): Promise<number> {
  const windowEnd = (Math.floor(now / rate.windowMs) + 1) * rate.windowMs;
  const [outcomes] = await counters.charge([[{
    ...counter,
    windowMs: rate.windowMs,
    windowEnd,
    limit: Number.MAX_SAFE_INTEGER,
    peek: true,
  }]]);
  return outcomes![0]!.count;
}

testEachEngine(
  "charge() admits exactly the limit in sequence, counting remaining down",
  async (engine) => {
    await using store = await engine.open();
    const limiter = createRateLimiter(store.counters);
    const verdicts: LimitVerdict[] = [];
    for (let i = 0; i < 25; i++) {
      verdicts.push(await limiter.charge(ip("1.2.3.4"), PER_MINUTE, T0));
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
  },
);

testEachEngine(
  "charge() starts a fresh count in the next window",
  async (engine) => {
    await using store = await engine.open();
    const limiter = createRateLimiter(store.counters);
    for (let i = 0; i < 20; i++) await limiter.charge(ORG, PER_MINUTE, T0);
    const spent = await limiter.charge(ORG, PER_MINUTE, T0 + 29_999);
    assert.equal(spent.allowed, false);
    assert.equal(spent.retryAfterMs, 1);
    const next = await limiter.charge(ORG, PER_MINUTE, T0 + 30_000);
    assert.equal(next.allowed, true);
    assert.equal(next.remaining, 19);
    assert.equal(next.resetMs, 60_000);
  },
);

testEachEngine(
  "charge() keeps distinct counters independent",
  async (engine) => {
    await using store = await engine.open();
    const limiter = createRateLimiter(store.counters);
    for (let i = 0; i < 20; i++) {
      await limiter.charge(ip("1.2.3.4"), PER_MINUTE, T0);
    }
    const cases: [string, CounterName, number][] = [
      ["the spent counter", ip("1.2.3.4"), 0],
      ["another IP", ip("1.2.3.5"), 1],
      ["another organization", ip("1.2.3.4", "globex"), 1],
      ["the organization counter", ORG, 1],
    ];
    for (const [name, counter, expected] of cases) {
      const verdict = await limiter.charge(counter, PER_MINUTE, T0);
      assert.equal(Number(verdict.allowed), expected, name);
    }
  },
);

testEachEngine(
  "charge() admits exactly the limit under concurrency",
  async (engine) => {
    await using store = await engine.open();
    const limiter = createRateLimiter(store.counters);
    const verdicts = await Promise.all(
      Array.from(
        { length: 60 },
        () => limiter.charge(ip("9.9.9.9"), PER_MINUTE, T0),
      ),
    );
    assert.equal(admitted(verdicts), 20);
    assert.deepEqual(
      verdicts.filter((verdict) => verdict.allowed)
        .map((verdict) => verdict.remaining).sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i),
    );
    assert.equal(
      await storedCount(store.counters, ip("9.9.9.9"), PER_MINUTE, T0),
      20,
      "a spent counter never grows",
    );
  },
);

testEachEngine(
  "charge() stays exact per counter with many concurrent counters",
  async (engine) => {
    // 150 counters exceed one KV getMany (10 keys) and one atomic (100 checks).
    const cases: [string, number][] = [
      ["default batches", 1_000],
      ["maxBatch 7", 7],
    ];
    for (const [name, maxBatch] of cases) {
      await using store = await engine.open();
      const limiter = createRateLimiter(store.counters, { maxBatch });
      const charges: Promise<[number, LimitVerdict]>[] = [];
      for (let round = 0; round < 8; round++) {
        for (let counter = 0; counter < 150; counter++) {
          charges.push(
            limiter.charge(ip(counter), PER_10S, T0)
              .then((verdict) => [counter, verdict]),
          );
        }
      }
      const perCounter = new Array<number>(150).fill(0);
      for (const [counter, verdict] of await Promise.all(charges)) {
        if (verdict.allowed) perCounter[counter]!++;
      }
      assert.deepEqual(perCounter, new Array<number>(150).fill(5), name);
    }
  },
);

testEachEngine(
  "charge() stays exact across limiters racing on one store (three processes or hosts)",
  async (engine) => {
    await using first = await engine.open();
    await using second = await engine.open(first.location);
    await using third = await engine.open(first.location);
    const limiters = [first, second, third].map((store) =>
      createRateLimiter(store.counters)
    );
    const verdicts = await Promise.all(
      limiters.flatMap((limiter) =>
        Array.from(
          { length: 20 },
          () => limiter.charge(ip("5.5.5.5"), PER_MINUTE, T0),
        )
      ),
    );
    assert.equal(admitted(verdicts), 20);
  },
);

testEachEngine(
  "charge() counts 5/10s windows on their boundaries",
  async (engine) => {
    await using store = await engine.open();
    const limiter = createRateLimiter(store.counters);
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
      const verdict = await limiter.charge(ORG, PER_10S, start + offset);
      assert.deepEqual(
        [verdict.allowed, verdict.remaining, verdict.resetMs],
        [allowed, remaining, resetMs],
        `at +${offset} ms`,
      );
    }
  },
);

testEachEngine("charge() keeps rates of one counter apart", async (engine) => {
  await using store = await engine.open();
  const limiter = createRateLimiter(store.counters);
  await limiter.charge(ORG, PER_MINUTE, T0);
  await limiter.charge(ORG, PER_MINUTE, T0);
  await limiter.charge(ORG, PER_10S, T0);
  assert.equal(await storedCount(store.counters, ORG, PER_MINUTE, T0), 2);
  assert.equal(await storedCount(store.counters, ORG, PER_10S, T0), 1);
});

testEachEngine(
  "charge() rejects every request of a zero rate",
  async (engine) => {
    await using store = await engine.open();
    const limiter = createRateLimiter(store.counters);
    const verdict = await limiter.charge(ORG, {
      count: 0,
      windowMs: 60_000,
      text: "0/minute",
    }, T0);
    assert.equal(verdict.allowed, false);
    assert.equal(verdict.retryAfterMs, 30_000);
  },
);

testEachEngine(
  "charge() refuses malformed rates with RangeError",
  async (engine) => {
    await using store = await engine.open();
    const limiter = createRateLimiter(store.counters);
    const rates: Rate[] = [
      { count: 1.5, windowMs: 60_000, text: "1.5/minute" },
      { count: -1, windowMs: 60_000, text: "-1/minute" },
      { count: 5, windowMs: 0, text: "5/0s" },
      { count: 5, windowMs: Infinity, text: "5/forever" },
    ];
    for (const rate of rates) {
      await assert.rejects(
        limiter.charge(ORG, rate, T0),
        RangeError,
        rate.text,
      );
    }
  },
);

testEachEngine(
  "charge() throws StoreUnavailableError when the store is closed",
  async (engine) => {
    const store = await engine.open();
    const limiter = createRateLimiter(store.counters);
    await store[Symbol.asyncDispose]();
    await assert.rejects(
      limiter.charge(ORG, PER_MINUTE, T0),
      (error: unknown) =>
        error instanceof StoreUnavailableError && error.code === "UNAVAILABLE",
    );
    await assert.rejects(
      limiter.sweep(T0),
      (error: unknown) =>
        error instanceof StoreUnavailableError && error.code === "UNAVAILABLE",
    );
  },
);

testEachEngine(
  "charge() answers a spent window without a store round trip",
  async (engine) => {
    const store = await engine.open();
    const limiter = createRateLimiter(store.counters);
    for (let i = 0; i < 20; i++) await limiter.charge(ORG, PER_MINUTE, T0);
    await store[Symbol.asyncDispose]();
    // Only a store-free path can answer once the store is gone.
    const verdict = await limiter.charge(ORG, PER_MINUTE, T0 + 1_000);
    assert.equal(verdict.allowed, false);
    assert.equal(verdict.retryAfterMs, 29_000);
    // A higher limit for the same window is not known spent: it asks the store.
    await assert.rejects(
      limiter.charge(ORG, { ...PER_MINUTE, count: 21 }, T0),
      StoreUnavailableError,
    );
  },
);

testEachEngine(
  "close() refuses further charges and leaves the store open",
  async (engine) => {
    await using store = await engine.open();
    const limiter = createRateLimiter(store.counters);
    const queued = limiter.charge(ORG, PER_MINUTE, T0);
    limiter.close();
    assert.equal((await queued).allowed, true, "a queued charge still settles");
    await assert.rejects(
      limiter.charge(ORG, PER_MINUTE, T0),
      StoreUnavailableError,
    );
    await store.ping();
  },
);

testEachEngine(
  "sweep() deletes counters of ended windows only",
  async (engine) => {
    await using store = await engine.open();
    const limiter = createRateLimiter(store.counters, { now: () => T0 });
    await limiter.charge(ORG, PER_MINUTE, T0 - 60_000); // ended at T0 - 30 s
    await limiter.charge(ORG, PER_10S, T0 - 10_000); // ended at T0
    await limiter.charge(ORG, PER_10S, T0); // ends at T0 + 10 s
    await limiter.charge(ORG, PER_MINUTE); // current, ends at T0 + 30 s

    // A window ending exactly now is left for the next sweep.
    assert.equal(await limiter.sweep(T0 - 1), 1);
    assert.equal(await limiter.sweep(), 0);
    assert.equal(await limiter.sweep(T0 + 1), 1);

    const current = await limiter.charge(ORG, PER_MINUTE);
    assert.equal(current.remaining, 18, "the live counter survived");
    assert.equal(await limiter.sweep(T0 + 60_000), 2);
    assert.equal(await limiter.sweep(T0 + 120_000), 0, "nothing is left");
  },
);

testEachEngine(
  "sweep() deletes more counters than one commit can hold",
  async (engine) => {
    await using store = await engine.open();
    const limiter = createRateLimiter(store.counters);
    await Promise.all(
      Array.from(
        { length: 1_200 },
        (_, i) => limiter.charge(ip(i), PER_10S, T0),
      ),
    );
    assert.equal(await limiter.sweep(T0 + 10_001), 1_200);
    assert.equal(await limiter.sweep(T0 + 20_001), 0);
  },
);

testEachEngine(
  "chargeAll() charges the next limit only when the previous one admitted",
  async (engine) => {
    await using store = await engine.open();
    const limiter = createRateLimiter(store.counters);
    const ipRate: Rate = { count: 2, windowMs: 60_000, text: "2/minute" };
    const chain: LimitCharge[] = [
      { ...ip("203.0.113.7"), rate: ipRate },
      { ...ORG, rate: ORG_30 },
    ];
    const results: LimitVerdict[][] = [];
    for (let i = 0; i < 4; i++) {
      results.push(await limiter.chargeAll(chain, T0));
    }
    assert.deepEqual(
      results.map((verdicts) => verdicts.map((v) => v.allowed)),
      [[true, true], [true, true], [false], [false]],
    );
    // Only the two admitted requests reached the organization's counter.
    const org = await limiter.charge(ORG, ORG_30, T0);
    assert.equal(org.remaining, 30 - 3);
  },
);

testEachEngine(
  "chargeAll() counts the first limit even when a later one rejects",
  async (engine) => {
    await using store = await engine.open();
    const limiter = createRateLimiter(store.counters);
    const orgRate: Rate = { count: 1, windowMs: 60_000, text: "1/minute" };
    const chain: LimitCharge[] = [
      { ...ip("203.0.113.7"), rate: PER_MINUTE },
      { ...ORG, rate: orgRate },
    ];
    const first = await limiter.chargeAll(chain, T0);
    const second = await limiter.chargeAll(chain, T0);
    assert.deepEqual(first.map((v) => v.allowed), [true, true]);
    assert.deepEqual(second.map((v) => v.allowed), [true, false]);
    assert.equal(second[0]!.remaining, 20 - 2);
  },
);

testEachEngine(
  "chargeAll() stays exact for many IPs sharing one organization, concurrently",
  async (engine) => {
    await using store = await engine.open();
    const limiter = createRateLimiter(store.counters);
    // 150 distinct IPs × 2 requests: more counters than one KV commit may check.
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        limiter.chargeAll([
          { ...ip(`10.0.0.${i % 150}`), rate: PER_MINUTE },
          { ...ORG, rate: ORG_30 },
        ], T0)),
    );
    const orgAdmitted = results.filter((verdicts) => verdicts[1]?.allowed)
      .length;
    assert.equal(orgAdmitted, 30);
    assert.ok(results.every((verdicts) => verdicts[0]?.allowed));
  },
);

testEachEngine(
  "chargeAll() checks a peek without counting it, and stops at a spent one",
  async (engine) => {
    await using store = await engine.open();
    const limiter = createRateLimiter(store.counters);
    const failures: Rate = { count: 2, windowMs: 60_000, text: "2/minute" };
    const guard: CounterName = {
      organizationId: "acme",
      bucket: "auth:1.2.3.4",
    };
    const chain: LimitCharge[] = [
      { ...ip("1.2.3.4"), rate: PER_MINUTE },
      { ...guard, rate: failures, peek: true },
      { ...ORG, rate: ORG_30 },
    ];
    const before = await limiter.chargeAll(chain, T0);
    assert.deepEqual(before.map((v) => v.allowed), [true, true, true]);
    assert.equal(before[1]!.remaining, 2, "a peek spends nothing");
    // Two failed authentications spend the guard.
    await limiter.charge(guard, failures, T0);
    await limiter.charge(guard, failures, T0);
    const after = await limiter.chargeAll(chain, T0);
    assert.deepEqual(after.map((v) => v.allowed), [true, false]);
    assert.equal(
      await storedCount(store.counters, ORG, ORG_30, T0),
      1,
      "the refused request spent nothing of the organization",
    );
    assert.equal(
      await storedCount(store.counters, ip("1.2.3.4"), PER_MINUTE, T0),
      2,
      "the IP limit counted both requests",
    );
  },
);

testEachEngine(
  "knownSpent() answers once this process has seen a window spent",
  async (engine) => {
    await using store = await engine.open();
    const limiter = createRateLimiter(store.counters);
    const counter = ip("203.0.113.7");
    assert.equal(limiter.knownSpent(counter, PER_10S, T0), undefined);
    for (let i = 0; i < 4; i++) await limiter.charge(counter, PER_10S, T0);
    assert.equal(limiter.knownSpent(counter, PER_10S, T0), undefined);
    assert.equal((await limiter.charge(counter, PER_10S, T0)).allowed, true);
    const known = limiter.knownSpent(counter, PER_10S, T0);
    assert.equal(known?.allowed, false);
    assert.equal(known?.retryAfterMs, 10_000 - (T0 % 10_000));
    assert.equal(
      limiter.knownSpent(counter, PER_10S, T0 + 10_000),
      undefined,
      "a new window is not spent",
    );
  },
);
