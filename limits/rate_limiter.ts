/**
 * Exact rate limiting over the store's counters, within one process and
 * across every process and host that shares the store.
 *
 * ## Algorithm: fixed-window counters with per-process group commit
 *
 * Each (counter, window) is one stored count; the window is part of its
 * identity, so a count never has to expire to reset, and ended windows are
 * swept. Charges that arrive while a charge is in flight queue up; the next
 * batch goes to the store as one {@linkcode CounterStore.charge} — one commit
 * on Deno KV, one statement on PostgreSQL — which decides every charge in
 * arrival order against the stored counts, exactly, against every other
 * writer. Cost grows with batches, not requests.
 *
 * Why this one:
 * - Exact. A count only ever grows by the charges a batch admitted, decided
 *   against the stored value inside one atomic step, so two writers can
 *   never both spend one slot, and a spent counter equals its limit.
 *   Sliding-window counters interpolate and GCRA needs a float timestamp per
 *   key with the same commit cost; leased counters over-reserve across hosts.
 * - One request, one step. `chargeAll` takes a chain of limits (the IP
 *   limit, then the organization limit) and charges each only when every
 *   earlier one admitted the request, all in the same batch: a request the IP
 *   limit rejects spends nothing of its organization's budget, and no request
 *   waits for two commits. A `peek` in a chain is checked and not counted
 *   (the failed-authentication budget, spent only by failures).
 * - Floods are cheap. A fixed window that is spent stays spent until it ends
 *   (counts only grow within a window), so once a counter is seen at its
 *   limit, further charges in that window are rejected from memory without a
 *   store round trip, and stay exact.
 *
 * The cost of fixed windows: a client can spend one window's budget at its
 * end and the next at its start (up to twice the rate over a window's length
 * across a boundary). That is the documented trade for exactness per window.
 *
 * @module
 */

import type { Rate } from "../policy/types.ts";
import type {
  CounterSlot,
  CounterStore,
  SlotOutcome,
} from "../store/counter_store.ts";
import { slotId } from "../store/counter_store.ts";
import { StoreUnavailableError } from "../store/store_unavailable_error.ts";

export { StoreUnavailableError };

/** The outcome of one charge of one limit. */
export interface LimitVerdict {
  /** Whether the request is admitted (and was counted, unless a peek). */
  readonly allowed: boolean;
  /** `rate.count`. */
  readonly limit: number;
  /** Admissions left in this window after this request, ≥ 0. */
  readonly remaining: number;
  /** Milliseconds until the current window resets. */
  readonly resetMs: number;
  /** Milliseconds to wait before trying again; set when `allowed` is false. */
  readonly retryAfterMs?: number;
}

/** Which counter a limit counts in. */
export interface CounterName {
  /** The organization (or `_unknown`); leads the stored key. */
  readonly organizationId: string;
  /** What is counted, e.g. `ip:203.0.113.7` or `org`. */
  readonly bucket: string;
}

/** One limit of a {@linkcode RateLimiter.chargeAll} chain. */
export interface LimitCharge extends CounterName {
  readonly rate: Rate;
  /** Checked, not counted: refuses once the counter is spent. */
  readonly peek?: boolean;
}

/** Counts requests against per-counter rates. */
export interface RateLimiter {
  /**
   * Counts one request against one counter. A rejected request does not
   * increment it.
   *
   * @throws {StoreUnavailableError} When the store fails or stays contended.
   * @throws {RangeError} When `rate` is not a whole count per whole window.
   */
  charge(counter: CounterName, rate: Rate, now?: number): Promise<LimitVerdict>;
  /**
   * Counts one request against a chain of limits in order, all in one store
   * step: each limit is charged only when every limit before it admitted the
   * request, so a request the first limit rejects spends nothing of the next.
   *
   * @returns One verdict per limit charged: all of them when admitted, up to
   *   and including the first rejection otherwise.
   * @throws {StoreUnavailableError} When the store fails or stays contended.
   * @throws {RangeError} When a rate is not a whole count per whole window.
   */
  chargeAll(
    charges: readonly LimitCharge[],
    now?: number,
  ): Promise<LimitVerdict[]>;
  /**
   * The rejection a charge would get without asking the store, when its
   * window is already known to be spent; `undefined` otherwise. Lets a caller
   * skip work for requests that cannot be admitted.
   */
  knownSpent(
    counter: CounterName,
    rate: Rate,
    now?: number,
  ): LimitVerdict | undefined;
  /**
   * Deletes counters of windows that have ended (called periodically by the
   * server).
   *
   * @returns How many counters were deleted.
   */
  sweep(now?: number): Promise<number>;
  /** Refuses further charges; charges already queued still settle. Does not close the store. */
  close(): void;
}

