/**
 * Turns what the JSON Schema validator found into Parley's problems: a
 * stable code, message and hint per failed keyword (`KEYWORDS`, unless the
 * schema says them beside the keyword: `x-parley-code`, `x-parley-message`,
 * `x-parley-hint`), at the line and column the value was written at, one
 * per value. Values found wrong are then removed from the data, so the
 * later rules read the schema's types; the `PolicyDocument` still knows
 * what was written.
 *
 * @module
 */

import type { ErrorObject, ValidateFunction } from "ajv/dist/2020.js";
import { suggestKey } from "./did_you_mean.ts";
import type { PolicyDocument } from "./document.ts";
import type { Position } from "./parse.ts";
import type { Annotation, Said, Schema } from "./policy_schema.ts";
import {
  clip,
  describeNode,
  type DocumentPath,
  formatPath,
  type Problems,
} from "./problems.ts";

/** One problem the schema found, in words. */
interface Finding {
  readonly keyword: string;
  readonly code: string;
  /** The path the problem names. */
  readonly path: DocumentPath;
  /** The value it is about: removed from the data unless `keep`. */
  readonly target: DocumentPath;
  readonly keep: boolean;
  readonly at: Position;
  /** About a key rather than its value. */
  readonly onKey: boolean;
  readonly message: string;
  readonly hint?: string;
}

/**
 * What a failed keyword says unless the schema says otherwise beside it,
 * in the annotations' own words: a text per keyword, `*` for the others
 * (an empty hint is none).
 */
