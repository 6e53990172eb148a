/**
 * One policy problem as one line, `FILE:LINE:COL CODE [warning: ]message
 * (hint)` — the format editors and CI understand. `deno task policy check`,
 * the server's refusal to start and its reload log all print this, so a
 * warning reads as a warning wherever it appears.
 *
 * @module
 */

import type { PolicyProblem } from "./types.ts";

/**
 * @param file The path to print.
 * @param problem The problem.
 * @returns The line.
 */
export function formatProblem(file: string, problem: PolicyProblem): string {
  const severity = problem.severity === "warning" ? "warning: " : "";
  const hint = problem.hint ? ` (${problem.hint})` : "";
  return `${file}:${problem.line}:${problem.column} ${problem.code} ${severity}${problem.message}${hint}`;
}