/** Options of {@linkcode createRateLimiter}. */
export interface RateLimiterOptions {
  /** Most charges decided per batch; defaults to 1000. */
  readonly maxBatch?: number;
  /** Clock in epoch milliseconds; defaults to `Date.now`. */
  readonly now?: () => number;
}

/** Spent-window cache entries kept before ended windows are pruned. */
const SPENT_CACHE_LIMIT = 10_000;
const DEFAULT_MAX_BATCH = 1_000;

/**
 * Creates a rate limiter over a store's counters with fixed windows and
 * per-process group commit (see the module documentation for why).
 *
 * @param counters The store's counters; the limiter never closes them.
 * @param options Batch size and clock.
 * @returns A limiter whose verdicts are exact across every process sharing the store.
 *
 * @example Limit an IP to 20 requests a minute
 * ```ts ignore
 * const store = await openStore(":memory:");
 * const limiter = createRateLimiter(store.counters);
 * const rate = { count: 20, windowMs: 60_000, text: "20/minute" };
 * const verdict = await limiter.charge(
 *   { organizationId: "acme", bucket: "ip:203.0.113.7" },
 *   rate,
 * );
 * if (!verdict.allowed) console.log(`Retry in ${verdict.retryAfterMs} ms`);
 * ```
 */
export function createRateLimiter(
  counters: CounterStore,
  options: RateLimiterOptions = {},
): RateLimiter {
  return new GroupCommitRateLimiter(counters, options);
}

/** What is known about a counter that reached its limit. */
interface SpentWindow {
  readonly windowEnd: number;
  readonly count: number;
}

/** One queued request: its chain of slots, charged in order. */
interface PendingCharge {
  readonly slots: readonly CounterSlot[];
  readonly ids: readonly string[];
  readonly now: number;
  readonly resolve: (verdicts: LimitVerdict[]) => void;
  readonly reject: (error: unknown) => void;
}

class GroupCommitRateLimiter implements RateLimiter {
  readonly #counters: CounterStore;
  readonly #maxBatch: number;
  readonly #now: () => number;
  #queue: PendingCharge[] = [];
  #draining = false;
  #closed = false;
  /**
   * Counters seen at their limit, by slot id; exact because counts only grow
   * within a window.
   */
  readonly #spent = new Map<string, SpentWindow>();