const BY_DEFAULT: Readonly<Record<Annotation, Said>> = {
  "x-parley-code": {
    type: "wrong-type",
    additionalProperties: "unknown-key",
    required: "missing-key",
    enum: "bad-enum",
    minimum: "out-of-range",
    maximum: "out-of-range",
    maxLength: "too-long",
    maxItems: "too-many-items",
    "x-parley-min-duration": "bad-duration",
    "*": "wrong-type",
  },
  "x-parley-message": {
    type: 'Expected {expected} at "{path}", found {found}',
    additionalProperties: 'Unknown key "{key}"',
    required: '{title} at "{parent}" has no "{key}"',
    enum: 'Value {value} is not allowed for "{path}"',
    minimum: 'Value {value} of "{path}" is out of range',
    maximum: 'Value {value} of "{path}" is out of range',
    maxLength: 'Value of "{path}" is longer than {maxLength} characters',
    minLength: 'Value of "{path}" is empty',
    maxItems: 'List at "{path}" has {count} items, more than {maxItems}',
    "x-parley-min-duration": 'Duration {value} of "{path}" is too short',
    "*": 'Value {value} of "{path}" is not allowed',
  },
  "x-parley-hint": {
    type: "{typeHint}",
    additionalProperties: "{closestKey}",
    required: "",
    enum: "Allowed values: {allowed}",
    minimum: "Use an integer from {minimum} to {maximum}",
    maximum: "Use an integer from {minimum} to {maximum}",
    maxLength: "",
    minLength: "",
    maxItems: "",
    "x-parley-min-duration": "Write at least {x-parley-min-duration}",
    "*": "{description}",
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
    return finding.code === "missing-key" ? 3 : 1;
  }
  return finding.onKey ? 0 : 2;
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
  const order = (finding: Finding) => KEYWORD_ORDER[finding.keyword] ?? 9;
  for (const error of validate.errors ?? []) {
    const finding = findingOf(error, document);
    if (finding === undefined) continue;
    // A key and its value may stand at one place; each has its problem.
    const { line, column } = finding.at;
    const place = `${formatPath(finding.path)}@${line}:${column}${
      finding.onKey ? " key" : ""
    }`;
    const before = byPlace.get(place);
    if (before === undefined || order(finding) < order(before)) {
      byPlace.set(place, finding);
    }
  }
  const findings = [...byPlace.values()].sort((a, b) => rank(a) - rank(b));
  const report = (finding: Finding, at = finding.at) =>
    problems.error(
      finding.code,
      finding.path,
      at,
      finding.message,
      finding.hint,
    );
  findings.forEach((finding) => report(finding));
  for (const repeat of document.repeats) {
    const key = [...repeat.parent, repeat.key];
    const unknown = findings.find((finding) =>
      finding.keyword === "additionalProperties" &&
      within(finding.target, key) && within(key, finding.target)
    );
    if (unknown !== undefined) report(unknown, repeat.at);
    // A repeat inside a value found wrong was never read.
    else if (
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
  const wrong = findings.filter((finding) => !finding.keep);
  if (wrong.some((finding) => finding.target.length === 0)) return undefined;
  for (const finding of wrong) remove(data, finding.target);
  return data;
}

function findingOf(
  error: ErrorObject,
  document: PolicyDocument,
): Finding | undefined {
  const { keyword, params } = error;
  // `if` and `propertyNames` only repeat what their branches found.
  if (keyword === "if" || keyword === "propertyNames") return undefined;
  const parent = pathOf(error.instancePath, document.data);
  const schema = error.parentSchema as Schema;
  const propertyName = (error as { propertyName?: string }).propertyName;
  const key: string | undefined = params.missingProperty ??
    params.additionalProperty ?? propertyName;
  const target = key === undefined ? parent : [...parent, key];
  const onKey = keyword === "additionalProperties" ||
    propertyName !== undefined;
  const missing = keyword === "required"
    ? schema.properties?.[key!]?.["x-parley-missing"]
    : undefined;
  const said = (annotation: Annotation) =>
    saidFor(keyword, schema[annotation]) ??
      saidFor(keyword, BY_DEFAULT[annotation])!;
  // A secret reference's keys may be a pasted secret: never named.
  const path = keyword === "additionalProperties" && schema.writeOnly
    ? parent
    : target;
  const words = {
    path,
    value: onKey ? key : keyword === "required" ? undefined : error.data,
    found: describeNode(document.node(parent)),
    schema,
    params,
  };
  const hint = fill(missing?.hint ?? said("x-parley-hint"), words);
  return {
    keyword,
    code: missing?.code ?? said("x-parley-code"),
    path,
    target,
    // What is left of a value missing a key, with a bad key or too many items is read.
    keep: keyword === "required" || keyword === "maxItems" ||
      propertyName !== undefined,
    at: onKey ? document.keyAt(target) : document.at(parent),
    onKey,
    message: fill(missing?.message ?? said("x-parley-message"), words),
    ...(hint === "" ? {} : { hint }),
  };
}

/** What an annotation says of a keyword: its one text, or the keyword's, or `*`'s. */
function saidFor(
  keyword: string,
  annotation: Said | undefined,
): string | undefined {
  return typeof annotation === "string"
    ? annotation
    : annotation?.[keyword] ?? annotation?.["*"];
}

/** A JSON pointer of the data as keys and indexes. */
function pathOf(pointer: string, data: unknown): DocumentPath {
  const path: (string | number)[] = [];
  let value = data;
  for (const part of pointer.split("/").slice(1)) {
    const key = part.replaceAll("~1", "/").replaceAll("~0", "~");
    path.push(Array.isArray(value) ? Number(key) : key);
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

const NOUNS: Readonly<Record<string, string>> = {
  object: "a mapping",
  array: "a list",
  string: "a string",
  integer: "an integer",
  number: "a number",
  boolean: "true or false",
};

/** Fills in a message's or hint's `{placeholders}`; others name the schema's keywords. */
function fill(
  template: string,
  { path, value, found, schema, params }: {
    path: DocumentPath;
    value: unknown;
    found: string;
    schema: Schema;
    params: Record<string, unknown>;
  },
): string {
  const where = (of: DocumentPath) => formatPath(of) || "top level";
  const key = String(path[path.length - 1] ?? "");
  const places: Record<string, () => unknown> = {
    path: () => where(path),
    parent: () => where(path.slice(0, -1)),
    key: () => key,
    found: () => found,
    // Scalars are quoted; anything else is named by its kind.
    value: () =>
      ["string", "number", "boolean"].includes(typeof value)
        ? `"${clip(String(value))}"`
        : found,
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
    allowed: () => schema.enum?.map((one) => `"${one}"`).join(", "),
    count: () => (value as unknown[]).length,
    description: () => schema.description ?? "",
  };
  return template.replace(
    /\{([\w-]+)\}/g,
    (whole, name: string) => String(places[name]?.() ?? schema[name] ?? whole),
  );
}
