/**
 * README is part of the product: what it tells integrators must match the code.
 */

import assert from "node:assert/strict";
import { parseCaseFile } from "../policy/policy_cases.ts";
import {
  validateOrganizationFile,
  validatePolicy,
} from "../policy/validate.ts";
import { LOADER_SNIPPET } from "../widget/loader_snippet.ts";
import { METHODS } from "../rpc/methods/table.ts";
import { ERROR_STATUS } from "../rpc/wire.ts";

const readme = await Deno.readTextFile(
  new URL("../README.md", import.meta.url),
);

Deno.test("README shows the loader snippet the widget drains", () => {
  assert.ok(
    readme.includes(LOADER_SNIPPET),
    "README's loader snippet differs from LOADER_SNIPPET",
  );
});

Deno.test("README's error table lists every wire code with its status", () => {
  for (const [code, status] of Object.entries(ERROR_STATUS)) {
    assert.match(
      readme,
      new RegExp(`\\| \`${code}\` +\\| ${status} +\\|`),
      code,
    );
  }
});

Deno.test("README documents every RPC method", () => {
  for (const method of Object.keys(METHODS)) {
    assert.match(readme, new RegExp(`\\| \`${method}\` +\\|`), method);
  }
});

Deno.test("README shows the two set-up commands", () => {
  assert.match(readme, /deno task start/);
  assert.match(readme, /deno task test/);
  assert.match(readme, /npx --yes deno@2\.9\.6 task start/);
});

/** The fenced blocks of a language under a heading, in order. */
function blocksUnder(heading: string, language: string): string[] {
  const start = readme.indexOf(`\n${heading}\n`);
  assert.ok(start !== -1, `README has no "${heading}"`);
  const level = heading.split(" ")[0]!;
  const next = readme.indexOf(`\n${level} `, start + heading.length + 2);
  const section = readme.slice(start, next === -1 ? undefined : next);
  return [
    ...section.matchAll(
      new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, "g"),
    ),
  ]
    .map((match) => match[1]!);
}

/** Every `{ env: NAME }` of a text set to a secret long enough. */
function envFor(text: string): Record<string, string> {
  return Object.fromEntries(
    [...text.matchAll(/env: ([A-Z0-9_]+)/g)].map((match) => [
      match[1]!,
      `${match[1]}-0123456789abcdef0123456789abcdef`,
    ]),
  );
}

Deno.test("README's policy with every option validates", () => {
  const [policy] = blocksUnder("## Write a policy", "yaml");
  assert.ok(policy);
  const { problems } = validatePolicy(policy, { env: envFor(policy) });
  assert.deepEqual(
    problems.filter((problem) => problem.severity === "error"),
    [],
  );
});

Deno.test("README's organization file of a policy directory validates", () => {
  const [file] = blocksUnder("### A policy directory", "yaml");
  assert.ok(file);
  const { problems } = validateOrganizationFile(file, {
    organizationId: "acme",
    env: envFor(file),
  });
  assert.deepEqual(problems, []);
});

Deno.test("README's policy test cases parse", () => {
  const [cases] = blocksUnder("### Test a policy", "yaml");
  assert.ok(cases);
  const parsed = parseCaseFile(cases);
  assert.deepEqual(parsed.problems, []);
  assert.equal(parsed.cases.length, 2);
});
