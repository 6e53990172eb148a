/**
 * Retry timing: how long the widget waits before retrying a rate-limited call,
 * reconnecting the live stream, or renewing its session. Pure functions; the
 * random source is a parameter so tests can pin it.
 *
 * @module
 */

/** How many times a rate-limited call is retried before the widget gives up. */
export const MAX_RATE_LIMIT_RETRIES = 3;

/** How many reconnects in a row the live stream tries before it rests. */
export const MAX_STREAM_RECONNECTS = 8;

/**
 * The wait before retrying after `RATE_LIMITED`: the server's `retryAfter`
 * plus up to 25% jitter, so many visitors do not return in the same second.
 * Never sooner than `retryAfter`, which would only be refused again.
 *
 * @param retryAfterSeconds the server's hint; 1 second when absent
 * @param random a source of numbers in [0, 1)
 * @returns milliseconds to wait
 */
export function rateLimitDelay(
  retryAfterSeconds: number | undefined,
  random: () => number = Math.random,
): number {
  const base = Math.max(1, retryAfterSeconds ?? 1) * 1000;
  return Math.round(base * (1 + 0.25 * random()));
}

/**
 * Capped exponential backoff with jitter for stream reconnects: attempt 0
 * waits about `baseMs`, each next attempt doubles, never above `capMs`. The
 * jitter keeps half the delay fixed and randomises the other half.
 *
 * @param attempt zero-based count of failures in a row
 * @param random a source of numbers in [0, 1)
 * @param baseMs the first delay
 * @param capMs the largest delay
 * @returns milliseconds to wait
 */
export function reconnectDelay(
  attempt: number,
  random: () => number = Math.random,
  baseMs = 1000,
  capMs = 30_000,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/**
 * When to renew a session silently: a minute before it expires, or at 80% of
 * its remaining life when that is shorter, never sooner than 5 seconds (a
 * clock-skewed `expiresAt` must not cause a boot loop) and never beyond what
 * `setTimeout` can hold.
 *
 * @param expiresAt the session's ISO 8601 expiry
 * @param now the current time in milliseconds
 * @returns milliseconds until the renewal
 */
export function sessionRenewalDelay(expiresAt: string, now: number): number {
  const remaining = Date.parse(expiresAt) - now;
  if (!Number.isFinite(remaining)) return 60_000;
  const delay = Math.min(remaining - 60_000, remaining * 0.8);
  return Math.min(2_147_483_647, Math.max(5_000, Math.round(delay)));
}
