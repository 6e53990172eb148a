/**
 * Exact rate limiting on Deno KV, within one process and across the workers
 * of `deno serve --parallel` that share one KV file.
 *
 * ## Algorithm: fixed-window counters with per-process group commit
 *
 * Each (bucket, window) has one counter under
 * `[...prefix, "rl", windowEnd, windowMs, ...bucket]`. The window is part of
 * the key, so a counter never has to expire to reset: a new window is a new
 * key, and `expireIn` is only a hint (it is a lower bound, and expired keys
 * stay readable for a while). `sweep()` deletes counters of ended windows;
 * putting `windowEnd` first lets it find them with one bounded range scan.
 *
 * Charges that arrive while a commit is in flight queue up. The next batch
 * does one `getMany` per ten distinct keys, decides every charge in arrival
 * order against the counts it read, and writes the new counts in one
 * `atomic()` that `check()`s the versionstamp of every counter it writes.
 * When another process committed first (`ok: false`) or SQLite throws
 * `database is locked`, the batch re-reads and decides again, with a small
 * jittered backoff, for at most two seconds before giving up with
 * {@linkcode StoreUnavailableError}.
 *
 * Why this one:
 * - Exact. A counter is only ever written as "the value read + the charges
 *   admitted", guarded by the versionstamp of that read, so two writers can
 *   never both spend the same slot. Only admitted charges increment, so a
 *   spent counter never grows and equals the limit. Sliding-window counters
 *   interpolate and GCRA needs a float timestamp per key with the same
 *   commit cost; leased counters over-reserve across processes.
 * - Fast. One commit serves a whole batch, so cost grows with the number of
 *   distinct hot keys, not with the number of requests; a one-commit-per-
 *   request limiter on a shared SQLite file reaches a few percent of bare
 *   `Deno.serve` throughput (see `bench/limits_bench.ts`).
 * - No read before most commits. A process remembers each counter as it
 *   last wrote it (value and versionstamp) and checks against that; if
 *   another process wrote since, the check fails, the batch re-reads, and for
 *   a second the process reads first (a KV read costs about as much as a
 *   commit, so this halves the work of a lone writer).
 * - One request, one commit. `chargeAll` takes a chain of limits (the
 *   server's IP limit, then its organization limit) and charges each only
 *   when every earlier one admitted the request, all in the same batch: a
 *   request the IP limit rejects spends nothing of its organization's budget,
 *   and no request waits for two commits.
 * - Batches are split to fit Deno KV's limits (10 keys per `getMany`, 100
 *   checks per atomic): a group holds at most 100 distinct counters, read
 *   with up to ten `getMany` calls, and groups settle one after another (they
 *   may share an organization's counter). Reads need not be one snapshot: a
 *   chain is decided on the values read, and the atomic's check on every
 *   counter it writes is what makes the write exact.
 * - Floods are cheap. A fixed window that is spent stays spent until it ends
 *   (counters only grow within a window), so once a counter is seen at its
 *   limit, further charges in that window are rejected from a local cache
 *   without a KV round trip, and stay exact.
 *
 * The cost of fixed windows: a client can spend one window's budget at its
 * end and the next at its start (up to twice the rate over a window's
 * length across a boundary). That is the documented trade for exactness
 * per window.
 *
 * @module
 */

import type { Rate } from "../policy/types.ts";
import { BatchedReads } from "../store/batched_reads.ts";
import { isDatabaseLocked, jitteredBackoff } from "../store/locked_retry.ts";
import { StoreUnavailableError } from "../store/store_unavailable_error.ts";

export { StoreUnavailableError };

