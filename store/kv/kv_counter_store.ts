/**
 * Rate-limit counters on Deno KV. A counter lives under
 * `["rl", windowEnd, windowMs, organizationId, bucket]`: the window end first,
 * so `sweep` finds ended windows with one bounded range scan, and the window
 * in the key, so a new window is a new counter and `expireIn` is only a
 * cleanup hint (it is a lower bound, and expired keys stay readable).
 *
 * One `charge` is one `atomic()` that `check()`s the versionstamp of every
 * counter it writes, so two writers can never both spend one slot: when
 * another process committed first (or SQLite throws `database is locked`),
 * the charge reads again and decides again, with a small jittered backoff,
 * for at most two seconds.
 *
 * No read before most commits: this process remembers each counter as it
 * last wrote it and checks against that. If another process wrote since, the
 * check fails, and for a second the store reads first (a KV read costs about
 * as much as a commit, so this halves the work of a lone writer).
 *
 * @module
 */

import {
  chargeChain,
  type CounterSlot,
  type CounterStore,
  slotId,
  type SlotOutcome,
} from "../counter_store.ts";
import { StoreUnavailableError } from "../store_unavailable_error.ts";
import { BatchedReads } from "./batched_reads.ts";
import { isDatabaseLocked, jitteredBackoff } from "./locked_retry.ts";

/** Deno KV refuses an atomic operation with more checks than this. */
export const MAX_CHECKS_PER_COMMIT = 100;
/** Deletions per atomic in `sweep()`, well under the 1000-mutation limit. */
const DELETES_PER_COMMIT = 500;
/** How long lock contention is retried before the store counts as unavailable. */
const CONTENTION_BUDGET_MS = 2_000;
/** Longest pause between retries; keeps latency low once the lock frees. */
const MAX_BACKOFF_MS = 4;
/** Kept past the window's end so clock skew between processes cannot reset a counter. */
const EXPIRY_MARGIN_MS = 60_000;
/** How long to read first after another process won a commit race. */
const CONTENTION_COOLDOWN_MS = 1_000;
/** Known counter entries kept before the cache starts over (one per live bucket). */
const KNOWN_CACHE_LIMIT = 50_000;

/** A slot with its key. */
interface KeyedSlot {
  readonly slot: CounterSlot;
  readonly key: Deno.KvKey;
}

/** Counters on one Deno KV, exact across every process that opens it. */
export class KvCounterStore implements CounterStore {
  readonly maxSlotsPerCharge = MAX_CHECKS_PER_COMMIT;
  readonly #kv: Deno.Kv;
  readonly #reads: BatchedReads;
  readonly #now: () => number;
  /** Counters as this process last read or wrote them, by slot id. */
  readonly #known = new Map<string, Deno.KvEntryMaybe<unknown>>();
  /** Until when (`performance.now()`) known entries are not trusted. */
  #contendedUntil = 0;

  /**
   * @param kv The store; the caller closes it.
   * @param now Clock for expiry hints, epoch milliseconds.
   */
  constructor(kv: Deno.Kv, now: () => number = Date.now) {
    this.#kv = kv;
    this.#reads = new BatchedReads(kv);
    this.#now = now;
  }

