import { deepStrictEqual as deepEqual, ok } from "node:assert/strict";
import { validateOrganizationFile, validatePolicy } from "./validate.ts";

/** A policy with one organization `acme`; `body` starts at line 4, indented for you. */
function withOrg(body: string): string {
  const indented = body.split("\n").map((line) => `    ${line}`).join("\n");
  return `version: 1\norganizations:\n  acme:\n    domains: { mode: off }\n${indented}\n`;
}

const SECRET = "s".repeat(40);

/** One row per mapping rule: the text, and every problem as [code, path]. */
const ROWS: ReadonlyArray<
  readonly [string, string, ReadonlyArray<readonly [string, string]>]
> = [
  [
    "a value too long and malformed is reported once, for its length",
    withOrg(
      `admin:\n  keys:\n    - { id: "${
        "!".repeat(1001)
      }", secret: { env: S } }`,
    ),
    [["too-long", "organizations.acme.admin.keys[0].id"]],
  ],
  [
    "a type that is wrong is reported once, not again for the enum",
    withOrg("jwt: { mode: 3 }"),
    [["bad-enum", "organizations.acme.jwt.mode"]],
  ],
  [
    "a field's own code (x-parley-code) covers a wrong type too",
    withOrg("limits: { ip: 20 }"),
    [["bad-rate", "organizations.acme.limits.ip"]],
  ],
  [
    "a value found wrong is not read again by the rules after the schema",
    withOrg(
      "jwt:\n  keys:\n    - { id: k, secret: { env: S }, until: yesterday }",
    ),
    [["bad-until", "organizations.acme.jwt.keys[0].until"]],
  ],
  [
    "a day written twice with the same key is a key written twice",
    withOrg(
      'widget:\n  hours:\n    timezone: UTC\n    weekly:\n      mon: "09:00-12:00"\n      mon: "13:00-17:00"',
    ),
    [["duplicate-key", "organizations.acme.widget.hours.weekly.mon"]],
  ],
  [
    "every unknown key of a secret reference is reported, none named",
    withOrg(
      "jwt:\n  keys:\n    - { id: k, secret: { PASTED: 1, PASTED: 2, env: S } }",
    ),
    [
      ["unknown-key", "organizations.acme.jwt.keys[0].secret"],
      ["unknown-key", "organizations.acme.jwt.keys[0].secret"],
    ],
  ],
  [
    "an unknown key written twice is unknown twice, not written twice",
    withOrg("colour: red\ncolour: blue"),
    [
      ["unknown-key", "organizations.acme.colour"],
      ["unknown-key", "organizations.acme.colour"],
    ],
  ],
  [
    "keys written twice inside a value found wrong are not read",
    withOrg("widget: [{ title: a, title: b }]"),
    [["wrong-type", "organizations.acme.widget"]],
  ],
];

for (const [name, text, expected] of ROWS) {
  Deno.test(`validatePolicy() maps the schema's findings: ${name}`, () => {
    const { problems } = validatePolicy(text, { env: { S: SECRET } });
    deepEqual(
      problems.map((problem) => [problem.code, problem.path]),
      expected,
    );
    ok(!JSON.stringify(problems).includes("PASTED"));
  });
}

Deno.test("validatePolicy() reports a missing version before the values written where it is missing", () => {
  const { problems } = validatePolicy("defaults:\norganizations: {}\n");
  deepEqual(
    problems.map((problem) => [problem.code, problem.line, problem.column]),
    [["unknown-version", 1, 1], ["wrong-type", 1, 1]],
  );
});

Deno.test("validatePolicy() reports an organization id and its value each, though both stand at the key", () => {
  const { problems } = validatePolicy(
    'version: 1\norganizations:\n  "bad id":\n',
  );
  deepEqual(
    problems.map((problem) => [problem.code, problem.line, problem.column]),
    [["bad-organization-id", 3, 3], ["wrong-type", 3, 3]],
  );
});

Deno.test("validateOrganizationFile() does not read the keys repeated inside a key it refuses", () => {
  const { problems } = validateOrganizationFile(
    "version: 1\nid:\n  name: a\n  name: b\ndomains: { mode: off }\n",
    { organizationId: "acme" },
  );
  deepEqual(problems.map((problem) => problem.code), ["foreign-organization"]);
});
