/**
 * The security-counter port: per-organization counts of what the security
 * report shows (boots by token state, keys used, refusals by reason, origins
 * seen), in hourly buckets that hosts add to and nobody overwrites.
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

/** Hourly security counts of every organization. */
export interface SecurityCounterStore {
  /**
   * Adds counts: `count`s are summed into what is stored, `lastSeen` is the
   * later of the two.
   */
  add(counts: readonly SecurityCount[]): Promise<void>;
  /** The organization's counts of hours `fromHour` ≤ hour < `toHour`. */
  read(
    organizationId: string,
    fromHour: number,
    toHour: number,
  ): Promise<SecurityCount[]>;
  /**
   * Deletes every organization's counts of hours before `beforeHour`.
   *
   * @returns How many were deleted.
   */
  sweep(beforeHour: number): Promise<number>;
}
