/**
 * Rate-limit state on the wire: the IETF `RateLimit-Policy` / `RateLimit`
 * header fields (draft-ietf-httpapi-ratelimit-headers, structured-field lists
 * with `q` quota, `w` window, `r` remaining, `t` reset seconds) and the
 * `rateLimit` object of success bodies.
 *
 * @module
 */

import type { RateLimitState } from "../wire/mod.ts";

/** One applied limit and where it stands after this request. */
export interface AppliedLimit {
  /** Policy name on the wire: `ip` or `organization`. */
  readonly name: string;
  readonly limit: number;
  readonly windowMs: number;
  readonly remaining: number;
  readonly resetMs: number;
}

/**
 * `RateLimit-Policy` and `RateLimit` for the limits that applied.
 *
 * @param limits The limits charged for this request (may be empty).
 * @returns Header entries to send (none when no limit applied).
 */
export function rateLimitHeaders(
  limits: readonly AppliedLimit[],
): [name: string, value: string][] {
  if (limits.length === 0) return [];
  let policy = "";
  let state = "";
  for (const limit of limits) {
    const separator = policy === "" ? "" : ", ";
    policy += `${separator}"${limit.name}";q=${limit.limit};w=${
      Math.ceil(limit.windowMs / 1000)
    }`;
    state += `${separator}"${limit.name}";r=${limit.remaining};t=${
      resetSeconds(limit)
    }`;
  }
  return [["RateLimit-Policy", policy], ["RateLimit", state]];
}

/**
 * The tightest limit, for the body: the one with the fewest requests left
 * (the later reset on a tie, since that is the longer wait).
 *
 * @param limits The limits charged for this request.
 * @returns The body's `rateLimit`, or `undefined` when none applied.
 */
export function tightestLimit(
  limits: readonly AppliedLimit[],
): RateLimitState | undefined {
  let tightest: AppliedLimit | undefined;
  for (const limit of limits) {
    if (
      tightest === undefined || limit.remaining < tightest.remaining ||
      (limit.remaining === tightest.remaining &&
        limit.resetMs > tightest.resetMs)
    ) tightest = limit;
  }
  if (tightest === undefined) return undefined;
  return {
    limit: tightest.limit,
    remaining: tightest.remaining,
    reset: resetSeconds(tightest),
  };
}

/**
 * Seconds a rejected client should wait: the window remainder plus up to 10 %
 * of the window (at most 5 s) of random jitter, so throttled clients do not
 * return in one burst.
 *
 * @param retryAfterMs When the spent window ends.
 * @param windowMs The window length.
 * @returns Whole seconds, at least 1.
 */
export function retryAfterSeconds(
  retryAfterMs: number,
  windowMs: number,
): number {
  const jitterMax = Math.min(5, Math.floor(windowMs / 10_000));
  const jitter = Math.floor(Math.random() * (jitterMax + 1));
  return Math.max(1, Math.ceil(retryAfterMs / 1000)) + jitter;
}

function resetSeconds(limit: AppliedLimit): number {
  return Math.max(0, Math.ceil(limit.resetMs / 1000));
}
