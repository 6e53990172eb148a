/**
 * Security counts on Deno KV.
 *
 * | key | value |
 * | --- | --- |
 * | `sec, organizationId, hour, metric, key, "n"` | `KvU64` count |
 * | `sec, organizationId, hour, metric, key, "t"` | `KvU64` last seen, epoch ms |
 * | `sec-capped, organizationId, hour` | {@linkcode CappedHour}: the capped metrics' counts |
 * | `sec-hours, hour, organizationId` | `null`: the hours to sweep |
 *
 * Most counts are summed in place with `sum` and `max` mutations, so hosts
 * and workers add without reading. The counts of capped keys (origins) of
 * one (organization, hour) are one value instead — at most 100 keys of at
 * most 255 characters, well inside KV's 64 KiB — rewritten by a commit that
 * checks its versionstamp: whether a new key may join, and its counts, are
 * decided in one atomic step against every other writer (one that loses the
 * race reads again). A week of them is then 168 values to read, not one
 * entry per origin and hour, so a report after a flood reads quickly.
 * Counts of capped metrics added without a cap, or written before this
 * layout, are summed entries, and read alike.
 *
 * @module
 */

import {
  addCount,
  type KeyCap,
  type SecurityCount,
  type SecurityCounterStore,
  type SumOptions,
} from "../security_counter_store.ts";
import {
  admittedKeys,
  type CappedGroup,
  cappedGroups,
  groupId,
  overflowUnheld,
} from "../security_key_cap.ts";
import { StoreUnavailableError } from "../store_unavailable_error.ts";
import { kvCall } from "./locked_retry.ts";

/** Deno KV takes at most 1000 mutations per atomic; each count makes three. */
const COUNTS_PER_COMMIT = 300;
const DELETES_PER_COMMIT = 500;
/** Commits of a capped hour lost to other writers before giving up (the tally retries). */
const MAX_CAPPED_ROUNDS = 20;
/** Entries per list round trip (KV's largest). */
const LIST_BATCH = 1000;
/**
 * A report read that sums no metric: what `readSummed()` returns then is
 * every count per hour, which is `read()`.
 */
const NOTHING_SUMMED: SumOptions = {
  metrics: [],
  fromHour: 0,
  limit: 0,
  rankBy: "",
  restKey: "",
};

/** The capped counts of one (organization, hour): key → metric → [count, last seen]. */
type CappedHour = Map<string, Map<string, [number, number]>>;

/** The security counters of one Deno KV. */
export class KvSecurityCounterStore implements SecurityCounterStore {
  readonly #kv: Deno.Kv;

  /** @param kv The store; the caller closes it. */
  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  async add(counts: readonly SecurityCount[], cap?: KeyCap): Promise<void> {
    const summed = cap === undefined
      ? counts
      : counts.filter((count) => !cap.metrics.includes(count.metric));
    for (let start = 0; start < summed.length; start += COUNTS_PER_COMMIT) {
      const chunk = summed.slice(start, start + COUNTS_PER_COMMIT);
      await kvCall("Security counters", () => {
        const op = this.#kv.atomic();
        for (const count of chunk) {
          const key = countKey(count);
          op.sum([...key, "n"], BigInt(count.count))
            .max([...key, "t"], BigInt(Math.floor(count.lastSeen)))
            .set(["sec-hours", count.hour, count.organizationId], null);
        }
        return op.commit();
      });
    }
    if (cap === undefined) return;
    const capped = counts.filter((count) => cap.metrics.includes(count.metric));
    const byHour = new Map<string, SecurityCount[]>();
    for (const count of capped) {
      const id = groupId(count.organizationId, count.hour);
      byHour.set(id, [...byHour.get(id) ?? [], count]);
    }
    for (const hourCounts of byHour.values()) {
      await this.#addCapped(hourCounts, cap);
    }
  }

