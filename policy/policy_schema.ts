/**
 * `schema.json` is the one description of the policy language: editors read
 * it to complete and check policy files, and Parley validates every parsed
 * file against it (and test files against `cases.schema.json`) with Ajv,
 * JSON Schema 2020-12, compiled once per process on first use. What a
 * pattern cannot say exactly is checked by Parley's own parsers through
 * named formats, so the schema and the code that reads the values cannot
 * disagree. Defaults, key names and bounds are read from the schema too.
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
import {
  parseDuration,
  parseIsoTime,
  parseRate,
  parseSignedDuration,
} from "./rate.ts";
import policySchema from "./schema.json" with { type: "json" };

/** What an annotation says: one text, or a text per keyword (`*` for the others). */
export type Said = string | Readonly<Record<string, string>>;

/** The annotations that give the keywords beside them their problem's code, message (with `{placeholders}`) and hint. */
export type Annotation = "x-parley-code" | "x-parley-message" | "x-parley-hint";

/** A JSON Schema object, as far as Parley reads one by name. */
export interface Schema extends Partial<Readonly<Record<Annotation, Said>>> {
  readonly $ref?: string;
  readonly title?: string;
  readonly description?: string;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly enum?: readonly unknown[];
  readonly maxItems?: number;
  readonly pattern?: string;
  readonly default?: unknown;
  /** Marks a secret: problems never quote its value or its keys. */
  readonly writeOnly?: boolean;
  /** The code, message and hint when this property is required and absent. */
  readonly "x-parley-missing"?: Partial<
    Readonly<Record<"code" | "message" | "hint", string>>
  >;
  readonly [keyword: string]: unknown;
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

/**
 * The compiled validator of one kind of file; Ajv keeps it once compiled.
 *
 * @param root Which file: a policy, a directory's organization or settings file, or a test file.
 * @returns The validator; its `errors` name every problem with its schema.
 */
export function schemaValidator(root: SchemaRoot): ValidateFunction {
  ajv ??= createAjv();
  return ajv.getSchema(ROOTS[root])!;
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
  return instance.addSchema(policySchema).addSchema(casesSchema);
}

/**
 * The schema at a JSON pointer of `schema.json`, `$ref`s followed.
 *
 * @param pointer E.g. `#/$defs/limits`.
 * @returns The schema.
 */
export function schemaAt(pointer: string): Schema {
  let node: unknown = policySchema;
  for (const part of pointer.replace(/^#\/?/, "").split("/")) {
    if (part !== "") node = (node as Record<string, unknown>)[part];
  }
  const schema = node as Schema;
  return schema.$ref?.startsWith("#/")
    ? { ...schemaAt(schema.$ref), ...schema }
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
