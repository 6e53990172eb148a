/**
 * Turns what the JSON Schema validator found into Parley's problems: a
 * stable code per schema keyword (`additionalProperties` is `unknown-key`,
 * `type` is `wrong-type`, …) unless the schema names the code beside the
 * keyword (`x-parley-code`), the line and column the value was written at,
 * and a message in Parley's words. One problem per value: a string that is
 * neither short enough nor well formed is reported once, for its type or
 * length first.
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
import type { Schema } from "./policy_schema.ts";
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

/** The code of each keyword a schema may fail on, unless `x-parley-code` says otherwise. */
const KEYWORD_CODES: Readonly<Record<string, string>> = {
  type: "wrong-type",
  additionalProperties: "unknown-key",
  required: "missing-key",
  enum: "bad-enum",
  const: "bad-enum",
  minimum: "out-of-range",
  maximum: "out-of-range",
  maxLength: "too-long",
  minLength: "wrong-type",
  "x-parley-min-duration": "bad-duration",
};

/** Of two problems of one value, the lower one is reported. */
const KEYWORD_ORDER: Readonly<Record<string, number>> = {
  type: 0,
  maxLength: 1,
  minLength: 2,
};

/** Problems about keys come first at a position, missing keys last. */
function rank(finding: Finding): number {
  if (finding.keyword === "required") return 2;
  return finding.target.length > finding.path.length ||
      finding.keyword === "additionalProperties" ||
      finding.params.propertyName !== undefined
    ? 0
    : 1;
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
    const place = `${
      formatPath(finding.path)
    }@${finding.at.line}:${finding.at.column}`;
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
    const unknown = findings.find((finding) =>
      finding.keyword === "additionalProperties" &&
      formatPath(finding.target) === formatPath([...repeat.parent, repeat.key])
    );
    if (unknown !== undefined) {
      report({ ...unknown, at: repeat.at }, problems);
    } else if (reaches(data, repeat.parent, findings)) {
      problems.error(
        "duplicate-key",
        [...repeat.parent, repeat.key],
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
  const annotation = schema["x-parley-code"];
  let code = typeof annotation === "string"
    ? annotation
    : annotation?.[keyword];
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
      code: property?.["x-parley-missing"]?.code ?? "missing-key",
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
  code ??= KEYWORD_CODES[keyword] ?? "wrong-type";
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

/** Whether `path` is still read: nothing on the way to it was found wrong. */
function reaches(
  data: unknown,
  path: DocumentPath,
  findings: readonly Finding[],
): boolean {
  const text = formatPath(path);
  return !findings.some((finding) => {
    if (finding.keep) return false;
    const wrong = formatPath(finding.target);
    return text === wrong || text.startsWith(`${wrong}.`) ||
      text.startsWith(`${wrong}[`) || (wrong === "" && data !== undefined);
  });
}

function remove(data: unknown, path: DocumentPath): void {
  let parent = data as Record<string | number, unknown> | undefined;
  for (const part of path.slice(0, -1)) {
    parent = parent?.[part] as Record<string | number, unknown> | undefined;
    if (typeof parent !== "object" || parent === null) return;
  }
  if (parent !== undefined) delete parent[path[path.length - 1]!];
}

function report(finding: Finding, problems: Problems): void {
  const [message, hint] = (TEXTS[finding.code] ?? fallbackText)(finding);
  problems.error(
    finding.code,
    finding.path,
    finding.at,
    message,
    hint ?? finding.schema["x-parley-hint"],
  );
}

type Text = (finding: Finding) => readonly [string, (string | undefined)?];

const NOUNS: Readonly<Record<string, string>> = {
  object: "a mapping",
  array: "a list",
  string: "a string",
  integer: "an integer",
  number: "a number",
  boolean: "true or false",
};

/** The formatted path, `top level` for the top. */
function where(path: DocumentPath): string {
  return formatPath(path) || "top level";
}

function parentOf(path: DocumentPath): string {
  return where(path.slice(0, -1));
}

function quoted(value: unknown): string {
  return clip(String(value));
}

function isText(value: unknown): value is string {
  return typeof value === "string";
}

const HOURS_HINT =
  `Write "HH:MM-HH:MM" on the 24-hour clock, quoted, ending after it starts ("24:00" ends at midnight)`;

function fallbackText(
  finding: Finding,
): readonly [string, (string | undefined)?] {
  return [
    `Value "${quoted(finding.value)}" of "${
      where(finding.path)
    }" is not allowed`,
    finding.schema["x-parley-hint"] ?? finding.schema.description as string,
  ];
}

/** What each code says: the message first, the hint second. */
const TEXTS: Readonly<Record<string, Text>> = {
  "wrong-type": ({ keyword, schema, path, params, found, value }) => {
    if (keyword !== "type") return [`Value of "${where(path)}" is empty`];
    if (schema.writeOnly) {
      return [
        `Secret at "${where(path)}" must be { env: NAME }, found ${found}`,
        "Write secret: { env: NAME }",
      ];
    }
    const nouns = String(params.type).split(",").map((type) => NOUNS[type]);
    return [
      `Expected ${nouns.join(" or ")} at "${where(path)}", found ${found}`,
      schema["x-parley-hint"] ??
        (params.type === "array"
          ? "Write the items as [a, b] or one '- item' per line"
          : params.type === "string" && typeof value !== "object"
          ? "Quote the value"
          : undefined),
    ];
  },
  "too-long": ({ path, schema }) => [
    `Value of "${where(path)}" is longer than ${schema.maxLength} characters`,
  ],
  "out-of-range": ({ path, schema, value }) => [
    `Value "${value}" of "${where(path)}" is out of range`,
    `Use an integer from ${schema.minimum} to ${schema.maximum}`,
  ],
  "bad-enum": ({ path, schema, value, found }) => [
    isText(value) || typeof value === "boolean"
      ? `Value "${quoted(value)}" is not allowed for "${where(path)}"`
      : `Expected one of the values of "${where(path)}", found ${found}`,
    `Allowed values: ${
      (schema.enum ?? []).map((one) => `"${one}"`).join(", ")
    }`,
  ],
  "unknown-key": ({ path, schema, value }) =>
    schema.writeOnly
      ? [
        `Unknown key in the secret reference at "${where(path)}"`,
        "Write { env: NAME }",
      ]
      : [
        `Unknown key "${value}"`,
        suggestKey(String(value), Object.keys(schema.properties ?? {})),
      ],
  "missing-key": ({ path, schema }) => {
    const key = String(path[path.length - 1]);
    const hint = schema.properties?.[key]?.["x-parley-missing"]?.hint;
    if (schema.writeOnly) {
      return [
        `Secret at "${parentOf(path)}" names no environment variable`,
        hint,
      ];
    }
    const owner = schema.title ?? "Mapping";
    return [
      path.length === 1
        ? `${owner} has no "${key}"`
        : `${owner} at "${parentOf(path)}" has no "${key}"`,
      hint,
    ];
  },
  "unknown-version": ({ keyword, schema, value, found }) =>
    keyword === "required"
      ? [
        `Policy has no "version"`,
        schema.properties?.version?.["x-parley-missing"]?.hint,
      ]
      : [
        isText(value) || typeof value === "number"
          ? `Policy version "${quoted(value)}" is not supported`
          : `Expected version 1, found ${found}`,
        "This release reads version: 1",
      ],
  "bad-rate": ({ path, value, found }) => [
    isText(value)
      ? `Rate "${quoted(value)}" of "${where(path)}" is not a rate`
      : `Expected a rate at "${where(path)}", found ${found}`,
    `Write N/second, N/minute, N/hour, N/day or N/<duration> such as "5/10s"`,
  ],
  "bad-duration": ({ keyword, path, value, found, schema }) => [
    !isText(value)
      ? `Expected a duration at "${where(path)}", found ${found}`
      : keyword === "x-parley-min-duration"
      ? `Duration "${quoted(value)}" of "${where(path)}" is too short`
      : `Duration "${quoted(value)}" of "${where(path)}" is not a duration`,
    typeof value === "number"
      ? `Add a unit, e.g. "${value}s"`
      : schema["x-parley-hint"] ??
        `Write a number and a unit (ms, s, m, h, d, w), e.g. "15m" or "90d"`,
  ],
  "bad-organization-id": ({ value }) => [
    `Organization id "${quoted(value)}" is not allowed`,
    "Use 1 to 64 letters, digits, '_' or '-'",
  ],
  "bad-admin-key-id": ({ value }) => [
    `Admin key id "${quoted(value)}" is not allowed`,
    "Use 1 to 64 letters, digits, '.', '_' or '-'",
  ],
  "bad-color": ({ value }) => [
    `Color "${quoted(value)}" is not a hex color`,
    `Write "#rgb" or "#rrggbb", quoted, e.g. "#0b5fff"`,
  ],
  // The text may be a pasted secret, so it is never echoed.
  "bad-env-name": ({ path }) => [
    `Secret at "${parentOf(path)}" names an invalid environment variable`,
    "Use letters, digits and '_', not starting with a digit",
  ],
  "bad-hours": ({ keyword, path, value, found, params }) =>
    params.propertyName !== undefined
      ? [
        `Day "${quoted(value)}" is not a day or a range of days`,
        "Write mon, tue, wed, thu, fri, sat, sun, or a range such as mon-fri",
      ]
      : keyword === "type"
      ? [
        `Expected a range of hours at "${where(path)}", found ${found}`,
        HOURS_HINT,
      ]
      : [
        `Hours "${quoted(value)}" are not a range such as "09:00-17:00"`,
        HOURS_HINT,
      ],
  "bad-timezone": ({ value }) => [
    `Time zone "${quoted(value)}" is not known`,
    "Use an IANA zone such as Europe/Berlin, America/New_York or UTC",
  ],
  "bad-until": ({ path }) => [
    `Time at "${where(path)}" is not an ISO time`,
    "Write a time such as 2026-12-15T00:00:00Z",
  ],
  "bad-time": ({ path }) => [
    `Time at "${where(path)}" is not an ISO time`,
    "Write a time such as 2026-12-20T09:00:00Z",
  ],
  "too-many-keys": ({ path, schema, value }) => [
    `List at "${where(path)}" has ${
      (value as unknown[]).length
    } keys, more than ${schema.maxItems}`,
    "Remove retired keys",
  ],
  "bad-method": ({ value }) => [
    `Method "${String(value).slice(0, 64)}" is not an RPC method name`,
    "Write a method such as chat.boot or chat.getConfig",
  ],
  "bad-expect": ({ value, schema }) => [
    `Expectation "${String(value).slice(0, 64)}" is not one the policy decides`,
    `Write allowed, or one of ${(schema.enum ?? []).slice(1).join(", ")}`,
  ],
  // The value may be a pasted secret, so it is never echoed.
  "bad-token-secret": () => [
    `A test token's secret can only be "other"`,
    "Write secret: other to sign with a wrong secret; the runner knows the right one",
  ],
};
