/**
 * The rate, duration and time syntax of policy files and their tests:
 * `100/minute`, `5/10s`, `15m`, `90d`, `1h30m`, `-1m`,
 * `2026-12-15T00:00:00Z`.
 *
 * @module
 */

import type { Rate } from "./types.ts";

/** Milliseconds per duration unit, longest suffix first so `ms` wins over `m`. */
const DURATION_UNITS: ReadonlyArray<readonly [string, number]> = [
  ["ms", 1],
  ["s", 1_000],
  ["m", 60_000],
  ["h", 3_600_000],
  ["d", 86_400_000],
  ["w", 604_800_000],
];

/** Window lengths that may be named after the slash of a rate. */
const RATE_WINDOWS: Readonly<Record<string, number>> = {
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

/** Largest count a rate may admit per window; beyond it a limit means nothing. */
export const MAX_RATE_COUNT = 1_000_000_000;

/**
 * Parses a duration such as `15m`, `30s`, `90d`, `500ms` or `1h30m`.
 *
 * @param text The duration as written in the policy.
 * @returns The duration in milliseconds, or `undefined` when it is not one.
 */
export function parseDuration(text: string): number | undefined {
  if (text.length === 0 || text.length > 64) return undefined;
  const part = /(\d+)(ms|s|m|h|d|w)/y;
  let total = 0;
  let offset = 0;
  while (offset < text.length) {
    part.lastIndex = offset;
    const match = part.exec(text);
    if (!match) return undefined;
    const unit = DURATION_UNITS.find(([name]) => name === match[2]);
    if (!unit) return undefined;
    total += Number(match[1]) * unit[1];
    offset = part.lastIndex;
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

/**
 * Reads a duration that may be negative: `10m`, `-1m`.
 *
 * @param text The duration as written.
 * @returns Milliseconds, or `undefined` when it is not a duration.
 */
export function parseSignedDuration(text: string): number | undefined {
  const ms = parseDuration(text.replace(/^-/, ""));
  return ms === undefined ? undefined : text.startsWith("-") ? -ms : ms;
}

/** ISO 8601 times as `until` and a case's `now` take them; YAML timestamps arrive as such. */
const ISO_TIME =
  /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:\d{2}))?$/;

/**
 * Reads an ISO time as the policy writes one.
 *
 * @param text The time as written, e.g. `2026-12-15T00:00:00Z`.
 * @returns Epoch milliseconds, or `undefined` when it is not a time.
 */
export function parseIsoTime(text: string): number | undefined {
  const time = ISO_TIME.test(text) ? Date.parse(text) : NaN;
  return Number.isNaN(time) ? undefined : time;
}

/**
 * Parses a rate: `N/second|minute|hour|day` or `N/<duration>` (`5/10s`).
 * The count must be a positive integer and the window longer than zero.
 *
 * @param text The rate as written in the policy.
 * @returns The parsed rate, or `undefined` when it is not one.
 */
export function parseRate(text: string): Rate | undefined {
  const match = /^(\d{1,10})\/([a-z0-9]+)$/.exec(text);
  if (!match) return undefined;
  const count = Number(match[1]);
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_RATE_COUNT) {
    return undefined;
  }
  const window = match[2] ?? "";
  const windowMs = Object.hasOwn(RATE_WINDOWS, window)
    ? RATE_WINDOWS[window]
    : parseDuration(window);
  if (windowMs === undefined || windowMs <= 0) return undefined;
  return Object.freeze({ count, windowMs, text });
}
