import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { parsePolicyText } from "./parse.ts";
import {
  assignedEnv,
  assignedVariables,
  isSecretAssigned,
  NO_SECRETS,
  readSecretAssignment,
  refuseUnassignedSecret,
} from "./secret_assignment.ts";

function read(yaml: string) {
  const { root } = parsePolicyText(yaml);
  ok(root?.kind === "map");
  return readSecretAssignment(root.entries[0]!.value);
}

const MATCHES: ReadonlyArray<readonly [string[], string, boolean]> = [
  [["ACME_*"], "ACME_WEBHOOK_SECRET", true],
  [["ACME_*"], "ACME_", true],
  [["ACME_*"], "ACMEX", false],
  [["ACME_*"], "acme_webhook_secret", false],
  [["BETA_WEBHOOK_SECRET"], "BETA_WEBHOOK_SECRET", true],
  [["BETA_WEBHOOK_SECRET"], "BETA_WEBHOOK_SECRET_2", false],
  [["BETA_JWT_*", "BETA_KEY"], "BETA_KEY", true],
  [[], "ACME_WEBHOOK_SECRET", false],
];

for (const [patterns, name, expected] of MATCHES) {
  Deno.test(`isSecretAssigned() [${patterns}] ${expected ? "assigns" : "does not assign"} ${name}`, () => {
    strictEqual(isSecretAssigned(patterns, name), expected);
  });
}

Deno.test("readSecretAssignment() reads exact names and prefixes per organization", () => {
  const { assignment, problems } = read(
    "secrets:\n  acme: [ACME_*]\n  beta: [BETA_WEBHOOK_SECRET, BETA_JWT_*]\n",
  );
  deepStrictEqual(problems, []);
  deepStrictEqual([...assignment], [
    ["acme", ["ACME_*"]],
    ["beta", ["BETA_WEBHOOK_SECRET", "BETA_JWT_*"]],
  ]);
  ok(Object.isFrozen(assignment));
});

const BAD: ReadonlyArray<readonly [string, string, string, number, number]> = [
  [
    "a lone * (every variable)",
    "secrets:\n  acme: ['*']\n",
    "bad-secret-pattern",
    2,
    10,
  ],
  [
    "a star inside a name",
    "secrets:\n  acme: [ACME*X]\n",
    "bad-secret-pattern",
    2,
    10,
  ],
  [
    "a name starting with a digit",
    "secrets:\n  acme: [1ACME]\n",
    "bad-secret-pattern",
    2,
    10,
  ],
  ["a number", "secrets:\n  acme: [42]\n", "bad-secret-pattern", 2, 10],
  [
    "a name instead of a list",
    "secrets:\n  acme: ACME_*\n",
    "wrong-type",
    2,
    9,
  ],
  ["a list instead of a map", "secrets: [ACME_*]\n", "wrong-type", 1, 10],
  [
    "an id no file can have",
    "secrets:\n  acme.test: [ACME_*]\n",
    "bad-organization-id",
    2,
    3,
  ],
  [
    "an organization written twice",
    "secrets:\n  acme: [A_*]\n  acme: [B_*]\n",
    "duplicate-key",
    3,
    3,
  ],
];

for (const [name, yaml, code, line, column] of BAD) {
  Deno.test(`readSecretAssignment() refuses ${name} (${code})`, () => {
    const { problems } = read(yaml);
    deepStrictEqual(
      problems.map((
        problem,
      ) => [problem.code, problem.severity, problem.line, problem.column]),
      [[code, "error", line, column]],
    );
  });
}

Deno.test("readSecretAssignment() warns when two organizations may name the same variable", () => {
  const { assignment, problems } = read(
    "secrets:\n  acme: [ACME_*, SHARED_KEY]\n  beta: [ACME_BETA_*, BETA_*]\n  gamma: [SHARED_KEY]\n",
  );
  deepStrictEqual(
    problems.map((problem) => [problem.code, problem.severity, problem.path]),
    [
      ["secret-assigned-twice", "warning", "secrets.beta[0]"],
      ["secret-assigned-twice", "warning", "secrets.gamma[0]"],
    ],
  );
  deepStrictEqual(assignment.get("beta"), ["ACME_BETA_*", "BETA_*"]);
});

Deno.test("readSecretAssignment() does not warn about one organization's own overlapping entries", () => {
  deepStrictEqual(read("secrets:\n  acme: [ACME_*, ACME_KEY]\n").problems, []);
});

Deno.test("assignedEnv() never asks the environment for another organization's variable", () => {
  const asked: string[] = [];
  const env = (name: string) => {
    asked.push(name);
    return `value of ${name}`;
  };
  const assignment = new Map([["beta", ["BETA_*"]]]);
  const beta = assignedEnv(env, assignment, "beta");
  strictEqual(beta("ACME_WEBHOOK_SECRET"), undefined);
  strictEqual(beta("BETA_WEBHOOK_SECRET"), "value of BETA_WEBHOOK_SECRET");
  strictEqual(assignedEnv(env, assignment, "gamma")("BETA_X"), undefined);
  deepStrictEqual(asked, ["BETA_WEBHOOK_SECRET"]);
});

Deno.test("assignedVariables() copies only the organization's variables", () => {
  deepStrictEqual(
    assignedVariables(
      { ACME_KEY: "a", BETA_KEY: "b", PATH: "/bin" },
      new Map([["beta", ["BETA_*"]]]),
      "beta",
    ),
    { BETA_KEY: "b" },
  );
});

Deno.test("refuseUnassignedSecret() hints at the _parley.yaml line to add", () => {
  const none = refuseUnassignedSecret(NO_SECRETS, "beta", "BETA_KEY");
  strictEqual(
    none?.message,
    'Environment variable "BETA_KEY" is not assigned to organization "beta"',
  );
  ok(
    none?.hint.startsWith(
      'Add to _parley.yaml "secrets:" with "  beta: [BETA_KEY]"',
    ),
  );
  const other = refuseUnassignedSecret(
    new Map([["beta", ["BETA_JWT_*"]]]),
    "beta",
    "BETA_KEY",
  );
  ok(
    other?.hint.startsWith(
      'In _parley.yaml under "secrets:", write "  beta: [BETA_JWT_*, BETA_KEY]"',
    ),
  );
  strictEqual(
    refuseUnassignedSecret(new Map([["beta", ["BETA_*"]]]), "beta", "BETA_KEY"),
    undefined,
  );
});
