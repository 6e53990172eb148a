/**
 * Rate-limit counters on PostgreSQL: one `charge` is one statement, a call
 * of the `parley_charge` function (see `migrations.ts`), which locks the
 * batch's counters in key order, decides every chain in arrival order with
 * the rule of `chargeChain` (`store/counter_store.ts`) and writes the new counts in the
 * statement's own transaction. Exact against every host; no read before,
 * no retry loop, and batches of two hosts never deadlock.
 *
 * @module
 */

import {
  type CounterSlot,
  type CounterStore,
  slotId,
  type SlotOutcome,
} from "../counter_store.ts";
import { BACKGROUND_DEADLINE_MS, type PgDatabase } from "./pg_database.ts";
import { ceilMs } from "./whole_ms.ts";

/** Distinct counters one statement may lock (arrays, not checks, so large). */
export const MAX_SLOTS_PER_CHARGE = 1_000;

/** Counters on one PostgreSQL database. */
export class PgCounterStore implements CounterStore {
  readonly maxSlotsPerCharge = MAX_SLOTS_PER_CHARGE;
  readonly #database: PgDatabase;

  /** @param database The store's database. */
  constructor(database: PgDatabase) {
    this.#database = database;
  }

  async charge(
    chains: readonly (readonly CounterSlot[])[],
  ): Promise<SlotOutcome[][]> {
    const counterIndex = new Map<string, number>();
    const organizationIds: string[] = [];
    const buckets: string[] = [];
    const windowMs: number[] = [];
    const windowEnds: number[] = [];
    const slotCounters: number[] = [];
    const slotLimits: number[] = [];
    const slotPeeks: boolean[] = [];
    const slotChains: number[] = [];
    chains.forEach((chain, chainIndex) => {
      for (const slot of chain) {
        const id = slotId(slot);
        let index = counterIndex.get(id);
        if (index === undefined) {
          index = organizationIds.length + 1;
          counterIndex.set(id, index);
          organizationIds.push(slot.organizationId);
          buckets.push(slot.bucket);
          windowMs.push(slot.windowMs);
          windowEnds.push(slot.windowEnd);
        }
        slotCounters.push(index);
        slotLimits.push(slot.limit);
        slotPeeks.push(slot.peek === true);
        slotChains.push(chainIndex);
      }
    });
    if (organizationIds.length > this.maxSlotsPerCharge) {
      throw new RangeError(
        `A charge holds at most "${this.maxSlotsPerCharge}" counters, got "${organizationIds.length}"`,
      );
    }
    const outcomes: SlotOutcome[][] = chains.map(() => []);
    if (organizationIds.length === 0) return outcomes;
    const rows = await this.#database.run(
      "Rate-limit counters",
      (sql) =>
        sql<{ out_chain: number; out_admitted: boolean; out_count: number }[]>`
          SELECT out_chain, out_admitted, out_count FROM parley_charge(
            ${organizationIds}::text[], ${buckets}::text[],
            ${windowMs}::bigint[], ${windowEnds}::bigint[],
            ${slotCounters}::integer[], ${slotLimits}::bigint[],
            ${
          slotPeeks.map(Number)
        }::integer[]::boolean[], ${slotChains}::integer[])`,
    );
    // Rows come in slot order, so each chain's outcomes are in chain order.
    for (const row of rows) {
      outcomes[row.out_chain]!.push({
        admitted: row.out_admitted,
        count: Number(row.out_count),
      });
    }
    return outcomes;
  }

  async sweep(now: number): Promise<number> {
    const rows = await this.#database.run(
      "Rate-limit counters",
      (sql) =>
        sql`DELETE FROM parley_counters WHERE window_end < ${ceilMs(now)}`,
      { deadlineMs: BACKGROUND_DEADLINE_MS },
    );
    return rows.count;
  }
}