  /** Adds one (organization, hour)'s capped counts, admitting new keys while there is room. */
  async #addCapped(counts: SecurityCount[], cap: KeyCap): Promise<void> {
    const { organizationId, hour } = counts[0]!;
    const key = ["sec-capped", organizationId, hour];
    const group: CappedGroup | undefined = cappedGroups(counts, cap)[0];
    for (let round = 0; round < MAX_CAPPED_ROUNDS; round++) {
      const entry = await kvCall(
        "Security counters",
        () => this.#kv.get<CappedHour>(key),
      );
      const stored: CappedHour = entry.value ?? new Map();
      const held = new Set(
        [...stored.keys()].filter((name) => name !== cap.overflowKey),
      );
      if (group !== undefined) {
        for (const name of admittedKeys(group, held, cap)) held.add(name);
      }
      const next: CappedHour = new Map(
        [...stored].map(([name, metrics]) => [name, new Map(metrics)]),
      );
      const rows = overflowUnheld(
        counts,
        cap,
        new Map([[groupId(organizationId, hour), held]]),
      );
      for (const row of rows) {
        let metrics = next.get(row.key);
        if (metrics === undefined) next.set(row.key, metrics = new Map());
        const [count, lastSeen] = metrics.get(row.metric) ?? [0, 0];
        metrics.set(row.metric, [
          count + row.count,
          Math.max(lastSeen, Math.floor(row.lastSeen)),
        ]);
      }
      const result = await kvCall("Security counters", () =>
        this.#kv.atomic()
          .check(entry)
          .set(key, next)
          .set(["sec-hours", hour, organizationId], null)
          .commit());
      if (result.ok) return;
    }
    throw new StoreUnavailableError(
      "Security counters cannot be written: too many concurrent writers",
    );
  }

  async read(
    organizationId: string,
    fromHour: number,
    toHour: number,
  ): Promise<SecurityCount[]> {
    return await this.readSummed(
      organizationId,
      fromHour,
      toHour,
      NOTHING_SUMMED,
    );
  }

  async readSummed(
    organizationId: string,
    fromHour: number,
    toHour: number,
    sum: SumOptions,
  ): Promise<SecurityCount[]> {
    return await kvCall("Security counters", async () => {
      const hourly = new Map<string, SecurityCount>();
      // metric → key → [count, last seen]: no string built per count.
      const summed = new Map<string, Map<string, [number, number]>>();
      for (const metric of sum.metrics) summed.set(metric, new Map());
      await this.#each(organizationId, fromHour, toHour, (found) => {
        const metric = summed.get(found.metric);
        if (metric === undefined) {
          addHourly(hourly, found);
        } else if (found.hour >= sum.fromHour) {
          const known = metric.get(found.key);
          if (known === undefined) {
            metric.set(found.key, [found.count, found.lastSeen]);
          } else {
            known[0] += found.count;
            if (found.lastSeen > known[1]) known[1] = found.lastSeen;
          }
        }
      });
      const sums: SecurityCount[] = [];
      for (const [metric, keys] of summed) {
        for (const [key, [count, lastSeen]] of keys) {
          sums.push({
            organizationId,
            hour: sum.fromHour,
            metric,
            key,
            count,
            lastSeen,
          });
        }
      }
      return [...hourly.values(), ...keptSums(sums, sum)];
    });
  }

  /**
   * Calls `visit` with every stored count of the hours, in parts to merge:
   * the summed entries' halves (a count, or a last-seen time), then the
   * capped hours' counts.
   */
  async #each(
    organizationId: string,
    fromHour: number,
    toHour: number,
    visit: (count: SecurityCount) => void,
  ): Promise<void> {
    const entries = this.#kv.list<Deno.KvU64>({
      start: ["sec", organizationId, fromHour],
      end: ["sec", organizationId, toHour],
    }, { batchSize: LIST_BATCH });
    for await (const { key, value } of entries) {
      const [, , hour, metric, name, field] = key;
      const isCount = field === "n";
      visit({
        organizationId,
        hour: Number(hour),
        metric: String(metric),
        key: String(name),
        count: isCount ? Number(value.value) : 0,
        lastSeen: isCount ? 0 : Number(value.value),
      });
    }
    const hours = this.#kv.list<CappedHour>({
      start: ["sec-capped", organizationId, fromHour],
      end: ["sec-capped", organizationId, toHour],
    }, { batchSize: LIST_BATCH });
    for await (const { key, value } of hours) {
      const hour = Number(key[2]);
      for (const [name, metrics] of value) {
        for (const [metric, [count, lastSeen]] of metrics) {
          visit({ organizationId, hour, metric, key: name, count, lastSeen });
        }
      }
    }
  }

  async sweep(beforeHour: number): Promise<number> {
    const hours = await kvCall("Security counters", async () => {
      const found: Deno.KvKey[] = [];
      const range = this.#kv.list({
        start: ["sec-hours"],
        end: ["sec-hours", beforeHour],
      });
      for await (const { key } of range) found.push(key);
      return found;
    });
    let deleted = 0;
    for (const indexKey of hours) {
      const organizationId = indexKey[2] as string;
      const hour = indexKey[1] as number;
      for (;;) {
        const batch = await kvCall("Security counters", async () => {
          const keys: Deno.KvKey[] = [];
          const entries = this.#kv.list({
            prefix: ["sec", organizationId, hour],
          }, { limit: DELETES_PER_COMMIT });
          for await (const { key } of entries) keys.push(key);
          return keys;
        });
        if (batch.length > 0) {
          await kvCall("Security counters", () => {
            const op = this.#kv.atomic();
            for (const key of batch) op.delete(key);
            return op.commit();
          });
          // Each count is two keys.
          deleted += batch.filter((key) => key.at(-1) === "n").length;
        }
        if (batch.length < DELETES_PER_COMMIT) break;
      }
      const cappedKey = ["sec-capped", organizationId, hour];
      const capped = await kvCall(
        "Security counters",
        () => this.#kv.get<CappedHour>(cappedKey),
      );
      await kvCall(
        "Security counters",
        () => this.#kv.atomic().delete(cappedKey).delete(indexKey).commit(),
      );
      for (const metrics of capped.value?.values() ?? []) {
        deleted += metrics.size;
      }
    }
    return deleted;
  }
}

