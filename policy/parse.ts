/**
 * Reads a policy file (YAML, or JSON, which is YAML) into a small tree whose
 * every node knows its line and column, so the validator can point at the
 * exact spot of each problem. Syntax errors become problems, never throws.
 *
 * @module
 */

import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node as YamlNode,
  parseDocument,
} from "yaml";
import type { PolicyProblem } from "./types.ts";

/** A 1-based position in the policy text. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/** A scalar value: string, number, boolean, null, or a `Date` from a timestamp tag. */
export interface ScalarNode extends Position {
  readonly kind: "scalar";
  readonly value: string | number | boolean | null | Date | bigint;
}

/** One `key: value` of a mapping. */
export interface MapEntry {
  readonly key: string;
  /** Where the key is written. */
  readonly at: Position;
  readonly value: PolicyNode;
}

/** A mapping, its entries in file order. */
export interface MapNode extends Position {
  readonly kind: "map";
  readonly entries: readonly MapEntry[];
}

/** A sequence. */
export interface ListNode extends Position {
  readonly kind: "list";
  readonly items: readonly PolicyNode[];
}

/** Any node of a parsed policy. */
export type PolicyNode = ScalarNode | MapNode | ListNode;

/** The tree of a policy text, and the syntax problems met while reading it. */
export interface ParsedPolicy {
  /** Absent when the text holds no document at all. */
  readonly root?: PolicyNode;
  readonly problems: readonly PolicyProblem[];
}

/**
 * Bounds the work on alias-heavy input ("billion laughs"): without aliases a
 * text cannot hold more nodes than characters, so large real policies (10,000
 * organizations) pass while expansions far beyond the text's size stop.
 */
const MIN_NODE_BUDGET = 100_000;

/**
 * Parses a policy text with positions.
 *
 * @param text YAML or JSON text.
 * @returns The tree (when there is one) and every syntax problem.
 */
export function parsePolicyText(text: string): ParsedPolicy {
  const lineCounter = new LineCounter();
  const problems: PolicyProblem[] = [];
  const positionOf = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const document = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    // Duplicates are reported by the validator, which knows their path.
    uniqueKeys: false,
  });
  for (const error of document.errors) {
    problems.push({
      code: "syntax",
      severity: "error",
      path: "",
      ...positionOf(error.pos[0]),
      message: `YAML syntax error: ${firstSentence(error.message)}`,
      hint:
        "Check indentation, quotes and brackets near this position; the rest of the file is checked once it parses",
    });
  }
  for (const warning of document.warnings) {
    problems.push({
      code: "yaml-warning",
      severity: "warning",
      path: "",
      ...positionOf(warning.pos[0]),
      message: `YAML warning: ${firstSentence(warning.message)}`,
    });
  }
  const nodeBudget = Math.max(MIN_NODE_BUDGET, text.length);
  let budget = nodeBudget;
  const convert = (node: unknown, at: Position, depth: number): PolicyNode => {
    budget -= 1;
    const range = (node as YamlNode | null)?.range;
    const here = range && range[1] > range[0] ? positionOf(range[0]) : at;
    if (budget < 0 || depth > 64) {
      return { kind: "scalar", value: null, ...here };
    }
    if (isAlias(node)) {
      const target = node.resolve(document);
      return target === undefined
        ? { kind: "scalar", value: null, ...here }
        : convert(target, here, depth + 1);
    }
    if (isMap(node)) {
      const entries: MapEntry[] = [];
      for (const pair of node.items) {
        const keyNode = pair.key as YamlNode | null;
        const keyRange = keyNode?.range;
        const keyAt = keyRange ? positionOf(keyRange[0]) : here;
        if (!isScalar(keyNode) || typeof keyNode.value === "object") {
          problems.push({
            code: "wrong-type",
            severity: "error",
            path: "",
            ...keyAt,
            message: "Mapping keys must be plain strings",
          });
          continue;
        }
        entries.push({
          key: String(keyNode.value),
          at: keyAt,
          value: convert(pair.value, keyAt, depth + 1),
        });
      }
      return { kind: "map", entries, ...here };
    }
    if (isSeq(node)) {
      const items = node.items.map((item) => convert(item, here, depth + 1));
      return { kind: "list", items, ...here };
    }
    if (isScalar(node)) {
      const value = node.value;
      if (
        value === null || typeof value === "string" ||
        typeof value === "number" || typeof value === "boolean" ||
        typeof value === "bigint" || value instanceof Date
      ) {
        return { kind: "scalar", value, ...here };
      }
    }
    return { kind: "scalar", value: null, ...here };
  };
  const contents = document.contents;
  if (contents === null) return { problems };
  const root = convert(contents, { line: 1, column: 1 }, 0);
  if (budget < 0) {
    problems.push({
      code: "too-large",
      severity: "error",
      path: "",
      line: 1,
      column: 1,
      message: `Policy expands to more than ${nodeBudget} nodes`,
      hint: "Use fewer aliases",
    });
  }
  return { root, problems };
}

/** The yaml library's messages may run on with context; keep the first sentence. */
function firstSentence(message: string): string {
  const line = message.split("\n")[0] ?? "";
  return line.replace(/[.:]\s*$/, "");
}

const ISO_TIME =
  /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:\d{2}))?$/;

/**
 * The time a node holds: a YAML timestamp, or an ISO 8601 string in JSON.
 *
 * @param node A parsed node.
 * @returns Epoch milliseconds, or `undefined` when it holds no valid time.
 */
export function timeOfNode(node: PolicyNode): number | undefined {
  if (node.kind !== "scalar") return undefined;
  const time = node.value instanceof Date
    ? node.value.getTime()
    : typeof node.value === "string" && ISO_TIME.test(node.value)
    ? Date.parse(node.value)
    : undefined;
  return time === undefined || Number.isNaN(time) ? undefined : time;
}
