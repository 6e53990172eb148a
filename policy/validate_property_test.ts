import { ok } from "node:assert/strict";
import fc from "fast-check";
import { validatePolicy } from "./validate.ts";

const VALID = `version: 1
defaults:
  limits: { organization: 100/minute, ip: 20/minute }
  jwt: { maxLifetime: 15m, clockTolerance: 30s }
server: { trustProxy: 1, maxBodyBytes: 16384, onStoreError: closed }
organizations:
  acme:
    name: Acme Inc.
    appIds: [acme_web]
    domains:
      mode: enforce
      allow: [acme.com, "*.acme.com", "http://localhost:3000"]
    jwt:
      mode: required
      keys:
        - id: "2026-11"
          secret: { env: ACME_CHAT_JWT_SECRET }
        - id: "2026-08"
          secret: { env: ACME_CHAT_JWT_SECRET_PREV }
          until: 2026-12-15T00:00:00Z
    limits: { organization: 600/minute }
    widget: { title: Acme Support, greeting: "Hi!", color: "#0b5fff", position: right }
    admin:
      keys: [{ secret: { env: ACME_ADMIN_KEY } }]
    webhook: { url: "https://hooks.acme.com/x", secret: { env: ACME_ADMIN_KEY } }
    retention: 90d
`;

const ENV = {
  ACME_CHAT_JWT_SECRET: "a".repeat(32),
  ACME_CHAT_JWT_SECRET_PREV: "b".repeat(32),
  ACME_ADMIN_KEY: "c".repeat(32),
};

const RUNS = { numRuns: 200, seed: 20260601 } as const;

/** What every outcome must look like, whatever the input. */
function assertWellFormed(text: string): void {
  const result = validatePolicy(text, { env: ENV, now: 0 });
  let previous = [0, 0];
  for (const problem of result.problems) {
    // `internal` means validatePolicy caught a bug of its own.
    ok(problem.code !== "internal", text);
    ok(typeof problem.code === "string" && problem.code !== "");
    ok(problem.severity === "error" || problem.severity === "warning");
    ok(Number.isInteger(problem.line) && problem.line >= 0);
    ok(Number.isInteger(problem.column) && problem.column >= 0);
    ok(typeof problem.message === "string" && /^[A-Z]/.test(problem.message));
    ok(typeof problem.path === "string");
    const [line = 0, column = 0] = previous;
    ok(
      problem.line > line ||
        (problem.line === line && problem.column >= column),
    );
    previous = [problem.line, problem.column];
  }
  const failed = result.problems.some((problem) =>
    problem.severity === "error"
  );
  ok(failed === (result.spec === undefined));
}

Deno.test("validatePolicy() accepts the base policy of the property tests", () => {
  const result = validatePolicy(VALID, { env: ENV, now: 0 });
  ok(result.spec, JSON.stringify(result.problems));
});

Deno.test("validatePolicy() never throws on random text", () => {
  fc.assert(fc.property(fc.string({ maxLength: 400 }), assertWellFormed), RUNS);
});

Deno.test("validatePolicy() never throws on random YAML-ish text", () => {
  const token = fc.constantFrom(
    "version: 1\n",
    "organizations:\n",
    "  acme:\n",
    "    domains:\n",
    "      allow: [",
    "*.com",
    "]\n",
    "- ",
    "{",
    "}",
    ": ",
    "&a ",
    "*a",
    "!!binary ",
    "'",
    '"',
    "\t",
    "\n",
    "    jwt: { mode: required }\n",
    "---\n",
    "? ",
    "#",
  );
  fc.assert(
    fc.property(
      fc.array(fc.oneof(token, fc.string({ maxLength: 8 })), { maxLength: 60 })
        .map((parts) => parts.join("")),
      assertWellFormed,
    ),
    RUNS,
  );
});

const LINES = VALID.split("\n");
const VALUE = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer().map(String),
  fc.constantFrom(
    "",
    "null",
    "~",
    "[]",
    "{}",
    "[1, {a: b}]",
    "yes",
    "-1",
    "1e999",
    "0/minute",
    "*.co.uk",
    "2026-13-45T99:00:00Z",
    "{ env: 1 }",
    "&x [*x]",
  ),
);

const MUTATION = fc.oneof(
  fc.record({ kind: fc.constant("drop" as const), line: fc.nat(LINES.length) }),
  fc.record({ kind: fc.constant("dup" as const), line: fc.nat(LINES.length) }),
  fc.record({
    kind: fc.constant("replace" as const),
    line: fc.nat(LINES.length),
    text: fc.string({ maxLength: 30 }),
  }),
  fc.record({
    kind: fc.constant("value" as const),
    line: fc.nat(LINES.length),
    value: VALUE,
  }),
  fc.record({
    kind: fc.constant("indent" as const),
    line: fc.nat(LINES.length),
    by: fc.integer({ min: -4, max: 4 }),
  }),
);

type Mutation = typeof MUTATION extends fc.Arbitrary<infer T> ? T : never;

function mutate(lines: readonly string[], mutation: Mutation): string[] {
  const result = [...lines];
  const index = mutation.line % Math.max(1, result.length);
  const line = result[index] ?? "";
  switch (mutation.kind) {
    case "drop":
      result.splice(index, 1);
      break;
    case "dup":
      result.splice(index, 0, line);
      break;
    case "replace":
      result[index] = mutation.text;
      break;
    case "value": {
      const colon = line.indexOf(": ");
      result[index] = colon === -1
        ? `${line} ${mutation.value}`
        : `${line.slice(0, colon + 2)}${mutation.value}`;
      break;
    }
    case "indent":
      result[index] = mutation.by >= 0
        ? " ".repeat(mutation.by) + line
        : line.slice(Math.min(-mutation.by, line.search(/\S|$/)));
      break;
  }
  return result;
}

Deno.test("validatePolicy() never throws on mutations of a valid policy", () => {
  fc.assert(
    fc.property(fc.array(MUTATION, { minLength: 1, maxLength: 6 }), (list) => {
      const text = list.reduce(mutate, LINES).join("\n");
      assertWellFormed(text);
    }),
    RUNS,
  );
});

Deno.test("validatePolicy() never throws on random JSON values", () => {
  fc.assert(
    fc.property(
      fc.jsonValue({ maxDepth: 4 }),
      (value) => assertWellFormed(JSON.stringify(value)),
    ),
    RUNS,
  );
});
