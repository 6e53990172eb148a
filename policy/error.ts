/**
 * The error thrown when a policy cannot be compiled.
 *
 * @module
 */

import type { PolicyProblem } from "./types.ts";

/**
 * A policy that failed validation. `problems` lists every problem found, not
 * just the first; the first error also sets `code`, `path`, `line` and `column`.
 */
export class PolicyError extends SyntaxError {
  /** Stable code of the first error, e.g. `unknown-key`. */
  readonly code: string;
  /** Dotted path of the first error, e.g. `organizations.acme.domains.allow[2]`. */
  readonly path: string;
  /** 1-based line of the first error; 0 when unknown. */
  readonly line: number;
  /** 1-based column of the first error; 0 when unknown. */
  readonly column: number;
  /** Every problem, errors and warnings, in file order. */
  readonly problems: readonly PolicyProblem[];
  /**
   * Problems left out of `problems`, counted by code: a server validating
   * in a worker keeps only the first of each code.
   */
  readonly omitted: Readonly<Record<string, number>>;

  /**
   * Builds the error from a validator's problems; the message names the error
   * count and the first error's position.
   *
   * @param problems Every problem found; at least one must be an error.
   * @param filename Named in the message when given.
   * @param omitted Problems left out of `problems`, counted by code.
   */
  constructor(
    problems: readonly PolicyProblem[],
    filename?: string,
    omitted: Readonly<Record<string, number>> = {},
  ) {
    const errors = problems.filter((problem) => problem.severity === "error");
    const first = errors[0] ?? problems[0];
    const where = filename
      ? `${filename}:${first?.line ?? 0}:${first?.column ?? 0}`
      : `line ${first?.line ?? 0}`;
    super(
      `Policy has ${errors.length} error${
        errors.length === 1 ? "" : "s"
      }; first at ${where}: ${first?.message ?? "unknown problem"}`,
    );
    this.name = "PolicyError";
    this.code = first?.code ?? "invalid-policy";
    this.path = first?.path ?? "";
    this.line = first?.line ?? 0;
    this.column = first?.column ?? 0;
    this.problems = Object.freeze([...problems]);
    this.omitted = Object.freeze({ ...omitted });
  }
}
