import assert from "node:assert/strict";
import {
  organizationArguments,
  parseArguments,
  required,
  UsageError,
} from "./arguments.ts";

const PARSE_ERRORS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ["an unknown option", ["--bogus"]],
  ["a value given to a flag", ["--json=yes"]],
  ["an option without its value", ["--org"]],
];

for (const [name, args] of PARSE_ERRORS) {
  Deno.test(`parseArguments() reads ${name} as a UsageError with code "usage"`, () => {
    assert.throws(
      () =>
        parseArguments(args, {
          json: { type: "boolean" },
          org: { type: "string" },
        }),
      (error: unknown) =>
        error instanceof UsageError && error.code === "usage" &&
        !(error instanceof TypeError),
    );
  });
}

Deno.test("parseArguments() returns the options' values and the positionals", () => {
  const { values, positionals } = parseArguments(
    ["a.yaml", "--org", "acme", "--json", "b.yaml"],
    { json: { type: "boolean" }, org: { type: "string" } },
  );
  assert.deepEqual({ ...values }, { org: "acme", json: true });
  assert.deepEqual(positionals, ["a.yaml", "b.yaml"]);
});

Deno.test("required() refuses a missing or empty option, naming it", () => {
  for (const value of [undefined, ""]) {
    assert.throws(
      () => required(value, "org"),
      (error: unknown) =>
        error instanceof UsageError &&
        /"--org" is required/.test(error.message),
    );
  }
  assert.equal(required("acme", "org"), "acme");
});

Deno.test("organizationArguments() reads POLICY --org ID beside the command's own options", () => {
  const { path, organizationId, values } = organizationArguments(
    ["--org", "acme", "policy.yaml", "--sub", "u1"],
    { sub: { type: "string" } },
  );
  assert.deepEqual([path, organizationId, values.sub], [
    "policy.yaml",
    "acme",
    "u1",
  ]);
});

const ORGANIZATION_USAGE_ERRORS: ReadonlyArray<
  readonly [string, readonly string[], RegExp]
> = [
  ["no policy", ["--org", "acme"], /exactly one policy/],
  ["two policies", ["a.yaml", "b.yaml", "--org", "acme"], /exactly one policy/],
  ["no --org", ["a.yaml"], /"--org" is required/],
  ["an empty --org", ["a.yaml", "--org", ""], /"--org" is required/],
];

for (const [name, args, message] of ORGANIZATION_USAGE_ERRORS) {
  Deno.test(`organizationArguments() refuses ${name} as a UsageError`, () => {
    assert.throws(
      () => organizationArguments(args, {}),
      (error: unknown) =>
        error instanceof UsageError && message.test(error.message),
    );
  });
}
