/**
 * Turns what the JSON Schema validator found into Parley's problems: a
 * stable code, message and hint per schema keyword (`additionalProperties`
 * is `unknown-key` with the closest key, `type` is `wrong-type`, …) unless
 * the schema says them beside the keyword (`x-parley-code`,
 * `x-parley-message`, `x-parley-hint`), and the line and column the value
 * was written at. One problem per value: a string that is neither short
 * enough nor well formed is reported once, for its type or length first.
 *
 * Values found wrong are then removed from the data, so what the later
 * rules read has the schema's types; what was written but wrong is still
 * known to the `PolicyDocument`.
 *
 * @module
 */

import type { ErrorObject, ValidateFunction } from "ajv/dist/2020.js";
import { suggestKey } from "./did_you_mean.ts";
import type { PolicyDocument } from "./document.ts";
import type { Position } from "./parse.ts";
import type { Said, Schema } from "./policy_schema.ts";
import {
  clip,
  describeNode,
  type DocumentPath,
  formatPath,
  type Problems,
} from "./problems.ts";

/** One problem the schema found, before it has words. */
interface Finding {
  readonly code: string;
  readonly keyword: string;
  /** The path the problem names. */
  readonly path: DocumentPath;
  /** The value it is about: removed from the data unless `keep`. */
  readonly target: DocumentPath;
  readonly at: Position;
  /** The schema holding the keyword. */
  readonly schema: Schema;
  readonly params: Readonly<Record<string, unknown>>;
  /** The value, or the key for a problem with a key. */
  readonly value: unknown;
  /** The written node's kind, e.g. "a list". */
  readonly found: string;
  readonly keep: boolean;
}

/** What a keyword says when it fails, unless the schema says otherwise beside it. */
const KEYWORDS: Readonly<
  Record<string, { code: string; message: string; hint?: string }>
> = {
  type: {
    code: "wrong-type",
    message: 'Expected {expected} at "{path}", found {found}',
    hint: "{typeHint}",
  },
  additionalProperties: {
    code: "unknown-key",
    message: 'Unknown key "{key}"',
    hint: "{closestKey}",
  },
  required: {
    code: "missing-key",
    message: '{title} at "{parent}" has no "{key}"',
  },
  enum: {
    code: "bad-enum",
    message: 'Value {value} is not allowed for "{path}"',
    hint: "Allowed values: {allowed}",
  },
  const: {
    code: "bad-enum",
    message: 'Expected {allowed} at "{path}", found {value}',
  },
  minimum: {
    code: "out-of-range",
    message: 'Value {value} of "{path}" is out of range',
    hint: "Use an integer from {minimum} to {maximum}",
  },
  maxLength: {
    code: "too-long",
    message: 'Value of "{path}" is longer than {maxLength} characters',
  },
  minLength: { code: "wrong-type", message: 'Value of "{path}" is empty' },
  maxItems: {
    code: "too-many-items",
    message: 'List at "{path}" has {count} items, more than {maxItems}',
  },
  "x-parley-min-duration": {
    code: "bad-duration",
    message: 'Duration {value} of "{path}" is too short',
    hint: "Write at least {minDuration}",
  },
  "*": {
    code: "wrong-type",
    message: 'Value {value} of "{path}" is not allowed',
    hint: "{description}",
  },
};

/** Of two problems of one value, the lower one is reported. */
const KEYWORD_ORDER: Readonly<Record<string, number>> = {
  type: 0,
  maxLength: 1,
  minLength: 2,
};

/**
 * The order of problems at one position, as a reader meets them: the keys
 * of a mapping first, then a missing key with a code of its own (the
 * version), then the values, and other missing keys last.
 */
function rank(finding: Finding): number {
  if (finding.keyword === "required") {
    return finding.code === KEYWORDS.required!.code ? 3 : 1;
  }
  return isKeyProblem(finding) ? 0 : 2;
}

function isKeyProblem(finding: Finding): boolean {
  return finding.keyword === "additionalProperties" ||
    finding.params.propertyName !== undefined;
}

