import assert from "node:assert/strict";
import { compilePolicy } from "./compile.ts";
import {
  parseCaseFile,
  type PolicyCase,
  runPolicyCase,
  throwawayEnv,
} from "./policy_cases.ts";

const POLICY = `version: 1
organizations:
  acme:
    domains: { allow: [acme.com, "*.acme.com"] }
    jwt:
      mode: optional
      keys:
        - { id: new, secret: { env: ACME_NEW } }
        - { id: old, secret: { env: ACME_OLD }, until: "2030-01-01T00:00:00Z" }
`;

const env = throwawayEnv(() => undefined);
const evaluator = compilePolicy(POLICY, { env: env.lookup });

function oneCase(text: string): PolicyCase {
  const file = parseCaseFile(`cases:\n${text}`, { organizationId: "acme" });
  assert.deepEqual(file.problems, []);
  assert.equal(file.cases.length, 1);
  return file.cases[0]!;
}

// One row per rule of the case runner: the case, and whether it passes.
const RUNS: readonly [name: string, text: string, passes: boolean][] = [
  [
    "an admitted origin",
    "  - { name: x, origin: https://acme.com, expect: allowed, rule: acme.com }",
    true,
  ],
  [
    "the wrong rule expected",
    "  - { name: x, origin: https://shop.acme.com, expect: allowed, rule: acme.com }",
    false,
  ],
  [
    "a refusal with its reason",
    "  - { name: x, origin: https://evil.example, expect: DOMAIN_NOT_ALLOWED, reason: domain.not_allowed }",
    true,
  ],
  [
    "the right code with the wrong reason",
    "  - { name: x, origin: https://evil.example, expect: DOMAIN_NOT_ALLOWED, reason: domain.origin_missing }",
    false,
  ],
  [
    "a minted token with every claim filled in verifies",
    "  - { name: x, origin: https://shop.acme.com, token: { sub: u1 }, expect: allowed, verified: true }",
    true,
  ],
  [
    "a token's default key is the first active one",
    '  - { name: x, origin: https://acme.com, now: "2031-01-01T00:00:00Z", token: { kid: old }, expect: JWT_INVALID, reason: jwt.key_expired }',
    true,
  ],
  [
    "secret: other signs with a wrong secret",
    "  - { name: x, origin: https://acme.com, token: { kid: new, secret: other }, expect: JWT_INVALID, reason: jwt.signature }",
    true,
  ],
  [
    "a negative expiresIn mints an expired token",
    "  - { name: x, origin: https://acme.com, token: { expiresIn: -1m }, expect: JWT_INVALID, reason: jwt.expired }",
    true,
  ],
  [
    "claims override the filled-in ones",
    "  - { name: x, origin: https://acme.com, token: { claims: { aud: other } }, expect: JWT_INVALID, reason: jwt.aud }",
    true,
  ],
  [
    "claims add to them",
    "  - { name: x, origin: https://acme.com, token: { claims: { user_data: [1] } }, expect: JWT_INVALID, reason: jwt.user_data }",
    true,
  ],
  [
    "a kid the policy does not list",
    "  - { name: x, origin: https://acme.com, token: { kid: gone }, expect: JWT_INVALID, reason: jwt.kid_unknown }",
    true,
  ],
  [
    "user_id against the token's sub",
    "  - { name: x, origin: https://acme.com, user_id: u2, token: { sub: u1 }, expect: JWT_INVALID, reason: jwt.user_id_mismatch }",
    true,
  ],
  [
    "verified expected of an anonymous boot",
    "  - { name: x, origin: https://acme.com, expect: allowed, verified: true }",
    false,
  ],
  [
    "ORGANIZATION_NOT_FOUND expected of a known organization",
    "  - { name: x, organization: acme, origin: https://acme.com, expect: ORGANIZATION_NOT_FOUND }",
    false,
  ],
];

for (const [name, text, passes] of RUNS) {
  Deno.test(`runPolicyCase() ${name}: ${passes ? "passes" : "fails"}`, async () => {
    const outcome = await runPolicyCase(evaluator, oneCase(text), {
      now: Date.parse("2026-12-01T00:00:00Z"),
    });
    assert.equal(outcome.passed, passes, JSON.stringify(outcome.decision));
  });
}

