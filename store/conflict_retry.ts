/**
 * How both adapters retry a conversation write that lost a race (a checked
 * KV commit, a PostgreSQL `UPDATE … WHERE version = <read>` that matched
 * nothing): read again, let `chat/` decide again, and write again, after a
 * jittered, growing pause so that writers of one conversation (several tabs,
 * processes, a bot) spread out instead of colliding again. A write still
 * losing after 30 attempts is an outage of the store
 * for that conversation.
 *
 * @module
 */

import { StoreUnavailableError } from "./store_unavailable_error.ts";

/** Attempts before a write that keeps losing gives up. */
const MAX_CONFLICT_ATTEMPTS = 30;
/** The longest pause between two attempts, milliseconds. */
const CONFLICT_BACKOFF_MAX_MS = 100;

/** One attempt's outcome: done with its value, or lost to another writer. */
export type ConflictAttempt<T> =
  | { readonly done: true; readonly value: T }
  | { readonly done: false };

/** An attempt that lost its race: try again. */
export const LOST: ConflictAttempt<never> = Object.freeze({ done: false });

/** An attempt that is done. */
export function done<T>(value: T): ConflictAttempt<T> {
  return { done: true, value };
}

/**
 * Runs `attempt` until it is done, pausing after each lost race.
 *
 * @param operation What is written, for the error.
 * @param attempt One read–decide–write.
 * @returns What the attempt that was done returned.
 * @throws {StoreUnavailableError} When every attempt lost.
 */
export async function retryConflicts<T>(
  operation: string,
  attempt: () => Promise<ConflictAttempt<T>>,
): Promise<T> {
  for (let tries = 0; tries < MAX_CONFLICT_ATTEMPTS; tries++) {
    const outcome = await attempt();
    if (outcome.done) return outcome.value;
    await conflictBackoff(tries);
  }
  throw new StoreUnavailableError(
    `Chat store stayed contended during ${operation}`,
  );
}

function conflictBackoff(tries: number): Promise<void> {
  const ceiling = Math.min(CONFLICT_BACKOFF_MAX_MS, 2 ** tries);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