  constructor(counters: CounterStore, options: RateLimiterOptions) {
    const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) {
      throw new RangeError(
        `Rate limiter "maxBatch" must be a positive integer, got "${maxBatch}"`,
      );
    }
    this.#counters = counters;
    this.#maxBatch = maxBatch;
    this.#now = options.now ?? Date.now;
  }

  async charge(
    counter: CounterName,
    rate: Rate,
    now: number = this.#now(),
  ): Promise<LimitVerdict> {
    const [verdict] = await this.chargeAll([{ ...counter, rate }], now);
    return verdict as LimitVerdict;
  }

  chargeAll(
    charges: readonly LimitCharge[],
    now: number = this.#now(),
  ): Promise<LimitVerdict[]> {
    if (this.#closed) {
      return Promise.reject(
        new StoreUnavailableError("Rate limiter is closed"),
      );
    }
    const at = Math.floor(now);
    let slots: CounterSlot[];
    try {
      slots = charges.map((charge) => slotOf(charge, charge.rate, at));
    } catch (error) {
      return Promise.reject(error);
    }
    if (slots.length === 0) return Promise.resolve([]);
    const ids = slots.map(slotId);
    const spent = this.#knownSpentPrefix(slots, ids, at);
    if (spent !== undefined) return Promise.resolve(spent);
    return new Promise((resolve, reject) => {
      this.#queue.push({ slots, ids, now: at, resolve, reject });
      if (!this.#draining) {
        this.#draining = true;
        void this.#drain();
      }
    });
  }

  knownSpent(
    counter: CounterName,
    rate: Rate,
    now: number = this.#now(),
  ): LimitVerdict | undefined {
    const at = Math.floor(now);
    const slot = slotOf(counter, rate, at);
    return this.#isSpent(slot, slotId(slot), at)
      ? rejection(slot.limit, slot.windowEnd - at)
      : undefined;
  }

  async sweep(now: number = this.#now()): Promise<number> {
    const at = Math.floor(now);
    for (const [id, spent] of this.#spent) {
      if (spent.windowEnd <= at) this.#spent.delete(id);
    }
    return await this.#counters.sweep(at);
  }

  close(): void {
    this.#closed = true;
  }

  #isSpent(slot: CounterSlot, id: string, at: number): boolean {
    if (slot.limit === 0) return true;
    const spent = this.#spent.get(id);
    return spent !== undefined && spent.windowEnd > at &&
      spent.count >= slot.limit;
  }

  /**
   * The verdicts of a chain whose first spent slot is known before any slot
   * ahead of it needs counting: only peeks may stand before it.
   */
  #knownSpentPrefix(
    slots: readonly CounterSlot[],
    ids: readonly string[],
    at: number,
  ): LimitVerdict[] | undefined {
    for (let index = 0; index < slots.length; index++) {
      const slot = slots[index]!;
      if (this.#isSpent(slot, ids[index]!, at)) {
        if (index > 0) return undefined;
        return [rejection(slot.limit, slot.windowEnd - at)];
      }
      if (!slot.peek) return undefined;
    }
    return undefined;
  }

  #rememberSpent(id: string, spent: SpentWindow, now: number): void {
    if (this.#spent.size >= SPENT_CACHE_LIMIT) {
      for (const [known, window] of this.#spent) {
        if (window.windowEnd <= now) this.#spent.delete(known);
      }
      // Still full of live windows: forgetting only costs store round trips.
      if (this.#spent.size >= SPENT_CACHE_LIMIT) this.#spent.clear();
    }
    this.#spent.set(id, spent);
  }

  async #drain(): Promise<void> {
    // Let a synchronous burst of charges join the first batch.
    await Promise.resolve();
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      const undecided: PendingCharge[] = [];
      for (const charge of batch) {
        const spent = this.#knownSpentPrefix(
          charge.slots,
          charge.ids,
          charge.now,
        );
        if (spent === undefined) undecided.push(charge);
        else charge.resolve(spent);
      }
      // Groups may share counters (one organization, many IPs): one after
      // another, each reads what the previous one wrote.
      const groups = groupByDistinctSlots(
        undecided,
        this.#counters.maxSlotsPerCharge,
      );
      for (const group of groups) await this.#settle(group);
    }
    this.#draining = false;
  }

  /** Decides one group of charges in one store step; never throws. */
  async #settle(group: readonly PendingCharge[]): Promise<void> {
    let outcomes: SlotOutcome[][];
    try {
      outcomes = await this.#counters.charge(
        group.map((charge) => charge.slots),
      );
    } catch (error) {
      for (const charge of group) charge.reject(error);
      return;
    }
    group.forEach((charge, index) => {
      const verdicts = (outcomes[index] ?? []).map((outcome, position) => {
        const slot = charge.slots[position]!;
        const resetMs = slot.windowEnd - charge.now;
        if (!outcome.admitted || outcome.count >= slot.limit) {
          this.#rememberSpent(
            charge.ids[position]!,
            { windowEnd: slot.windowEnd, count: outcome.count },
            charge.now,
          );
        }
        return outcome.admitted
          ? {
            allowed: true,
            limit: slot.limit,
            remaining: Math.max(0, slot.limit - outcome.count),
            resetMs,
          }
          : rejection(slot.limit, resetMs);
      });
      charge.resolve(verdicts);
    });
  }
}

/** The slot of the current window of a counter. */
function slotOf(
  counter: CounterName & { readonly peek?: boolean },
  rate: Rate,
  at: number,
): CounterSlot {
  if (
    !Number.isSafeInteger(rate.count) || rate.count < 0 ||
    !Number.isSafeInteger(rate.windowMs) || rate.windowMs < 1
  ) {
    throw new RangeError(
      `Rate "${rate.text}" needs a whole count and a whole number of milliseconds`,
    );
  }
  return {
    organizationId: counter.organizationId,
    bucket: counter.bucket,
    windowMs: rate.windowMs,
    windowEnd: (Math.floor(at / rate.windowMs) + 1) * rate.windowMs,
    limit: rate.count,
    ...(counter.peek ? { peek: true } : {}),
  };
}

/** A rejected verdict; a spent window frees up when it ends. */
function rejection(limit: number, resetMs: number): LimitVerdict {
  return {
    allowed: false,
    limit,
    remaining: 0,
    resetMs,
    retryAfterMs: resetMs,
  };
}

/**
 * Splits charges, keeping arrival order, into groups of at most `maxSlots`
 * distinct slots (a chain's slots stay together). A slot may appear in
 * several groups; groups are settled one after another.
 */
function groupByDistinctSlots(
  charges: readonly PendingCharge[],
  maxSlots: number,
): PendingCharge[][] {
  const groups: PendingCharge[][] = [];
  let group: PendingCharge[] = [];
  let ids = new Set<string>();
  for (const charge of charges) {
    const fresh = charge.ids.filter((id) => !ids.has(id));
    if (group.length > 0 && ids.size + fresh.length > maxSlots) {
      groups.push(group);
      group = [];
      ids = new Set();
    }
    group.push(charge);
    for (const id of charge.ids) ids.add(id);
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
