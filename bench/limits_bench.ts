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

Deno.bench({
  name: "naive, 1 caller",
  group: "one hot bucket, 1 caller",
  baseline: true,
  fn: async () => {
    await chargeNaively(["ip", "acme", "1.1.1.1"], UNBOUNDED);
  },
});
Deno.bench({
  name: "group commit, 1 caller",
  group: "one hot bucket, 1 caller",
  fn: async () => {
    await limiter.charge(ip("1.1.1.1"), UNBOUNDED);
  },
});

Deno.bench({
  name: "naive, 64 callers",
  group: "one hot bucket, 64 concurrent callers",
  baseline: true,
  fn: async () => {
    await callers(
      64,
      () => chargeNaively(["ip", "acme", "2.2.2.2"], UNBOUNDED),
    );
  },
});
Deno.bench({
  name: "group commit, 64 callers",
  group: "one hot bucket, 64 concurrent callers",
  fn: async () => {
    await callers(
      64,
      () => limiter.charge(ip("2.2.2.2"), UNBOUNDED),
    );
  },
});

Deno.bench({
  name: "naive, 64 callers on 64 buckets",
  group: "64 buckets, 64 concurrent callers",
  baseline: true,
  fn: async () => {
    await callers(
      64,
      (caller) => chargeNaively(["ip", "acme", caller], UNBOUNDED),
    );
  },
});
Deno.bench({
  name: "group commit, 64 callers on 64 buckets",
  group: "64 buckets, 64 concurrent callers",
  fn: async () => {
    await callers(
      64,
      (caller) => limiter.charge(ip(caller), UNBOUNDED),
    );
  },
});

Deno.bench({
  name: "naive, 64 callers on a spent bucket",
  group: "flood on a spent bucket, 64 concurrent callers",
  baseline: true,
  fn: async () => {
    await callers(64, () => chargeNaively(["ip", "acme", "6.6.6.6"], FLOOD));
  },
});
Deno.bench({
  name: "group commit, 64 callers on a spent bucket",
  group: "flood on a spent bucket, 64 concurrent callers",
  fn: async () => {
    await callers(64, () => limiter.charge(ip("6.6.6.6"), FLOOD));
  },
});
