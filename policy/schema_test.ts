import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { parseDayKey, parseOpeningRange } from "./business_hours.ts";
import { MAX_ADMIN_KEYS } from "./policy_budget.ts";
import { parseDuration, parseRate } from "./rate.ts";
import { readSecretAssignment } from "./secret_assignment.ts";
import {
  LIMIT_KEYS,
  MAX_BODY_BYTES_RANGE,
  MAX_JWT_KEYS,
  MAX_MESSAGES_RANGE,
  MAX_STREAMS_RANGE,
  MAX_TRUST_PROXY,
  MAX_WEBHOOK_HOSTS,
  POLICY_DEFAULTS,
  POLICY_ENUMS,
  POLICY_FILE_KEYS,
  POLICY_KEYS,
} from "./validate.ts";

type Schema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  oneOf?: Schema[];
  enum?: unknown[];
  pattern?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  description?: string;
  propertyNames?: Schema;
  required?: string[];
};

const SCHEMA: Schema = JSON.parse(
  await Deno.readTextFile(new URL("./schema.json", import.meta.url)),
);

/** The schema a local `$ref` (`#/$defs/…`, any JSON pointer) points at. */
function pointer(ref: string): Schema | undefined {
  ok(ref.startsWith("#/"), `not a local reference: ${ref}`);
  let node: unknown = SCHEMA;
  for (const part of ref.slice(2).split("/")) {
    node = (node as Record<string, unknown> | undefined)?.[part];
  }
  return node as Schema | undefined;
}

/** Follows `$ref`s and picks the mapping branch of a `oneOf`. */
function resolve(schema: Schema): Schema {
  let current = schema;
  for (let depth = 0; depth < 10; depth++) {
    if (current.$ref) {
      const target = pointer(current.$ref);
      ok(target, `unresolved ${current.$ref}`);
      // Sibling keywords of a $ref (description, default) override the target's.
      const { $ref: _ref, ...siblings } = current;
      current = { ...target, ...siblings };
      if (target.$ref) current.$ref = target.$ref;
      else delete current.$ref;
      continue;
    }
    const object = current.oneOf?.find((branch) => branch.type === "object");
    if (object) {
      current = object;
      continue;
    }
    return current;
  }
  throw new Error("Schema nests too deeply");
}

/** Every mapping of the schema by `POLICY_KEYS` location, with its keys. */
function mappings(): Map<string, Schema> {
  const found = new Map<string, Schema>();
  const visit = (schema: Schema, location: string): void => {
    const resolved = resolve(schema);
    if (resolved.properties) {
      found.set(location, resolved);
      for (const [key, child] of Object.entries(resolved.properties)) {
        visit(child, location === "" ? key : `${location}.${key}`);
      }
    }
    if (typeof resolved.additionalProperties === "object") {
      visit(resolved.additionalProperties, `${location}.*`);
    }
    if (resolved.items) visit(resolved.items, `${location}[]`);
  };
  visit(SCHEMA, "");
  return found;
}

const MAPPINGS = mappings();

Deno.test("schema.json has a mapping for exactly the locations the validator knows", () => {
  deepStrictEqual(
    [...MAPPINGS.keys()].sort(),
    Object.keys(POLICY_KEYS).sort(),
  );
});

for (const [location, keys] of Object.entries(POLICY_KEYS)) {
  Deno.test(`schema.json lists exactly the keys of "${location || "top level"}"`, () => {
    const schema = MAPPINGS.get(location);
    ok(schema?.properties);
    deepStrictEqual(Object.keys(schema.properties).sort(), [...keys].sort());
    strictEqual(schema.additionalProperties, false);
    for (const key of keys) {
      const property = resolve(schema.properties[key] ?? {});
      ok(
        (schema.properties[key]?.description ?? property.description) !==
            undefined || location.endsWith("secret"),
        `no description for ${location}.${key}`,
      );
    }
  });
}

