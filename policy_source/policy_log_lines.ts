/**
 * The server's log lines about policy files, safe to print whatever the
 * files hold:
 *
 * - file names and problem messages are escaped: a name such as
 *   `"\x1b]0;…\x07acme.yaml"`, or an unknown key holding terminal escapes,
 *   would otherwise reach an operator's terminal raw (or forge a line of its
 *   own with a newline);
 * - repeated problems are folded: a file of 200,000 unknown keys is a few
 *   lines per code and one "… and 199,995 more unknown-key problems" line,
 *   not 200,000 lines per reload.
 *
 * @module
 */

import { formatProblem } from "../policy/format_problem.ts";
import type { PolicyProblem } from "../policy/types.ts";

/** Problems printed of each code in one file before the rest are counted. */
export const PROBLEMS_SHOWN_PER_CODE = 5;

/**
 * Control characters (C0, DEL, C1), the line and paragraph separators, and
 * the invisible formatting ones that reorder or hide text (bidirectional
 * overrides and isolates, zero-width characters, the byte-order mark).
 */
const UNSAFE =
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  /[\\\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/**
 * A text as it may be printed to a terminal: every control or invisible
 * formatting character, and the backslash, written as an escape.
 *
 * @param text Any text (a file name, a problem message).
 * @returns The text with `\xNN` / `\uNNNN` escapes (and `\\`); unchanged when it holds none.
 */
export function escapeLogText(text: string): string {
  return text.replace(UNSAFE, (char) => {
    if (char === "\\") return "\\\\";
    const code = char.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/**
 * The log lines of one file's problems: `WHERE:LINE:COL CODE message (hint)`,
 * with `warning: ` before a warning's message,
 * at most {@linkcode PROBLEMS_SHOWN_PER_CODE} of each code, then one line
 * counting the rest of that code. Every line is escaped.
 *
 * @param where The file as the log names it (escaped here).
 * @param problems The file's problems, in file order.
 * @param omitted Problems already left out of `problems`, counted by code.
 * @returns The lines, in file order, the counts after them.
 */
export function problemLogLines(
  where: string,
  problems: readonly PolicyProblem[],
  omitted: Readonly<Record<string, number>> = {},
): string[] {
  const file = escapeLogText(where);
  /** Problems of each code, and how many of them were printed. */
  const counts = new Map<string, { total: number; printed: number }>();
  const lines: string[] = [];
  for (const problem of problems) {
    const count = counts.get(problem.code) ?? { total: 0, printed: 0 };
    counts.set(problem.code, count);
    count.total += 1;
    if (count.printed >= PROBLEMS_SHOWN_PER_CODE) continue;
    count.printed += 1;
    // The line `policy check` prints (a warning labelled so), escaped.
    lines.push(formatProblem(file, {
      ...problem,
      message: escapeLogText(problem.message),
      ...(problem.hint ? { hint: escapeLogText(problem.hint) } : {}),
    }));
  }
  for (const [code, more] of Object.entries(omitted)) {
    const count = counts.get(code) ?? { total: 0, printed: 0 };
    counts.set(code, count);
    count.total += more;
  }
  for (const [code, { total, printed }] of counts) {
    if (total === printed) continue;
    lines.push(
      `${file}: … and ${(total - printed).toLocaleString("en-US")} more ${
        escapeLogText(code)
      } problems`,
    );
  }
  return lines;
}
