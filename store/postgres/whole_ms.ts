/**
 * Epoch milliseconds as the `bigint` columns hold them: whole, and within
 * the safe-integer range (a caller may pass `Infinity` for "everything", or a
 * jittered fractional time).
 *
 * @module
 */

/**
 * Rounds down, clamped to the safe-integer range.
 *
 * @param ms Any number; `NaN` counts as 0.
 * @returns A safe integer ≤ `ms` (or the lowest one).
 */
export function floorMs(ms: number): number {
  if (Number.isNaN(ms)) return 0;
  return clamp(Math.floor(ms));
}

/**
 * Rounds up, clamped to the safe-integer range: `x < ceilMs(b)` holds for a
 * whole `x` exactly when `x < b`.
 *
 * @param ms Any number; `NaN` counts as 0.
 * @returns A safe integer ≥ `ms` (or the highest one).
 */
export function ceilMs(ms: number): number {
  if (Number.isNaN(ms)) return 0;
  return clamp(Math.ceil(ms));
}

function clamp(ms: number): number {
  return Math.min(
    Number.MAX_SAFE_INTEGER,
    Math.max(-Number.MAX_SAFE_INTEGER, ms),
  );
}