function countKey(count: SecurityCount): Deno.KvKey {
  return ["sec", count.organizationId, count.hour, count.metric, count.key];
}

/**
 * What {@linkcode SumOptions} keeps of the summed counts: each metric's
 * `limit` highest keys and the keys kept in `rankBy`; the rest summed under
 * `restKey` per metric.
 */
function keptSums(
  summed: readonly SecurityCount[],
  sum: SumOptions,
): SecurityCount[] {
  const ranked = [...summed].sort((a, b) =>
    b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
  );
  const top = new Map<string, number>();
  const leading = new Set<string>();
  const keep = new Set<SecurityCount>();
  for (const count of ranked) {
    const rank = (top.get(count.metric) ?? 0) + 1;
    top.set(count.metric, rank);
    if (rank > sum.limit) continue;
    keep.add(count);
    if (count.metric === sum.rankBy) leading.add(count.key);
  }
  const kept: SecurityCount[] = [];
  const rest = new Map<string, SecurityCount>();
  for (const count of summed) {
    if (keep.has(count) || leading.has(count.key)) {
      kept.push(count);
      continue;
    }
    rest.set(
      count.metric,
      addCount(rest.get(count.metric), { ...count, key: sum.restKey }),
    );
  }
  return [...kept, ...rest.values()];
}

/** Adds `found` to the count of its (hour, metric, key), one organization's. */
function addHourly(
  counts: Map<string, SecurityCount>,
  found: SecurityCount,
): void {
  const id = `${found.hour}\u0000${found.metric}\u0000${found.key}`;
  counts.set(id, addCount(counts.get(id), found));
}