/** Whether `path` is `prefix` or inside it. */
function within(path: DocumentPath, prefix: DocumentPath): boolean {
  return prefix.length <= path.length &&
    prefix.every((part, index) => path[index] === part);
}

/**
 * Validates the document's data, reports every problem the schema finds
 * (and the keys written twice) and removes the values found wrong.
 *
 * @param validate The compiled schema of this kind of file.
 * @param document The parsed file.
 * @param problems Where the problems go.
 * @returns The data without the values found wrong; `undefined` when the whole of it is wrong.
 */
export function checkSchema(
  validate: ValidateFunction,
  document: PolicyDocument,
  problems: Problems,
): unknown {
  const data = document.data;
  validate(data);
  const byPlace = new Map<string, Finding>();
  for (const error of validate.errors ?? []) {
    const finding = findingOf(error, document);
    if (finding === undefined) continue;
    // A key and its value may stand at one place; each has its problem.
    const place = `${
      formatPath(finding.path)
    }@${finding.at.line}:${finding.at.column}${
      isKeyProblem(finding) ? " key" : ""
    }`;
    const before = byPlace.get(place);
    if (
      before === undefined ||
      (KEYWORD_ORDER[finding.keyword] ?? 9) <
        (KEYWORD_ORDER[before.keyword] ?? 9)
    ) byPlace.set(place, finding);
  }
  const findings = [...byPlace.values()]
    .map((finding, index) => ({ finding, index }))
    .sort((a, b) => rank(a.finding) - rank(b.finding) || a.index - b.index)
    .map(({ finding }) => finding);
  for (const finding of findings) report(finding, problems);
  for (const repeat of document.repeats) {
    const key = [...repeat.parent, repeat.key];
    const unknown = findings.find((finding) =>
      finding.keyword === "additionalProperties" &&
      within(finding.target, key) && within(key, finding.target)
    );
    if (unknown !== undefined) {
      report({ ...unknown, at: repeat.at }, problems);
    } else if (
      // A repeat inside a value found wrong was never read.
      !findings.some((finding) =>
        !finding.keep && within(repeat.parent, finding.target)
      )
    ) {
      problems.error(
        "duplicate-key",
        key,
        repeat.at,
        formatPath(repeat.parent) === "organizations"
          ? `Organization "${clip(repeat.key)}" is defined twice`
          : `Key "${repeat.key}" is written twice`,
        "Keep one of the entries",
      );
    }
  }
  let pruned = data;
  for (const finding of findings) {
    if (finding.keep) continue;
    if (finding.target.length === 0) pruned = undefined;
    else remove(data, finding.target);
  }
  return pruned;
}

function findingOf(
  error: ErrorObject,
  document: PolicyDocument,
): Finding | undefined {
  const { keyword } = error;
  // `if` and `propertyNames` only repeat what their branches found.
  if (keyword === "if" || keyword === "propertyNames") return undefined;
  const parent = pathOf(error.instancePath, document.data);
  const schema = error.parentSchema as Schema;
  const params = error.params as Record<string, unknown>;
  let code = said(schema["x-parley-code"], keyword);
  const base = {
    keyword,
    schema,
    params,
    found: describeNode(document.node(parent)),
  };
  if (keyword === "required") {
    const key = String(params.missingProperty);
    const property = schema.properties?.[key];
    return {
      ...base,
      code: property?.["x-parley-missing"]?.code ?? KEYWORDS.required!.code,
      path: [...parent, key],
      target: [...parent, key],
      at: document.at(parent),
      value: undefined,
      keep: true,
    };
  }
  if (keyword === "additionalProperties") {
    const key = String(params.additionalProperty);
    return {
      ...base,
      code: "unknown-key",
      // A secret reference's keys may be a pasted secret: never named.
      path: schema.writeOnly ? parent : [...parent, key],
      target: [...parent, key],
      at: document.keyAt([...parent, key]),
      value: key,
      keep: false,
    };
  }
  code ??= keywordOf(keyword).code;
  const propertyName = (error as { propertyName?: string }).propertyName;
  if (propertyName !== undefined) {
    const path = [...parent, propertyName];
    return {
      ...base,
      params: { ...params, propertyName },
      code,
      path,
      target: path,
      at: document.keyAt(path),
      value: propertyName,
      keep: true,
    };
  }
  return {
    ...base,
    code,
    path: parent,
    target: parent,
    at: document.at(parent),
    value: error.data,
    keep: keyword === "maxItems",
  };
}