for (const [location, values] of Object.entries(POLICY_ENUMS)) {
  Deno.test(`schema.json lists the values of "${location}"`, () => {
    const dot = location.lastIndexOf(".");
    const parent = MAPPINGS.get(location.slice(0, dot));
    const property = parent?.properties?.[location.slice(dot + 1)];
    ok(property);
    deepStrictEqual(resolve(property).enum, [...values]);
  });
}

const DEFS = (SCHEMA as { $defs: Record<string, Schema> }).$defs;

for (const kind of ["organization", "settings"] as const) {
  Deno.test(`schema.json's ${kind}File lists exactly the top-level keys of a directory's ${kind} file`, () => {
    const file = DEFS[`${kind}File`];
    ok(file?.properties);
    deepStrictEqual(
      Object.keys(file.properties).sort(),
      [...POLICY_FILE_KEYS[kind]].sort(),
    );
    strictEqual(file.additionalProperties, false);
    deepStrictEqual(file.required, ["version"]);
    for (const [key, property] of Object.entries(file.properties)) {
      ok(resolve(property), `${kind}File.${key} resolves`);
    }
  });

  Deno.test(`${kind}.schema.json points editors at schema.json's ${kind}File`, async () => {
    const wrapper: Schema = JSON.parse(
      await Deno.readTextFile(
        new URL(`./${kind}.schema.json`, import.meta.url),
      ),
    );
    strictEqual(wrapper.$ref, `schema.json#/$defs/${kind}File`);
  });
}

Deno.test("schema.json states the validator's defaults and bounds", () => {
  const server = MAPPINGS.get("server")?.properties ?? {};
  for (
    const key of [
      "maxStreamsPerSession",
      "maxStreamsPerIp",
      "maxStreams",
    ] as const
  ) {
    strictEqual(server[key]?.default, POLICY_DEFAULTS[key], key);
    strictEqual(server[key]?.minimum, MAX_STREAMS_RANGE.min, key);
    strictEqual(server[key]?.maximum, MAX_STREAMS_RANGE.max, key);
  }
  const limits = MAPPINGS.get("defaults.limits")?.properties ?? {};
  const limitDefaults: Record<string, string> = {
    organization: POLICY_DEFAULTS.organizationLimit,
    ip: POLICY_DEFAULTS.ipLimit,
    session: POLICY_DEFAULTS.sessionLimit,
    agent: POLICY_DEFAULTS.agentLimit,
    authFailures: POLICY_DEFAULTS.authFailuresLimit,
  };
  for (const key of LIMIT_KEYS) {
    strictEqual(limits[key]?.default, limitDefaults[key], key);
  }
  const retention = MAPPINGS.get("organizations.*.retention")?.properties ??
    {};
  strictEqual(retention.messages?.default, POLICY_DEFAULTS.maxMessages);
  strictEqual(retention.messages?.minimum, MAX_MESSAGES_RANGE.min);
  strictEqual(retention.messages?.maximum, MAX_MESSAGES_RANGE.max);
  const widget = MAPPINGS.get("organizations.*.widget")?.properties ?? {};
  strictEqual(
    resolve(widget.unansweredAfter ?? {}).default,
    POLICY_DEFAULTS.unansweredAfter,
  );
  strictEqual(server.trustProxy?.default, POLICY_DEFAULTS.trustProxy);
  strictEqual(server.trustProxy?.maximum, MAX_TRUST_PROXY);
  strictEqual(server.maxBodyBytes?.default, POLICY_DEFAULTS.maxBodyBytes);
  strictEqual(server.maxBodyBytes?.minimum, MAX_BODY_BYTES_RANGE.min);
  strictEqual(server.maxBodyBytes?.maximum, MAX_BODY_BYTES_RANGE.max);
  strictEqual(server.onStoreError?.default, POLICY_DEFAULTS.onStoreError);
  strictEqual(server.allowWebhookHosts?.maxItems, MAX_WEBHOOK_HOSTS);
  deepStrictEqual(server.allowWebhookHosts?.default, []);
  const jwt = MAPPINGS.get("organizations.*.jwt")?.properties ?? {};
  strictEqual(jwt.keys?.maxItems, MAX_JWT_KEYS);
  const admin = MAPPINGS.get("organizations.*.admin")?.properties ?? {};
  strictEqual(admin.keys?.maxItems, MAX_ADMIN_KEYS);
  strictEqual(
    resolve(jwt.maxLifetime ?? {}).default,
    POLICY_DEFAULTS.maxLifetime,
  );
  strictEqual(
    resolve(jwt.clockTolerance ?? {}).default,
    POLICY_DEFAULTS.clockTolerance,
  );
});

