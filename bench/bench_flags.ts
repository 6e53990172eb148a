/**
 * A benchmark's command-line values, checked before anything starts: a
 * whole number within its range, or the store engine. A bad value throws a
 * `RangeError` naming the flag, so a long run never begins on a typo.
 *
 * @module
 */

import { parseArgs } from "node:util";

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

/**
 * Reads a benchmark's flags, each `--name value` as text (the checks above
 * make numbers and engines of them). An unknown flag throws, as
 * `parseArgs` does, so a misspelt one never runs with its default.
 *
 * @param defaults Each flag the benchmark takes, with its default, or
 *   `undefined` for a flag that has none.
 * @param args The command line.
 * @returns The text of each flag.
 * @throws {TypeError} For an unknown flag or one without a value.
 */
export function benchFlags<
  const Defaults extends Readonly<Record<string, string | undefined>>,
>(
  defaults: Defaults,
  args: readonly string[] = Deno.args,
): {
  readonly [Name in keyof Defaults]: Defaults[Name] extends string ? string
    : string | undefined;
} {
  const options: Record<string, { type: "string"; default?: string }> = {};
  for (const [name, value] of Object.entries(defaults)) {
    options[name] = value === undefined
      ? { type: "string" }
      : { type: "string", default: value };
  }
  const { values } = parseArgs({ args: [...args], options });
  // parseArgs cannot type options built at run time; every one is a string.
  return values as {
    [Name in keyof Defaults]: Defaults[Name] extends string ? string
      : string | undefined;
  };
}
