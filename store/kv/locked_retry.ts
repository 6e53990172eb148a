/**
 * Retrying Deno KV calls that fail with `database is locked`, which SQLite
 * raises when several processes (`deno serve --parallel`) write one file.
 *
 * @module
 */

import { StoreDataError } from "../store_data_error.ts";
import { StoreUnavailableError } from "../store_unavailable_error.ts";

/** Bounds of {@linkcode retryWhileLocked}. */
export interface LockedRetryOptions {
  /** Attempts in all, the first included (default 8). */
  readonly maxAttempts?: number;
  /** First backoff, milliseconds; doubled per attempt, jittered (default 5). */
  readonly baseDelayMs?: number;
  /** Longest single backoff, milliseconds (default 250). */
  readonly maxDelayMs?: number;
}

/**
 * Whether an error is SQLite's transient lock contention.
 *
 * @param error Anything thrown by a Deno KV call.
 * @returns `true` for `database is locked` / `database is busy`.
 */
export function isDatabaseLocked(error: unknown): boolean {
  return error instanceof Error &&
    /database (?:table )?is (?:locked|busy)/i.test(error.message);
}

/**
 * Runs `operation`, retrying it with jittered exponential backoff while it
 * throws `database is locked`; any other error, or the last locked error,
 * is rethrown.
 *
 * @param operation The KV call; it must be safe to repeat.
 * @param options Retry bounds.
 * @returns What `operation` returns.
 * @throws The error of the last attempt.
 */
export async function retryWhileLocked<T>(
  operation: () => Promise<T>,
  options: LockedRetryOptions = {},
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 8;
  const baseDelayMs = options.baseDelayMs ?? 5;
  const maxDelayMs = options.maxDelayMs ?? 250;
  for (let attempt = 1;; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (attempt >= maxAttempts || !isDatabaseLocked(error)) throw error;
      await jitteredBackoff(attempt - 1, baseDelayMs, maxDelayMs);
    }
  }
}

/**
 * Sleeps a random time up to `min(maxMs, baseMs × 2^retry)` ("full jitter"):
 * processes that collided once should not collide again.
 *
 * @param retry 0 for the first retry.
 * @param baseMs The first ceiling.
 * @param maxMs The largest ceiling.
 * @returns When the time is up.
 */
export function jitteredBackoff(
  retry: number,
  baseMs: number,
  maxMs: number,
): Promise<void> {
  const ceiling = Math.min(maxMs, baseMs * 2 ** retry);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

/**
 * Runs one KV call of a store part, retrying while SQLite is locked; any
 * failure left is the store's, and is reported as such — except a
 * `TypeError`, which is Deno KV refusing a value or key (too large, of a
 * type it cannot hold), not an outage.
 *
 * @param part What is read or written, for the message (`"Presence"`).
 * @param operation The KV call; it must be safe to repeat.
 * @returns What `operation` returns.
 * @throws {StoreUnavailableError} When it still fails.
 * @throws {StoreDataError} When Deno KV refuses a value or key.
 */
export async function kvCall<T>(
  part: string,
  operation: () => Promise<T>,
): Promise<T> {
  try {
    return await retryWhileLocked(operation);
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw error;
    if (error instanceof TypeError) {
      throw new StoreDataError(`${part}: Deno KV refused a value or key`, {
        kind: "other",
        cause: error,
      });
    }
    throw new StoreUnavailableError(
      `${part} cannot be read or written: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { cause: error },
    );
  }
}
