/**
 * `charge()` throughput on a Deno KV file: the group-commit limiter against a
 * naive one-commit-per-charge limiter (the baseline, defined here), at 1 and
 * 64 concurrent callers. Run: `deno bench -A bench/limits_bench.ts`.
 *
 * One iteration of a "64 callers" case settles 64 charges: divide its time
 * by 64 for the cost of one charge.
 *
 * @module
 */

import { isDatabaseLocked } from "../store/kv/locked_retry.ts";
import { KvCounterStore } from "../store/kv/kv_counter_store.ts";
import type { Rate } from "../policy/types.ts";
import { createRateLimiter } from "../limits/rate_limiter.ts";

/** Never spent, so every charge reaches KV. */
const UNBOUNDED: Rate = { count: 1e12, windowMs: 60_000, text: "1e12/minute" };
const FLOOD: Rate = { count: 20, windowMs: 60_000, text: "20/minute" };

const dir = Deno.makeTempDirSync({ prefix: "parley_limits_bench_" });
const kv = await Deno.openKv(`${dir}/kv.sqlite`);
globalThis.addEventListener("unload", () => {
  kv.close();
  Deno.removeSync(dir, { recursive: true });
});

/**
 * The baseline: read the counter, then one checked commit per charge,
 * retrying lost races and `database is locked`.
 */
async function chargeNaively(
  bucket: readonly (string | number)[],
  rate: Rate,
): Promise<boolean> {
  const windowEnd = (Math.floor(Date.now() / rate.windowMs) + 1) *
    rate.windowMs;
  const key = ["naive", windowEnd, rate.windowMs, ...bucket];
  for (;;) {
    try {
      const entry = await kv.get<number>(key);
      const count = entry.value ?? 0;
      if (count >= rate.count) return false;
      const result = await kv.atomic().check(entry).set(key, count + 1, {
        expireIn: windowEnd - Date.now() + 60_000,
      }).commit();
      if (result.ok) return true;
    } catch (error) {
      if (!isDatabaseLocked(error)) throw error;
    }
  }
}

const limiter = createRateLimiter(new KvCounterStore(kv));
const ip = (address: string | number) => ({
  organizationId: "acme",
  bucket: `ip:${address}`,
});
const callers = (count: number, charge: (caller: number) => Promise<unknown>) =>
  Promise.all(Array.from({ length: count }, (_, caller) => charge(caller)));

/**
 * Each case runs the naive limiter (its group's baseline) and the group
 * commit on the same buckets: `bucket` names the address a caller charges.
 */
const CASES: readonly {
  readonly group: string;
  readonly callers: string;
  readonly count: number;
  readonly bucket: (caller: number) => string | number;
  readonly rate: Rate;
}[] = [
  {
    group: "one hot bucket, 1 caller",
    callers: "1 caller",
    count: 1,
    bucket: () => "1.1.1.1",
    rate: UNBOUNDED,
  },
  {
    group: "one hot bucket, 64 concurrent callers",
    callers: "64 callers",
    count: 64,
    bucket: () => "2.2.2.2",
    rate: UNBOUNDED,
  },
  {
    group: "64 buckets, 64 concurrent callers",
    callers: "64 callers on 64 buckets",
    count: 64,
    bucket: (caller) => caller,
    rate: UNBOUNDED,
  },
  {
    group: "flood on a spent bucket, 64 concurrent callers",
    callers: "64 callers on a spent bucket",
    count: 64,
    bucket: () => "6.6.6.6",
    rate: FLOOD,
  },
];

for (const { group, callers: who, count, bucket, rate } of CASES) {
  Deno.bench({
    name: `naive, ${who}`,
    group,
    baseline: true,
    fn: async () => {
      await callers(
        count,
        (caller) => chargeNaively(["ip", "acme", bucket(caller)], rate),
      );
    },
  });
  Deno.bench({
    name: `group commit, ${who}`,
    group,
    fn: async () => {
      await callers(
        count,
        (caller) => limiter.charge(ip(bucket(caller)), rate),
      );
    },
  });
}
