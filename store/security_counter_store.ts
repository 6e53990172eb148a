/**
 * The security-counter port: per-organization counts of what the security
 * report shows (boots by token state, keys used, refusals by reason, origins
 * seen), in hourly buckets that hosts add to and nobody overwrites.
 *
 * Some metrics take keys a client chooses (a page's origin). They are capped:
 * each (organization, hour) holds at most a fixed number of distinct such
 * keys, decided by the store atomically against every other writer, so no
 * number of flushes, processes or hosts grows it; what comes after counts
 * under one overflow key. Reading sums them over the window in the store and
 * returns the few keys a report lists, so a read stays small however many
 * hours of keys are kept.
 *
 * @module
 */

/** One counted thing in one hour. */
export interface SecurityCount {
  /** The organization counted. */
  readonly organizationId: string;
  /** Start of the hour, epoch milliseconds. */
  readonly hour: number;
  /** What is counted, e.g. `boot`, `key`, `invalid`, `origin`. */
  readonly metric: string;
  /** Which one, e.g. `verified`, a key id, a reason, an origin. */
  readonly key: string;
  /** How many times. */
  readonly count: number;
  /** The latest time it was seen, epoch milliseconds. */
  readonly lastSeen: number;
}

/**
 * The cap on keys a client chooses: per (organization, hour), at most
 * `maxKeys` distinct keys over `metrics` (a key counts once, whichever of the
 * metrics it is in); counts of any further key are added under `overflowKey`
 * instead, which does not count towards the cap.
 */
export interface KeyCap {
  /** The metrics whose keys a client chooses (and which share the cap). */
  readonly metrics: readonly string[];
  /** Distinct keys each (organization, hour) may hold. */
  readonly maxKeys: number;
  /** Where the counts of keys past the cap go. */
  readonly overflowKey: string;
}

/**
 * How {@linkcode SecurityCounterStore.readSummed} folds the capped metrics:
 * summed per key over `fromHour` ≤ hour < the read's `toHour`, and only the
 * keys a report lists.
 */
export interface SumOptions {
  /** The metrics summed per key instead of read per hour. */
  readonly metrics: readonly string[];
  /** The first hour summed; these metrics' earlier hours are not read. */
  readonly fromHour: number;
  /** Keys kept per metric: the highest sums, ties by key (byte order). */
  readonly limit: number;
  /** The metric whose kept keys are kept in the other metrics too. */
  readonly rankBy: string;
  /** The key under which each metric's other keys are summed. */
  readonly restKey: string;
}

/**
 * One thing counted twice, as one count: the counts summed, the later
 * `lastSeen` kept. How a store adds a count to what it holds, and how a
 * writer folds counts before they reach a store.
 *
 * @param held The count held so far, if any.
 * @param count The count to add; it names the same thing as `held`.
 * @returns The sum.
 */
export function addCount(
  held: SecurityCount | undefined,
  count: SecurityCount,
): SecurityCount {
  if (held === undefined) return count;
  return {
    ...held,
    count: held.count + count.count,
    lastSeen: Math.max(held.lastSeen, count.lastSeen),
  };
}

/** Hourly security counts of every organization. */
export interface SecurityCounterStore {
  /**
   * Adds counts: `count`s are summed into what is stored, `lastSeen` is the
   * later of the two. With `cap`, a key of a capped metric that its
   * (organization, hour) does not hold yet is admitted only while fewer than
   * `cap.maxKeys` are held, decided atomically against every other writer;
   * the counts of keys not admitted are added under `cap.overflowKey`.
   */
  add(counts: readonly SecurityCount[], cap?: KeyCap): Promise<void>;
  /** The organization's counts of hours `fromHour` ≤ hour < `toHour`. */
  read(
    organizationId: string,
    fromHour: number,
    toHour: number,
  ): Promise<SecurityCount[]>;
  /**
   * The organization's counts of hours `fromHour` ≤ hour < `toHour` for a
   * report: other metrics as {@linkcode read} returns them; `sum.metrics`
   * summed per key from `sum.fromHour` (one count per metric and key, dated
   * `sum.fromHour`, `lastSeen` the latest), keeping in each metric its
   * `sum.limit` highest keys and the keys kept in `sum.rankBy`, and adding
   * every other key's count under `sum.restKey` (absent when nothing is left).
   */
  readSummed(
    organizationId: string,
    fromHour: number,
    toHour: number,
    sum: SumOptions,
  ): Promise<SecurityCount[]>;
  /**
   * Deletes every organization's counts of hours before `beforeHour`.
   *
   * @returns How many were deleted.
   */
  sweep(beforeHour: number): Promise<number>;
}
