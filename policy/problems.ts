/**
 * One collector for the problems of a policy file or a policy test file:
 * every reader reports through it, and it hands them out sorted by position
 * (problems at one position keep the order they were reported in) and frozen.
 *
 * @module
 */

import type { PolicyNode, Position } from "./parse.ts";
import type { PolicyProblem } from "./types.ts";

/** A location in a document: keys of mappings and indexes of lists. */
export type DocumentPath = readonly (string | number)[];

/** How a problem is reported: code, where, line and column, message, hint. */
export type Report = (
  code: string,
  path: DocumentPath,
  at: Position,
  message: string,
  hint?: string,
) => void;

/** Collects problems; `sorted()` hands them out. */
export class Problems {
  readonly #list: PolicyProblem[];

  /** @param initial Problems already found, e.g. the syntax problems of the parse. */
  constructor(initial: readonly PolicyProblem[] = []) {
    this.#list = [...initial];
  }

  /**
   * Reports an error: `code` is stable (`bad-rate`), `path` names where
   * (`["organizations", "acme", "limits", "ip"]`), `at` is the line and
   * column, `message` is capitalised with no final period and never quotes a
   * secret, `hint` suggests a fix.
   */
  readonly error: Report = (...problem) => this.#add("error", ...problem);

  /** Reports a warning: kept beside a compiled policy, never stops it. */
  readonly warning: Report = (...problem) => this.#add("warning", ...problem);

  /** Takes problems a reader reported in its own form (`secret_assignment.ts`). */
  include(problems: readonly PolicyProblem[]): void {
    this.#list.push(...problems);
  }

  #add(
    severity: "error" | "warning",
    code: string,
    path: DocumentPath,
    at: Position,
    message: string,
    hint?: string,
  ): void {
    this.#list.push({
      code,
      severity,
      path: formatPath(path),
      line: at.line,
      column: at.column,
      message,
      ...(hint === undefined ? {} : { hint }),
    });
  }

  /** Whether any error was reported. */
  get failed(): boolean {
    return this.#list.some((problem) => problem.severity === "error");
  }

  /**
   * Every problem, sorted by line and column, each frozen.
   *
   * @returns The problems in file order.
   */
  sorted(): readonly PolicyProblem[] {
    const sorted = this.#list
      .map((problem, index) => ({ problem, index }))
      .sort((a, b) =>
        a.problem.line - b.problem.line ||
        a.problem.column - b.problem.column || a.index - b.index
      )
      .map(({ problem }) => Object.freeze(problem));
    return Object.freeze(sorted);
  }

  /**
   * Whether a problem was reported at `path` or inside it.
   *
   * @param path A document path, formatted as problems name it.
   * @returns `true` when one was.
   */
  within(path: string): boolean {
    return this.#list.some((problem) =>
      problem.path === path || problem.path.startsWith(`${path}.`) ||
      problem.path.startsWith(`${path}[`)
    );
  }
}

/**
 * A path as problems name it: `organizations.acme.domains.allow[2]`.
 *
 * @param path The keys and indexes.
 * @returns The dotted text, `""` for the top level.
 */
export function formatPath(path: DocumentPath): string {
  let text = "";
  for (const part of path) {
    text += typeof part === "number"
      ? `[${part}]`
      : text === ""
      ? part
      : `.${part}`;
  }
  return text;
}

/**
 * Shortens a value quoted in a message.
 *
 * @param text The value.
 * @returns At most 80 characters.
 */
export function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * How a problem names a node's type: "a mapping", "a list", "nothing", "a string", …
 *
 * @param node A parsed node.
 * @returns The phrase, for messages such as `Expected a string at "x", found a list`.
 */
export function describeNode(node: PolicyNode | undefined): string {
  if (node === undefined) return "nothing";
  if (node.kind === "map") return "a mapping";
  if (node.kind === "list") return "a list";
  const value = node.value;
  if (value === null) return "nothing";
  if (value instanceof Date) return "a timestamp";
  if (typeof value === "bigint") return "a number";
  return `a ${typeof value}`;
}