  async charge(
    chains: readonly (readonly CounterSlot[])[],
  ): Promise<SlotOutcome[][]> {
    const slots = new Map<string, KeyedSlot>();
    for (const chain of chains) {
      for (const slot of chain) {
        const id = slotId(slot);
        if (!slots.has(id)) slots.set(id, { slot, key: counterKey(slot) });
      }
    }
    if (slots.size > this.maxSlotsPerCharge) {
      throw new RangeError(
        `A charge holds at most "${this.maxSlotsPerCharge}" counters, got "${slots.size}"`,
      );
    }
    let outcomes: SlotOutcome[][] = [];
    let attempt = 0;
    try {
      await this.#retry(async () => {
        const trustKnown = attempt++ === 0 &&
          performance.now() >= this.#contendedUntil;
        const entries = await this.#entries(slots, trustKnown);
        const counts = new Map<string, number>();
        for (const [id, entry] of entries) counts.set(id, countOf(entry));
        outcomes = chains.map((chain) => chargeChain(chain, counts));
        // Every counter decided on is checked, written or not (a peek), so
        // a decision made on a stale entry cannot commit.
        const op = this.#kv.atomic();
        const written: string[] = [];
        const now = this.#now();
        for (const [id, { slot, key }] of slots) {
          const entry = entries.get(id)!;
          op.check(entry);
          const count = counts.get(id) ?? 0;
          if (count === countOf(entry)) continue;
          op.set(key, count, {
            expireIn: Math.max(1, slot.windowEnd - now) + EXPIRY_MARGIN_MS,
          });
          written.push(id);
        }
        // Only refusals: stale counts cannot make them wrong (counts never
        // fall within a window), so there is nothing to commit.
        const admitted = outcomes.some((chain) =>
          chain.some((outcome) => outcome.admitted)
        );
        if (written.length === 0 && !admitted) {
          for (const [id, entry] of entries) this.#known.set(id, entry);
          return true;
        }
        const result = await op.commit();
        if (!result.ok) {
          for (const id of slots.keys()) this.#known.delete(id);
          // Another process writes these counters too: while it does, read
          // before committing rather than lose a commit to a stale cache.
          this.#contendedUntil = performance.now() + CONTENTION_COOLDOWN_MS;
          return false;
        }
        for (const [id, entry] of entries) this.#known.set(id, entry);
        for (const id of written) {
          this.#known.set(id, {
            key: slots.get(id)!.key,
            value: counts.get(id),
            versionstamp: result.versionstamp,
          });
        }
        return true;
      });
    } catch (error) {
      for (const id of slots.keys()) this.#known.delete(id);
      throw error;
    }
    return outcomes;
  }

  async sweep(now: number): Promise<number> {
    const at = Math.floor(now);
    for (const [id, entry] of this.#known) {
      // Keys hold the window end right after "rl".
      if (Number(entry.key[1]) <= at) this.#known.delete(id);
    }
    let deleted = 0;
    let doomed: Deno.KvKey[] = [];
    const remove = async (keys: readonly Deno.KvKey[]) => {
      await this.#retry(async () => {
        const op = this.#kv.atomic();
        for (const key of keys) op.delete(key);
        return (await op.commit()).ok;
      });
      deleted += keys.length;
    };
    try {
      // Keys sort by window end first, so this range holds ended windows only.
      const ended = this.#kv.list({ start: ["rl"], end: ["rl", at] });
      for await (const entry of ended) {
        doomed.push(entry.key);
        if (doomed.length === DELETES_PER_COMMIT) {
          await remove(doomed);
          doomed = [];
        }
      }
    } catch (error) {
      throw asUnavailable(error);
    }
    if (doomed.length > 0) await remove(doomed);
    return deleted;
  }

  async #entries(
    slots: ReadonlyMap<string, KeyedSlot>,
    trustKnown: boolean,
  ): Promise<Map<string, Deno.KvEntryMaybe<unknown>>> {
    const entries = new Map<string, Deno.KvEntryMaybe<unknown>>();
    const unknown: [string, Deno.KvKey][] = [];
    for (const [id, { key }] of slots) {
      const known = trustKnown ? this.#known.get(id) : undefined;
      if (known === undefined) unknown.push([id, key]);
      else entries.set(id, known);
    }
    const read = await Promise.all(
      unknown.map(([, key]) => this.#reads.get(key)),
    );
    unknown.forEach(([id], index) => entries.set(id, read[index]!));
    if (this.#known.size > KNOWN_CACHE_LIMIT) this.#known.clear();
    return entries;
  }

  /**
   * Runs `attempt` until it reports success, retrying lost races and
   * `database is locked` with jittered backoff for a bounded time.
   */
  async #retry(attempt: () => Promise<boolean>): Promise<void> {
    const started = performance.now();
    for (let tries = 0;; tries++) {
      let lockError: unknown;
      try {
        if (await attempt()) return;
      } catch (error) {
        if (!isDatabaseLocked(error)) throw asUnavailable(error);
        lockError = error;
      }
      if (performance.now() - started > CONTENTION_BUDGET_MS) {
        throw new StoreUnavailableError(
          `Rate-limit counters stayed contended for over "${CONTENTION_BUDGET_MS}" ms`,
          { cause: lockError },
        );
      }
      await jitteredBackoff(tries, 1, MAX_BACKOFF_MS);
    }
  }
}

function counterKey(slot: CounterSlot): Deno.KvKey {
  return [
    "rl",
    slot.windowEnd,
    slot.windowMs,
    slot.organizationId,
    slot.bucket,
  ];
}

/** A counter's value; a missing key is a fresh window. */
function countOf(entry: Deno.KvEntryMaybe<unknown>): number {
  return typeof entry.value === "number" ? entry.value : 0;
}

function asUnavailable(error: unknown): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(
    `Rate-limit counters cannot be read or written: ${reason}`,
    { cause: error },
  );
}
