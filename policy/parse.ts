/**
 * Reads a policy file (YAML, or JSON, which is YAML) into a small tree whose
 * every node knows its line and column, so the validator can point at the
 * exact spot of each problem. Syntax errors become problems, never throws.
 *
 * @module
 */

import {
  type Alias,
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node as YamlNode,
  parseDocument,
  type YAMLError,
} from "yaml";
import {
  exceedsPolicyFileSize,
  fileTooLargeProblem,
  nodeBudget,
} from "./policy_budget.ts";
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
  /** Absent when the text holds no document at all, or was refused. */
  readonly root?: PolicyNode;
  readonly problems: readonly PolicyProblem[];
  /** Set when the text was not parsed at all (`file-too-large`). */
  readonly refused?: boolean;
}

/** Deeper trees are cut (their deepest nodes read as null). */
const MAX_DEPTH = 64;

/** A subtree an alias points at, converted once and shared by every alias. */
interface Converted {
  readonly node: PolicyNode;
  /** Nodes in the subtree, aliases in it expanded: what each further alias costs. */
  readonly size: number;
  /** Levels below the subtree's root. */
  readonly height: number;
}

/**
 * Parses a policy text with positions.
 *
 * Aliases cost linear time: each alias is matched to its anchor in one walk
 * of the document, an anchored subtree is converted once and shared by every
 * alias to it, and each alias charges the subtree's size to the node budget
 * (`policy_budget.ts`), which is counted from the nodes written in the file.
 *
 * @param text YAML or JSON text.
 * @returns The tree (when there is one) and every syntax problem.
 */
export function parsePolicyText(text: string): ParsedPolicy {
  if (exceedsPolicyFileSize(text)) {
    return { problems: [fileTooLargeProblem()], refused: true };
  }
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
  const yamlProblem = (
    { pos, message }: YAMLError,
    { code, severity, label, hint }: YamlIssueKind,
  ): PolicyProblem => ({
    code,
    severity,
    path: "",
    ...positionOf(pos[0]),
    message: `${label}: ${firstSentence(message)}`,
    ...(hint === undefined ? {} : { hint }),
  });
  problems.push(
    ...document.errors.map((error) => yamlProblem(error, YAML_SYNTAX_ERROR)),
    ...document.warnings.map((warning) => yamlProblem(warning, YAML_WARNING)),
  );
  const { aliases, writtenNodes } = indexAliases(document);
  const budgetLimit = nodeBudget(writtenNodes);
  let budget = budgetLimit;
  /** The anchored subtrees aliases point at, each converted once. */
  const targets = new Set<unknown>(aliases.values());
  const shared = new Map<unknown, Converted | "converting">();
  let deepest = 0;
  const nullAt = (at: Position): ScalarNode => ({
    kind: "scalar",
    value: null,
    ...at,
  });
  const positionIn = (node: unknown, at: Position): Position => {
    const range = (node as YamlNode | null)?.range;
    return range && range[1] > range[0] ? positionOf(range[0]) : at;
  };
  const convert = (node: unknown, at: Position, depth: number): PolicyNode => {
    if (isAlias(node)) return expand(node, at, depth);
    if (targets.has(node) && !shared.has(node)) {
      return convertShared(node, at, depth).node;
    }
    return convertNode(node, at, depth);
  };
  /** An alias: its anchor's subtree, converted once, its size charged again. */
  const expand = (node: Alias, at: Position, depth: number): PolicyNode => {
    budget -= 1;
    const here = positionIn(node, at);
    if (budget < 0 || depth > MAX_DEPTH) return nullAt(here);
    const target = aliases.get(node);
    if (target === undefined) return nullAt(here);
    let done = shared.get(target);
    // An alias inside its own anchor is a cycle, never expanded.
    if (done === "converting") return nullAt(here);
    if (done === undefined) {
      // The anchor was not converted where it stands (under a refused key).
      done = convertShared(target, here, depth + 1);
    } else {
      budget -= done.size;
    }
    if (budget < 0 || depth + 1 + done.height > MAX_DEPTH) return nullAt(here);
    return done.node;
  };
  /** Converts an anchored subtree, recording its size and height for its aliases. */
  const convertShared = (
    node: unknown,
    at: Position,
    depth: number,
  ): Converted => {
    shared.set(node, "converting");
    const budgetBefore = budget;
    const deepestBefore = deepest;
    deepest = depth;
    const converted = convertNode(node, at, depth);
    const done: Converted = {
      node: converted,
      size: budgetBefore - budget,
      height: deepest - depth,
    };
    deepest = Math.max(deepest, deepestBefore);
    shared.set(node, done);
    return done;
  };
  /** A mapping, sequence or scalar (never an alias). */
  const convertNode = (
    node: unknown,
    at: Position,
    depth: number,
  ): PolicyNode => {
    budget -= 1;
    if (depth > deepest) deepest = depth;
    const here = positionIn(node, at);
    if (budget < 0 || depth > MAX_DEPTH) return nullAt(here);
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
    return nullAt(here);
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
      message: `Policy expands to more than ${budgetLimit} nodes`,
      hint: "Use fewer aliases",
    });
  }
  return { root, problems };
}

/**
 * One walk of the document in order (yaml's own `Alias.resolve` walks the
 * whole document per alias): every alias's anchor (the last one of its name
 * before it), and the count of nodes written (aliases not expanded).
 * Iterative, so a deeply nested text cannot overflow the stack.
 */
function indexAliases(document: Document.Parsed): {
  aliases: Map<Alias, YamlNode | undefined>;
  writtenNodes: number;
} {
  const aliases = new Map<Alias, YamlNode | undefined>();
  const anchors = new Map<string, YamlNode>();
  let writtenNodes = 0;
  const stack: unknown[] = [document.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isPair(node)) {
      stack.push(node.value, node.key);
      continue;
    }
    if (isAlias(node)) {
      aliases.set(node, anchors.get(node.source));
      continue;
    }
    if (!isScalar(node) && !isMap(node) && !isSeq(node)) continue;
    writtenNodes += 1;
    // The anchor is in force before the node's own content (yaml's order).
    if (node.anchor) anchors.set(node.anchor, node);
    if (isMap(node) || isSeq(node)) {
      for (let i = node.items.length - 1; i >= 0; i--) {
        stack.push(node.items[i]);
      }
    }
  }
  return { aliases, writtenNodes };
}

/** How one list of the yaml library's findings reads as problems. */
interface YamlIssueKind {
  readonly code: string;
  readonly severity: PolicyProblem["severity"];
  /** What the message starts with. */
  readonly label: string;
  readonly hint?: string;
}

const YAML_SYNTAX_ERROR: YamlIssueKind = {
  code: "syntax",
  severity: "error",
  label: "YAML syntax error",
  hint:
    "Check indentation, quotes and brackets near this position; the rest of the file is checked once it parses",
};

const YAML_WARNING: YamlIssueKind = {
  code: "yaml-warning",
  severity: "warning",
  label: "YAML warning",
};

/** The yaml library's messages may run on with context; keep the first sentence. */
function firstSentence(message: string): string {
  const line = message.split("\n")[0] ?? "";
  return line.replace(/[.:]\s*$/, "");
}