/** The outcome of one {@linkcode RateLimiter.charge}. */
export interface LimitVerdict {
  /** Whether the request is admitted (and was counted). */
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

/** One limit of a {@linkcode RateLimiter.chargeAll} chain. */
export interface LimitCharge {
  /** The bucket, e.g. `["ip", orgId, ip]` or `["org", orgId]`. */
  readonly bucket: readonly (string | number)[];
  readonly rate: Rate;
}

/** Counts requests against per-bucket rates on Deno KV. */
export interface RateLimiter {
  /**
   * Counts one request against `bucket` (e.g. `["ip", orgId, ip]` or
   * `["org", orgId]`). A rejected request does not increment the counter.
   *
   * @throws {StoreUnavailableError} When KV fails or stays locked.
   * @throws {RangeError} When `rate` is not a whole count per whole window.
   */
  charge(
    bucket: readonly (string | number)[],
    rate: Rate,
    now?: number,
  ): Promise<LimitVerdict>;
  /**
   * Counts one request against a chain of limits in order, all in one
   * commit: each limit is charged only when every limit before it admitted
   * the request, so a request the first limit rejects spends nothing of the
   * next one.
   *
   * @returns One verdict per limit charged: all of them when admitted, up to
   *   and including the first rejection otherwise.
   * @throws {StoreUnavailableError} When KV fails or stays locked.
   * @throws {RangeError} When a rate is not a whole count per whole window.
   */
  chargeAll(
    charges: readonly LimitCharge[],
    now?: number,
  ): Promise<LimitVerdict[]>;
  /**
   * The rejection a charge would get without asking KV, when its window is
   * already known to be spent; `undefined` otherwise. Lets a caller skip work
   * for requests that cannot be admitted.
   */
  knownSpent(
    bucket: readonly (string | number)[],
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
  /** Refuses further charges; charges already queued still settle. Does not close the KV. */
  close(): void;
}

/** Options of {@linkcode createRateLimiter}. */
export interface RateLimiterOptions {
  /** Key prefix in front of `"rl"`; defaults to none. */
  readonly prefix?: readonly string[];
  /** Most charges decided per batch; defaults to 1000. */
  readonly maxBatch?: number;
  /** Clock in epoch milliseconds; defaults to `Date.now`. */
  readonly now?: () => number;
}

/** Deno KV refuses an atomic operation with more checks than this. */
const MAX_CHECKS_PER_COMMIT = 100;
/** Deletions per atomic in `sweep()`, well under the 1000-mutation limit. */
const DELETES_PER_COMMIT = 500;
/** How long lock contention is retried before the store counts as unavailable. */
const CONTENTION_BUDGET_MS = 2_000;
/** Longest pause between retries; keeps latency low once the lock frees. */
const MAX_BACKOFF_MS = 4;
/** Kept past the window's end so clock skew between processes cannot reset a counter. */
const EXPIRY_MARGIN_MS = 60_000;
/** Spent-window cache entries kept before ended windows are pruned. */
const SPENT_CACHE_LIMIT = 10_000;
const DEFAULT_MAX_BATCH = 1_000;
/** How long to read first after another process won a commit race. */
const CONTENTION_COOLDOWN_MS = 1_000;
/** Known counter entries kept before the cache starts over (one per live bucket). */
const KNOWN_CACHE_LIMIT = 50_000;

/**
 * Creates a rate limiter over `kv` with fixed-window counters and
 * per-process group commit (see the module documentation for why).
 *
 * @param kv An open store; the limiter never closes it.
 * @param options Key prefix, batch size and clock.
 * @returns A limiter whose verdicts are exact across every process sharing `kv`.
 *
 * @example Limit an IP to 20 requests a minute
 * ```ts ignore
 * const limiter = createRateLimiter(await openStore(":memory:"));
 * const rate = { count: 20, windowMs: 60_000, text: "20/minute" };
 * const verdict = await limiter.charge(["ip", "acme", "203.0.113.7"], rate);
 * if (!verdict.allowed) console.log(`Retry in ${verdict.retryAfterMs} ms`);
 * ```
 */
export function createRateLimiter(
  kv: Deno.Kv,
  options: RateLimiterOptions = {},
): RateLimiter {
  return new GroupCommitRateLimiter(kv, options);
}

/** One counter a charge touches. */
interface Counter {
  readonly key: Deno.KvKey;
  /** `key` as a string, for maps. */
  readonly id: string;
  readonly limit: number;
  readonly windowEnd: number;
}

/** One queued request: its chain of counters, charged in order. */
interface PendingCharge {
  readonly counters: readonly Counter[];
  readonly now: number;
  readonly resolve: (verdicts: LimitVerdict[]) => void;
  readonly reject: (error: unknown) => void;
}

/** What is known about a counter that reached its limit. */
interface SpentWindow {
  readonly count: number;
  readonly windowEnd: number;
}

class GroupCommitRateLimiter implements RateLimiter {
  readonly #kv: Deno.Kv;
  /** Counter reads, ten keys per `getMany`. */
  readonly #reads: BatchedReads;
  readonly #prefix: readonly string[];
  readonly #maxBatch: number;
  readonly #now: () => number;
  #queue: PendingCharge[] = [];
  #draining = false;
  #closed = false;
  /** Counters seen at or past a limit; exact because they only grow in a window. */
  readonly #spent = new Map<string, SpentWindow>();
  /**
   * Counters as this process last read or wrote them. A batch checks against
   * these instead of reading first (a read costs about as much as a commit);
   * if another process wrote since, the check fails and the batch re-reads.
   */
  readonly #known = new Map<string, Deno.KvEntryMaybe<unknown>>();
  /** Until when (`performance.now()`) known entries are not trusted. */
  #contendedUntil = 0;