/** A JSON pointer of the data as keys and indexes. */
function pathOf(pointer: string, data: unknown): DocumentPath {
  const path: (string | number)[] = [];
  let value = data;
  for (const part of pointer.split("/").slice(1)) {
    const key = part.replaceAll("~1", "/").replaceAll("~0", "~");
    const index = Array.isArray(value) ? Number(key) : undefined;
    path.push(index ?? key);
    value = (value as Record<string, unknown> | undefined)?.[key];
  }
  return path;
}

function remove(data: unknown, path: DocumentPath): void {
  let parent = data as Record<string | number, unknown> | undefined;
  for (const part of path.slice(0, -1)) {
    parent = parent?.[part] as Record<string | number, unknown> | undefined;
    if (typeof parent !== "object" || parent === null) return;
  }
  if (parent !== undefined) delete parent[path[path.length - 1]!];
}

function keywordOf(keyword: string) {
  return KEYWORDS[keyword === "maximum" ? "minimum" : keyword] ??
    KEYWORDS["*"]!;
}

/** What an annotation says for a keyword: its one text, or the keyword's, or `*`'s. */
function said(
  annotation: Said | undefined,
  keyword: string,
): string | undefined {
  return typeof annotation === "string"
    ? annotation
    : annotation?.[keyword] ?? annotation?.["*"];
}

function report(finding: Finding, problems: Problems): void {
  const { keyword, schema, path } = finding;
  const missing = keyword === "required"
    ? schema.properties?.[String(path[path.length - 1])]?.["x-parley-missing"]
    : undefined;
  const message = missing?.message ??
    said(schema["x-parley-message"], keyword) ??
    keywordOf(keyword).message;
  const hint = missing?.hint ?? said(schema["x-parley-hint"], keyword) ??
    keywordOf(keyword).hint;
  const filled = hint === undefined ? undefined : fill(hint, finding);
  problems.error(
    finding.code,
    path,
    finding.at,
    fill(message, finding),
    filled === "" ? undefined : filled,
  );
}

const NOUNS: Readonly<Record<string, string>> = {
  object: "a mapping",
  array: "a list",
  string: "a string",
  integer: "an integer",
  number: "a number",
  boolean: "true or false",
};

/** Fills in a message's or hint's `{placeholders}`. */
function fill(template: string, finding: Finding): string {
  const { path, value, schema, params } = finding;
  const where = (of: DocumentPath) => formatPath(of) || "top level";
  const key = String(path[path.length - 1] ?? "");
  const places: Record<string, () => unknown> = {
    path: () => where(path),
    parent: () => where(path.slice(0, -1)),
    key: () => key,
    found: () => finding.found,
    // Scalars are quoted; anything else is named by its kind.
    value: () =>
      ["string", "number", "boolean"].includes(typeof value)
        ? `"${clip(String(value))}"`
        : finding.found,
    title: () => schema.title ?? "Mapping",
    expected: () =>
      String(params.type).split(",").map((type) => NOUNS[type]).join(" or "),
    typeHint: () =>
      params.type === "array"
        ? "Write the items as [a, b] or one '- item' per line"
        : params.type === "string" && typeof value !== "object"
        ? "Quote the value"
        : "",
    closestKey: () => suggestKey(key, Object.keys(schema.properties ?? {})),
    allowed: () =>
      (schema.enum ?? [schema.const]).map((one) => `"${one}"`).join(", "),
    count: () => (value as unknown[]).length,
    description: () => schema.description ?? "",
    minDuration: () => schema["x-parley-min-duration"],
  };
  return template.replace(
    /\{(\w+)\}/g,
    (whole, name: string) => String(places[name]?.() ?? schema[name] ?? whole),
  );
}
