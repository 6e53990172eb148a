/**
 * `schema.json` is the one description of the policy language: editors read
 * it to complete and check policy files, and Parley validates every parsed
 * file against it with Ajv (JSON Schema 2020-12). What a pattern cannot say
 * exactly is checked by Parley's own parsers through named formats (`rate`,
 * `duration`, `weekdays`, `opening-range`, `time-zone`, `date-time`,
 * `locale-tag`), so the schema and the code that reads the values cannot
 * disagree. Defaults, key
 * names and bounds are read from the schema too.
 *
 * The validators are compiled on first use (tens of milliseconds), once per
 * process.
 *
 * @module
 */

import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import {
  canonicalTimeZone,
  parseDayKey,
  parseOpeningRange,
} from "./business_hours.ts";
import casesSchema from "./cases.schema.json" with { type: "json" };
import { isLocaleTag } from "./locale_tag.ts";
import { canonicalHost } from "./network_address.ts";
import { parseDuration, parseRate } from "./rate.ts";
import policySchema from "./schema.json" with { type: "json" };

/** What an annotation says: one text, or a text per keyword (`*` for the others). */
export type Said = string | Readonly<Record<string, string>>;

/** A JSON Schema object, as far as Parley reads one. */
export interface Schema {
  readonly $ref?: string;
  readonly title?: string;
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly enum?: readonly unknown[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly maxLength?: number;
  readonly maxItems?: number;
  readonly pattern?: string;
  readonly default?: unknown;
  /** Marks a secret: problems never quote its value or its keys. */
  readonly writeOnly?: boolean;
  /** The problem code of the keywords beside it, or a code per keyword (`*` for the others). */
  readonly "x-parley-code"?: Said;
  /** The message of a problem found beside it, with `{placeholders}`. */
  readonly "x-parley-message"?: Said;
  /** The hint of a problem found beside it. */
  readonly "x-parley-hint"?: Said;
  /** The code, message and hint when this property is required and absent. */
  readonly "x-parley-missing"?: {
    readonly code?: string;
    readonly message?: string;
    readonly hint?: string;
  };
  readonly [keyword: string]: unknown;
}

/** ISO 8601 times as `until` and a case's `now` take them; YAML timestamps arrive as such. */
const ISO_TIME =
  /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:\d{2}))?$/;

/**
 * Reads an ISO time as the policy writes one.
 *
 * @param text The time as written, e.g. `2026-12-15T00:00:00Z`.
 * @returns Epoch milliseconds, or `undefined` when it is not a time.
 */
export function parseIsoTime(text: string): number | undefined {
  const time = ISO_TIME.test(text) ? Date.parse(text) : NaN;
  return Number.isNaN(time) ? undefined : time;
}

/**
 * Reads a duration that may be negative: `10m`, `-1m`.
 *
 * @param text The duration as written.
 * @returns Milliseconds, or `undefined` when it is not a duration.
 */
export function parseSignedDuration(text: string): number | undefined {
  const ms = parseDuration(text.replace(/^-/, ""));
  return ms === undefined ? undefined : text.startsWith("-") ? -ms : ms;
}

/** What an organization id (and so an organization file's name) may be. */
export const ORGANIZATION_ID = new RegExp(
  policySchema.properties.organizations.propertyNames.pattern,
);

const FORMATS: Readonly<Record<string, (text: string) => boolean>> = {
  "rate": (text) => parseRate(text) !== undefined,
  "duration": (text) => parseDuration(text) !== undefined,
  "signed-duration": (text) => parseSignedDuration(text) !== undefined,
  "weekdays": (text) => parseDayKey(text) !== undefined,
  "opening-range": (text) => parseOpeningRange(text) !== undefined,
  "time-zone": (text) => canonicalTimeZone(text) !== undefined,
  "date-time": (text) => parseIsoTime(text) !== undefined,
  "organization-id": (text) => ORGANIZATION_ID.test(text),
  "webhook-host": (text) => canonicalHost(text) !== undefined,
  "locale-tag": isLocaleTag,
};

/** The validators by the root they check. */
export type SchemaRoot =
  | "policy"
  | "organizationFile"
  | "settingsFile"
  | "cases";

const ROOTS: Readonly<Record<SchemaRoot, string>> = {
  policy: policySchema.$id,
  organizationFile: `${policySchema.$id}#/$defs/organizationFile`,
  settingsFile: `${policySchema.$id}#/$defs/settingsFile`,
  cases: casesSchema.$id,
};

let ajv: Ajv2020 | undefined;
const compiled = new Map<SchemaRoot, ValidateFunction>();

/**
 * The compiled validator of one kind of file.
 *
 * @param root Which file: a policy, a directory's organization or settings file, or a test file.
 * @returns The validator; its `errors` name every problem with its schema.
 */
export function schemaValidator(root: SchemaRoot): ValidateFunction {
  let validate = compiled.get(root);
  if (validate === undefined) {
    ajv ??= createAjv();
    validate = ajv.getSchema(ROOTS[root]);
    if (validate === undefined) throw new Error(`No schema ${ROOTS[root]}`);
    compiled.set(root, validate);
  }
  return validate;
}

function createAjv(): Ajv2020 {
  const instance = new Ajv2020({
    // Strict: a keyword Ajv does not know, or a type left unsaid, fails the compile.
    strict: true,
    // Checking the schemas against the 2020-12 meta-schema compiles that too,
    // on every start (about 0.1 s); policy_schema_test.ts checks them once.
    validateSchema: false,
    allErrors: true,
    verbose: true,
    allowUnionTypes: true,
    formats: FORMATS,
  });
  instance.addVocabulary([
    "x-parley-code",
    "x-parley-message",
    "x-parley-hint",
    "x-parley-missing",
  ]);
  instance.addKeyword({
    keyword: "x-parley-min-duration",
    type: "string",
    schemaType: "string",
    // A value that is no duration at all is the format's problem.
    validate: (minimum: string, value: string) =>
      (parseDuration(value) ?? Infinity) >= (parseDuration(minimum) ?? 0),
  });
  instance.addSchema(policySchema);
  instance.addSchema(casesSchema);
  return instance;
}

/**
 * The schema at a JSON pointer of `schema.json` (or `cases.schema.json`),
 * `$ref`s followed.
 *
 * @param pointer E.g. `#/$defs/limits`.
 * @param root `policy` or `cases`.
 * @returns The schema.
 */
export function schemaAt(
  pointer: string,
  root: "policy" | "cases" = "policy",
): Schema {
  let node: unknown = root === "policy" ? policySchema : casesSchema;
  for (const part of pointer.replace(/^#\/?/, "").split("/")) {
    if (part === "") continue;
    node = (node as Record<string, unknown>)[part];
  }
  const schema = node as Schema;
  return schema.$ref?.startsWith("#/")
    ? { ...schemaAt(schema.$ref, root), ...schema }
    : schema;
}

/**
 * The defaults of an object schema's properties, `$ref`s followed.
 *
 * @param pointer The object schema, e.g. `#/properties/server`.
 * @returns Each property's `default`, where it has one.
 */
export function defaultsAt(pointer: string): Readonly<Record<string, unknown>> {
  const defaults: Record<string, unknown> = {};
  for (const key of Object.keys(schemaAt(pointer).properties ?? {})) {
    const value = schemaAt(`${pointer}/properties/${key}`).default;
    if (value !== undefined) defaults[key] = value;
  }
  return Object.freeze(defaults);
}