  constructor(kv: Deno.Kv, options: RateLimiterOptions) {
    const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) {
      throw new RangeError(
        `Rate limiter "maxBatch" must be a positive integer, got "${maxBatch}"`,
      );
    }
    this.#kv = kv;
    this.#reads = new BatchedReads(kv);
    this.#prefix = [...(options.prefix ?? [])];
    this.#maxBatch = maxBatch;
    this.#now = options.now ?? Date.now;
  }

  async charge(
    bucket: readonly (string | number)[],
    rate: Rate,
    now: number = this.#now(),
  ): Promise<LimitVerdict> {
    const [verdict] = await this.chargeAll([{ bucket, rate }], now);
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
    let counters: Counter[];
    try {
      counters = charges.map(({ bucket, rate }) =>
        this.#counter(bucket, rate, at)
      );
    } catch (error) {
      return Promise.reject(error);
    }
    const first = counters[0];
    if (first === undefined) return Promise.resolve([]);
    if (this.#isSpent(first)) {
      return Promise.resolve([rejection(first.limit, first.windowEnd - at)]);
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ counters, now: at, resolve, reject });
      if (!this.#draining) {
        this.#draining = true;
        void this.#drain();
      }
    });
  }

  knownSpent(
    bucket: readonly (string | number)[],
    rate: Rate,
    now: number = this.#now(),
  ): LimitVerdict | undefined {
    const at = Math.floor(now);
    const counter = this.#counter(bucket, rate, at);
    return this.#isSpent(counter)
      ? rejection(counter.limit, counter.windowEnd - at)
      : undefined;
  }

  async sweep(now: number = this.#now()): Promise<number> {
    const at = Math.floor(now);
    for (const [id, spent] of this.#spent) {
      if (spent.windowEnd <= at) this.#spent.delete(id);
    }
    for (const [id, entry] of this.#known) {
      // Keys hold the window end right after the prefix and "rl".
      if (Number(entry.key[this.#prefix.length + 1]) <= at) {
        this.#known.delete(id);
      }
    }
    const prefix = [...this.#prefix, "rl"];
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
      const ended = this.#kv.list({ start: prefix, end: [...prefix, at] });
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

  close(): void {
    this.#closed = true;
  }

  #counter(
    bucket: readonly (string | number)[],
    rate: Rate,
    at: number,
  ): Counter {
    if (
      !Number.isSafeInteger(rate.count) || rate.count < 0 ||
      !Number.isSafeInteger(rate.windowMs) || rate.windowMs < 1
    ) {
      throw new RangeError(
        `Rate "${rate.text}" needs a whole count and a whole number of milliseconds`,
      );
    }
    const windowEnd = (Math.floor(at / rate.windowMs) + 1) * rate.windowMs;
    const key = [...this.#prefix, "rl", windowEnd, rate.windowMs, ...bucket];
    return { key, id: JSON.stringify(key), limit: rate.count, windowEnd };
  }

  #isSpent(counter: Counter): boolean {
    if (counter.limit === 0) return true;
    const spent = this.#spent.get(counter.id);
    return spent !== undefined && spent.count >= counter.limit;
  }

  #rememberSpent(id: string, spent: SpentWindow, now: number): void {
    if (this.#spent.size >= SPENT_CACHE_LIMIT) {
      for (const [known, window] of this.#spent) {
        if (window.windowEnd <= now) this.#spent.delete(known);
      }
      // Still full of live windows: forgetting only costs KV round trips.
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
        const first = charge.counters[0] as Counter;
        if (this.#isSpent(first)) {
          charge.resolve([
            rejection(first.limit, first.windowEnd - charge.now),
          ]);
        } else {
          undecided.push(charge);
        }
      }
      // Groups may share counters (one organization, many IPs): one after
      // another, each reads what the previous one wrote.
      for (
        const group of groupByDistinctKeys(undecided, MAX_CHECKS_PER_COMMIT)
      ) {
        await this.#settle(group);
      }
    }
    this.#draining = false;
  }

  /** Decides one group of charges (at most 100 distinct counters); never throws. */
  async #settle(group: readonly PendingCharge[]): Promise<void> {
    const counters = new Map<string, Counter & { readonly now: number }>();
    for (const charge of group) {
      for (const counter of charge.counters) {
        if (!counters.has(counter.id)) {
          counters.set(counter.id, { ...counter, now: charge.now });
        }
      }
    }
    let verdicts: LimitVerdict[][] = [];
    let counts = new Map<string, number>();
    try {
      let attempt = 0;
      await this.#retry(async () => {
        const entries = await this.#entries(
          counters,
          attempt++ === 0 && performance.now() >= this.#contendedUntil,
        );
        counts = new Map();
        for (const [id, entry] of entries) counts.set(id, countOf(entry));
        verdicts = group.map((charge) => decideChain(charge, counts));
        const op = this.#kv.atomic();
        let writes = 0;
        for (const [id, counter] of counters) {
          const entry = entries.get(id);
          const count = counts.get(id) ?? 0;
          if (entry === undefined || count === countOf(entry)) continue;
          op.check(entry).set(counter.key, count, {
            expireIn: counter.windowEnd - counter.now + EXPIRY_MARGIN_MS,
          });
          writes++;
        }
        const result = writes === 0 ? undefined : await op.commit();
        if (result !== undefined && !result.ok) {
          for (const id of counters.keys()) this.#known.delete(id);
          // Another process writes these counters too: while it does, read
          // before committing rather than lose a commit to a stale cache.
          this.#contendedUntil = performance.now() + CONTENTION_COOLDOWN_MS;
          return false;
        }
        for (const [id, counter] of counters) {
          const entry = entries.get(id);
          const count = counts.get(id) ?? 0;
          this.#known.set(
            id,
            result === undefined ||
              (entry !== undefined && count === countOf(entry))
              ? entry as Deno.KvEntryMaybe<unknown>
              : {
                key: counter.key,
                value: count,
                versionstamp: result.versionstamp,
              },
          );
        }
        return true;
      });
    } catch (error) {
      for (const id of counters.keys()) this.#known.delete(id);
      for (const charge of group) charge.reject(error);
      return;
    }
    for (const [id, counter] of counters) {
      const count = counts.get(id) ?? 0;
      if (count >= counter.limit) {
        this.#rememberSpent(
          id,
          { count, windowEnd: counter.windowEnd },
          counter.now,
        );
      }
    }
    group.forEach((charge, index) => charge.resolve(verdicts[index] ?? []));
  }

  /**
   * The counters' current entries: on a first attempt those this process
   * knows, reading only the rest; on a retry, everything fresh from KV.
   */
  async #entries(
    counters: ReadonlyMap<string, Counter>,
    trustKnown: boolean,
  ): Promise<Map<string, Deno.KvEntryMaybe<unknown>>> {
    const entries = new Map<string, Deno.KvEntryMaybe<unknown>>();
    const unknown: [string, Counter][] = [];
    for (const [id, counter] of counters) {
      const known = trustKnown ? this.#known.get(id) : undefined;
      if (known === undefined) unknown.push([id, counter]);
      else entries.set(id, known);
    }
    const read = await Promise.all(
      unknown.map(([, counter]) => this.#reads.get(counter.key)),
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

/**
 * Charges one request's chain against the running counts, in order, stopping
 * at the first limit that rejects it; admitted limits increment `counts`.
 */
function decideChain(
  charge: PendingCharge,
  counts: Map<string, number>,
): LimitVerdict[] {
  const verdicts: LimitVerdict[] = [];
  for (const counter of charge.counters) {
    const count = counts.get(counter.id) ?? 0;
    const resetMs = counter.windowEnd - charge.now;
    if (count >= counter.limit) {
      verdicts.push(rejection(counter.limit, resetMs));
      break;
    }
    counts.set(counter.id, count + 1);
    verdicts.push({
      allowed: true,
      limit: counter.limit,
      remaining: counter.limit - count - 1,
      resetMs,
    });
  }
  return verdicts;
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

/** A counter's value; a missing key is a fresh window. */
function countOf(entry: Deno.KvEntryMaybe<unknown>): number {
  return typeof entry.value === "number" ? entry.value : 0;
}

/**
 * Splits charges, keeping arrival order, into groups of at most `maxKeys`
 * distinct counters (a chain's counters stay together). A counter may appear
 * in several groups; groups are settled one after another.
 */
function groupByDistinctKeys(
  charges: readonly PendingCharge[],
  maxKeys: number,
): PendingCharge[][] {
  const groups: PendingCharge[][] = [];
  let group: PendingCharge[] = [];
  let keys = new Set<string>();
  for (const charge of charges) {
    const fresh = charge.counters.filter((counter) => !keys.has(counter.id));
    if (group.length > 0 && keys.size + fresh.length > maxKeys) {
      groups.push(group);
      group = [];
      keys = new Set();
    }
    group.push(charge);
    for (const counter of charge.counters) keys.add(counter.id);
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

function asUnavailable(error: unknown): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(
    `Rate-limit counters cannot be read or written: ${reason}`,
    { cause: error },
  );
}
