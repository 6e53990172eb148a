import {
  deepStrictEqual as deepEqual,
  ok,
  strictEqual as equal,
} from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import casesSchema from "./cases.schema.json" with { type: "json" };
import { parseDuration, parseRate } from "./rate.ts";
import policySchema from "./schema.json" with { type: "json" };
import { defaultsAt, schemaAt, schemaValidator } from "./policy_schema.ts";
import { BUILT_IN_DEFAULTS, BUILT_IN_SERVER } from "./validate.ts";

Deno.test("schema.json and cases.schema.json compile in Ajv's strict mode", () => {
  // Strict mode throws on a keyword it does not know or a type left unsaid.
  for (
    const root of [
      "policy",
      "organizationFile",
      "settingsFile",
      "cases",
    ] as const
  ) {
    equal(typeof schemaValidator(root), "function", root);
  }
});

Deno.test("schema.json and cases.schema.json are valid JSON Schema 2020-12, as editors read them", () => {
  const meta = new Ajv2020({ strict: false });
  for (const schema of [policySchema, casesSchema]) {
    equal(meta.validateSchema(schema), true, JSON.stringify(meta.errors));
  }
});

for (const kind of ["organization", "settings"] as const) {
  Deno.test(`${kind}.schema.json points editors at schema.json's ${kind}File`, async () => {
    const wrapper = JSON.parse(
      await Deno.readTextFile(
        new URL(`./${kind}.schema.json`, import.meta.url),
      ),
    );
    equal(wrapper.$ref, `schema.json#/$defs/${kind}File`);
    ok(schemaAt(`#/$defs/${kind}File`).properties?.version);
  });
}

Deno.test("the built-in defaults are the schema's defaults, parsed", () => {
  const limits = defaultsAt("#/$defs/limits");
  deepEqual(Object.keys(BUILT_IN_DEFAULTS.limits), Object.keys(limits));
  for (const [key, text] of Object.entries(limits)) {
    deepEqual(
      BUILT_IN_DEFAULTS.limits[key as keyof typeof BUILT_IN_DEFAULTS.limits],
      parseRate(String(text)),
    );
  }
  equal(
    BUILT_IN_DEFAULTS.jwt.maxLifetimeMs,
    parseDuration(String(schemaAt("#/$defs/maxLifetime").default)),
  );
  deepEqual({ ...BUILT_IN_SERVER }, defaultsAt("#/properties/server"));
});

Deno.test("a policy file with a schema comment for editors still validates", () => {
  const validate = schemaValidator("policy");
  equal(validate({ version: 1 }), true);
  equal(validate({ version: 1, organizations: { "bad id": {} } }), false);
});
