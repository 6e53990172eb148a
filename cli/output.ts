/**
 * How the command line writes what it found: counted nouns in sentences,
 * and `--json` output, indented for people who read it too.
 *
 * @module
 */

/**
 * A count and its noun, e.g. `1 error`, `2 errors`.
 *
 * @param count How many.
 * @param noun The noun, singular; its plural adds `s`.
 * @returns The phrase.
 */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/**
 * Prints a value as `--json` output: indented by two spaces, one document.
 *
 * @param value A JSON-serializable value.
 */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}