const RATE_SAMPLES = [
  "100/minute",
  "5/10s",
  "1/1h30m",
  "20/day",
  "100 per minute",
  "100/fortnight",
  "100/",
  "x/minute",
  "1.5/minute",
];
const DURATION_SAMPLES = ["15m", "500ms", "1h30m", "90d", "15", "m", "1.5h"];

Deno.test("schema.json rate and duration patterns agree with the parsers on their syntax", () => {
  const defs = (SCHEMA as { $defs: Record<string, Schema> }).$defs;
  const rate = new RegExp(defs.rate?.pattern ?? "^$");
  const duration = new RegExp(defs.duration?.pattern ?? "^$");
  for (const sample of RATE_SAMPLES) {
    strictEqual(rate.test(sample), parseRate(sample) !== undefined, sample);
  }
  for (const sample of DURATION_SAMPLES) {
    strictEqual(
      duration.test(sample),
      parseDuration(sample) !== undefined,
      sample,
    );
  }
});

Deno.test("schema.json business-hours patterns agree with the parsers on their syntax", () => {
  const weekly = MAPPINGS.get("organizations.*.widget.hours")?.properties
    ?.weekly;
  const dayKey = new RegExp(weekly?.propertyNames?.pattern ?? "^$");
  const range = new RegExp(DEFS.openingRange?.pattern ?? "^$");
  for (
    const sample of [
      "mon",
      "sun",
      "mon-fri",
      "fri-mon",
      "monday",
      "mon-",
      "Mon",
    ]
  ) {
    strictEqual(dayKey.test(sample), parseDayKey(sample) !== undefined, sample);
  }
  // The schema checks the syntax; that a range ends after it starts is left
  // to the validator ("17:00-09:00" passes the pattern, not the parser).
  for (
    const sample of [
      "09:00-17:00",
      "00:00-24:00",
      "9:00-17:00",
      "09:00",
      "25:00-26:00",
    ]
  ) {
    strictEqual(
      range.test(sample),
      parseOpeningRange(sample) !== undefined,
      sample,
    );
  }
});

Deno.test("schema.json's secrets: patterns agree with the validator", () => {
  const secrets = DEFS.settingsFile?.properties?.secrets;
  const id = new RegExp(secrets?.propertyNames?.pattern ?? "^$");
  const entry = new RegExp(
    (secrets?.additionalProperties as Schema | undefined)?.items?.pattern ??
      "^$",
  );
  for (
    const sample of [
      "ACME_WEBHOOK_SECRET",
      "ACME_*",
      "_X",
      "*",
      "ACME*X",
      "1ACME",
      "ACME-KEY",
      "",
    ]
  ) {
    const read = readSecretAssignment({
      kind: "map",
      line: 1,
      column: 1,
      entries: [{
        key: "acme",
        at: { line: 1, column: 1 },
        value: {
          kind: "list",
          line: 1,
          column: 1,
          items: [{ kind: "scalar", value: sample, line: 1, column: 1 }],
        },
      }],
    });
    strictEqual(entry.test(sample), read.problems.length === 0, sample);
  }
  ok(id.test("acme-2"));
  ok(!id.test("acme.test"));
});
