/**
 * After a YAML syntax error the validator reports what the parser found and
 * nothing else (`validate.ts`): the tree a broken text leaves is the
 * parser's guess, and checking its shape made up problems — the issue's
 * mis-indented file also got two `no-domains` warnings and an unknown key.
 */

import assert from "node:assert/strict";
import {
  validateOrganizationFile,
  validatePolicy,
  validateSettingsFile,
} from "./validate.ts";

/** `allow` indented one space too far under `mode`. */
const MISINDENTED = `version: 1
organizations:
  acme:
    domains:
      mode: enforce
       allow: [acme.com]
  beta:
    domains:
      mode: enforce
       allow: [beta.com]
`;

Deno.test("validatePolicy() after a syntax error reports only the syntax errors, none of their follow-on problems", () => {
  const { spec, problems } = validatePolicy(MISINDENTED);
  assert.equal(spec, undefined);
  assert.ok(problems.length > 0);
  assert.deepEqual(
    new Set(problems.map((problem) => problem.code)),
    new Set(["syntax"]),
  );
  assert.match(problems[0]!.hint ?? "", /checked once it parses/);
});

Deno.test("the same file with its indentation fixed is checked in full", () => {
  const { problems } = validatePolicy(
    MISINDENTED.replaceAll("       allow", "      allow"),
  );
  assert.deepEqual(problems, []);
});

Deno.test("organization and settings files of a directory stop at a syntax error too", () => {
  const organization = validateOrganizationFile(
    "version: 1\ndomains:\n  mode: enforce\n   allow: [acme.com]\nnot_a_key: 1\n",
    { organizationId: "acme" },
  );
  assert.ok(organization.problems.length > 0);
  assert.ok(
    organization.problems.every((problem) => problem.code === "syntax"),
    "not not_a_key's unknown-key",
  );
  const settings = validateSettingsFile(
    "version: 1\nserver: { trustProxy: [1\nbogus: 2\n",
  );
  assert.ok(settings.problems.length > 0);
  assert.ok(settings.problems.every((problem) => problem.code === "syntax"));
});
