import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import type { CounterSlot } from "../counter_store.ts";
import { StoreUnavailableError } from "../store_unavailable_error.ts";
import { KvCounterStore } from "./kv_counter_store.ts";

/** 30 s into a minute. */
const T0 = Date.UTC(2026, 0, 1, 12, 0, 30);
const MINUTE_END = Date.UTC(2026, 0, 1, 12, 1, 0);

function slot(bucket: string, windowMs = 60_000, limit = 20): CounterSlot {
  return {
    organizationId: "acme",
    bucket,
    windowMs,
    windowEnd: (Math.floor(T0 / windowMs) + 1) * windowMs,
    limit,
  };
}

async function withFile(
  body: (path: string, kv: Deno.Kv) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "parley_kv_counters_" });
  const kv = await Deno.openKv(`${dir}/kv.sqlite`);
  try {
    await body(`${dir}/kv.sqlite`, kv);
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("KvCounterStore keys counters by window end first, then window, organization and bucket", async () => {
  await withFile(async (_path, kv) => {
    const counters = new KvCounterStore(kv);
    await counters.charge([[slot("org")], [slot("org", 10_000)]]);
    const keys: Deno.KvKey[] = [];
    for await (const entry of kv.list({ prefix: ["rl"] })) keys.push(entry.key);
    assert.deepEqual(keys, [
      ["rl", Date.UTC(2026, 0, 1, 12, 0, 40), 10_000, "acme", "org"],
      ["rl", MINUTE_END, 60_000, "acme", "org"],
    ]);
  });
});

Deno.test("KvCounterStore retries while another connection holds the write lock, then gives up", async () => {
  await withFile(async (path, kv) => {
    await kv.set(["warm-up"], true);
    // A second SQLite connection plays the other `deno serve` worker.
    const rival = new DatabaseSync(path);
    try {
      const counters = new KvCounterStore(kv);
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
        const outcome = await counters.charge([[slot(`org-${holdMs}`)]]).then(
          ([outcomes]) => outcomes![0]!.admitted ? "admitted" : "rejected",
          (error: unknown) =>
            error instanceof StoreUnavailableError ? error.code : String(error),
        );
        await released;
        assert.equal(outcome, expected, `lock held ${holdMs} ms`);
      }
    } finally {
      rival.close();
    }
  });
});

Deno.test("KvCounterStore refuses a charge holding more counters than one commit may check", async () => {
  await withFile(async (_path, kv) => {
    const counters = new KvCounterStore(kv);
    const chains = Array.from({ length: 101 }, (_, i) => [slot(`ip:${i}`)]);
    await assert.rejects(counters.charge(chains), RangeError);
  });
});