Deno.test("runPolicyCase() takes the default organization for cases that name none", async () => {
  const file = parseCaseFile(
    "cases:\n  - { name: x, origin: https://acme.com, expect: allowed }\n",
  );
  assert.equal(file.cases[0]?.organizationId, undefined);
  const outcome = await runPolicyCase(evaluator, file.cases[0]!, {
    organizationId: "acme",
  });
  assert.equal(outcome.passed, true);
  const nowhere = await runPolicyCase(evaluator, file.cases[0]!);
  assert.equal(nowhere.decision.code, "ORGANIZATION_NOT_FOUND");
});

// One row per problem of a test file: the text, the code, its line.
const PROBLEMS: readonly [
  name: string,
  text: string,
  code: string,
  line: number,
][] = [
  [
    "an unknown key",
    "cases:\n  - { name: x, expct: allowed }\n",
    "unknown-key",
    2,
  ],
  ["a case without expect", "cases:\n  - name: x\n", "missing-key", 2],
  ["a case without name", "cases:\n  - expect: allowed\n", "missing-key", 2],
  [
    "an expectation that is no code",
    "cases:\n  - name: x\n    expect: RATE_LIMITED\n",
    "bad-expect",
    3,
  ],
  [
    "a duration that is none",
    "cases:\n  - name: x\n    expect: allowed\n    token: { expiresIn: soon }\n",
    "bad-duration",
    4,
  ],
  [
    "a time that is none",
    "cases:\n  - name: x\n    expect: allowed\n    now: tomorrow\n",
    "bad-time",
    4,
  ],
  [
    "a token for a method that takes none",
    "cases:\n  - name: x\n    method: chat.getConfig\n    expect: allowed\n    token: {}\n",
    "token-not-sent",
    5,
  ],
  [
    "a secret other than other",
    "cases:\n  - name: x\n    expect: allowed\n    token: { secret: hunter2-hunter2 }\n",
    "bad-token-secret",
    4,
  ],
  [
    "claims that are no mapping",
    "cases:\n  - name: x\n    expect: allowed\n    token: { claims: [iss] }\n",
    "wrong-type",
    4,
  ],
  [
    "verified that is no boolean",
    "cases:\n  - name: x\n    expect: allowed\n    verified: yes\n",
    "wrong-type",
    4,
  ],
  [
    "a method that is no method name",
    "cases:\n  - name: x\n    expect: allowed\n    method: boot\n",
    "bad-method",
    4,
  ],
  [
    "a case for another organization",
    "cases:\n  - name: x\n    expect: allowed\n    organization: globex\n",
    "foreign-organization",
    4,
  ],
  ["no cases", "organization: acme\n", "missing-key", 1],
  ["cases that are no list", "cases: {}\n", "wrong-type", 1],
  ["a YAML syntax error", "cases: [\n", "syntax", 2],
];

for (const [name, text, code, line] of PROBLEMS) {
  Deno.test(`parseCaseFile() reports ${code} for ${name}`, () => {
    const file = parseCaseFile(text, { organizationId: "acme" });
    const problem = file.problems.find((found) => found.code === code);
    assert.ok(problem, JSON.stringify(file.problems));
    assert.equal(problem.line, line);
    assert.equal(file.cases.length, 0);
  });
}

Deno.test("parseCaseFile() never echoes a test token's secret", () => {
  const file = parseCaseFile(
    "cases:\n  - name: x\n    expect: allowed\n    token: { secret: hunter2-hunter2 }\n",
  );
  assert.ok(!JSON.stringify(file.problems).includes("hunter2"));
});

Deno.test("parseCaseFile() keeps the line of every case and of every malformed one", () => {
  const file = parseCaseFile(
    "cases:\n  - name: a\n    expect: allowed\n  - name: b\n  - name: c\n    expect: JWT_REQUIRED\n",
  );
  assert.deepEqual(file.cases.map((found) => [found.name, found.line]), [
    ["a", 2],
    ["c", 5],
  ]);
  assert.deepEqual(file.malformed, [4]);
});

Deno.test("throwawayEnv() reads set variables and makes a lasting random secret for unset ones", () => {
  const made = throwawayEnv((name) =>
    name === "SET" ? "the-real-value" : undefined
  );
  assert.equal(made.lookup("SET"), "the-real-value");
  const first = made.lookup("UNSET");
  assert.equal(
    made.lookup("UNSET"),
    first,
    "the same secret for the whole run",
  );
  assert.ok(new TextEncoder().encode(first).length >= 32);
  assert.notEqual(made.lookup("OTHER"), first);
  assert.deepEqual(made.substituted, ["UNSET", "OTHER"]);
});
