/**
 * Security counts on Deno KV, summed in place with `sum` and `max`
 * mutations, so hosts and workers add without reading:
 *
 * | key | value |
 * | --- | --- |
 * | `sec, organizationId, hour, metric, key, "n"` | `KvU64` count |
 * | `sec, organizationId, hour, metric, key, "t"` | `KvU64` last seen, epoch ms |
 * | `sec-hours, hour, organizationId` | `null`: the hours to sweep |
 *
 * @module
 */

import type {
  SecurityCount,
  SecurityCounterStore,
} from "../security_counter_store.ts";
import { kvCall } from "./locked_retry.ts";

/** Deno KV takes at most 1000 mutations per atomic; each count makes three. */
const COUNTS_PER_COMMIT = 300;
const DELETES_PER_COMMIT = 500;

/** The security counters of one Deno KV. */
export class KvSecurityCounterStore implements SecurityCounterStore {
  readonly #kv: Deno.Kv;

  /** @param kv The store; the caller closes it. */
  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  async add(counts: readonly SecurityCount[]): Promise<void> {
    for (let start = 0; start < counts.length; start += COUNTS_PER_COMMIT) {
      const chunk = counts.slice(start, start + COUNTS_PER_COMMIT);
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
  }

  async read(
    organizationId: string,
    fromHour: number,
    toHour: number,
  ): Promise<SecurityCount[]> {
    return await kvCall("Security counters", async () => {
      const byKey = new Map<string, SecurityCount>();
      const range = this.#kv.list<Deno.KvU64>({
        start: ["sec", organizationId, fromHour],
        end: ["sec", organizationId, toHour],
      });
      for await (const { key, value } of range) {
        const [, , hour, metric, name, field] = key;
        const id = JSON.stringify([hour, metric, name]);
        const found = byKey.get(id) ?? {
          organizationId,
          hour: Number(hour),
          metric: String(metric),
          key: String(name),
          count: 0,
          lastSeen: 0,
        };
        byKey.set(
          id,
          field === "n"
            ? { ...found, count: Number(value.value) }
            : { ...found, lastSeen: Number(value.value) },
        );
      }
      return [...byKey.values()];
    });
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
      const [, hour, organizationId] = indexKey;
      for (;;) {
        const batch = await kvCall("Security counters", async () => {
          const keys: Deno.KvKey[] = [];
          const entries = this.#kv.list({
            prefix: ["sec", organizationId as string, hour as number],
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
      await kvCall("Security counters", () => this.#kv.delete(indexKey));
    }
    return deleted;
  }
}

function countKey(count: SecurityCount): Deno.KvKey {
  return ["sec", count.organizationId, count.hour, count.metric, count.key];
}
