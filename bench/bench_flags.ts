/**
 * A benchmark's command-line values, checked before anything starts: a
 * whole number within its range, or the store engine. A bad value throws a
 * `RangeError` naming the flag, so a long run never begins on a typo.
 *
 * @module
 */

/** The store engines a benchmark can run the server on. */
export type BenchEngine = "kv" | "postgres";

/**
 * @param name The flag without its dashes, for the message.
 * @param text The flag's text.
 * @param min The least value allowed.
 * @param max The greatest value allowed.
 * @returns The number.
 * @throws {RangeError} When `text` is not a whole number from `min` to `max`.
 */
export function wholeFlag(
  name: string,
  text: string | undefined,
  min: number,
  max: number,
): number {
  const value = Number(text);
  if (
    text === undefined || text.trim() === "" || !Number.isInteger(value) ||
    value < min || value > max
  ) {
    throw new RangeError(
      `"--${name}" must be a whole number from ${min} to ${max}, got "${text}"`,
    );
  }
  return value;
}

/**
 * @param text The `--engine` flag's text.
 * @returns The engine.
 * @throws {RangeError} When it is neither `kv` nor `postgres`.
 */
export function engineFlag(text: string | undefined): BenchEngine {
  if (text !== "kv" && text !== "postgres") {
    throw new RangeError(`"--engine" is kv or postgres, got "${text}"`);
  }
  return text;
}
