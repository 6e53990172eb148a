/**
 * Policy evaluator benchmarks. Run: `deno bench -A bench/policy_bench.ts`.
 *
 * - a decision without a token (no HMAC) at 1, 1,000 and 10,000
 *   organizations of 10 domains each, each decision naming the next
 *   organization so the traffic is spread over all of them, beside the naive
 *   RegExp scan (target: at most 1 µs at 10,000 organizations);
 * - the same decision at 1 and at 10,000 organizations in one group, the one
 *   organization as the baseline;
 * - HS256 verification beside a bare WebCrypto HMAC verify of the same bytes
 *   (target: within 2×) and a bare `node:crypto` one, the primitive the
 *   evaluator uses;
 * - compiling a 10,000-organization policy, from a spec and from YAML;
 * - a policy directory of 10,000 organization files: applying one file's
 *   edit against compiling all of them, in one group (target: the edit at
 *   most 1/50 of the full compile).
 *
 * `PARLEY_BENCH_BASELINE=DIR` (a checkout of the tree before a change, e.g. a
 * `git worktree` of main) adds that tree's rows beside these in the same
 * groups: the HS256 decision, the spread decision at 10,000 organizations,
 * both compiles from text, so one run prints the ratios.
 *
 * @module
 */

import { createHmac, createSecretKey, timingSafeEqual } from "node:crypto";
import { compileSpec } from "../policy/compile.ts";
import { PolicyDirectory } from "../policy/policy_directory.ts";
import {
  signTestingToken,
  testingHmacKey,
  testingPolicy,
  testingSecret,
} from "../policy/testing_spec.ts";
import type { Facts, OrganizationSpec } from "../policy/types.ts";
import {
  type NaiveAllowRow,
  naiveMatchOrigin,
} from "./naive_domain_matcher.ts";

const SIZES = [1, 1_000, 10_000] as const;

/** The policy modules of another checkout, for before/after rows in one run. */
interface PolicyTree {
  readonly compile: typeof import("../policy/compile.ts");
  readonly directory: typeof import("../policy/policy_directory.ts");
  readonly testing: typeof import("../policy/testing_spec.ts");
}
const THIS_TREE: PolicyTree = await policyTree(
  new URL("..", import.meta.url).pathname,
);
const BASELINE_DIR = Deno.env.get("PARLEY_BENCH_BASELINE");
const before: PolicyTree | undefined = BASELINE_DIR === undefined
  ? undefined
  : await policyTree(BASELINE_DIR);

async function policyTree(dir: string): Promise<PolicyTree> {
  const url = (path: string) =>
    new URL(path, `file://${Deno.realPathSync(dir)}/`).href;
  return {
    compile: await import(url("policy/compile.ts")),
    directory: await import(url("policy/policy_directory.ts")),
    testing: await import(url("policy/testing_spec.ts")),
  };
}

/**
 * Defines a bench on this tree's policy modules and, with
 * `PARLEY_BENCH_BASELINE`, the same bench on the baseline's, named
 * `… (before)` in the same group (never its baseline).
 */
function benchBothTrees(
  define: (tree: PolicyTree, suffix: string) => Deno.BenchDefinition,
): void {
  Deno.bench(define(THIS_TREE, ""));
  if (before !== undefined) {
    Deno.bench({ ...define(before, " (before)"), baseline: false });
  }
}

/** Five exact and five wildcard entries; the last wildcard is the one hit. */
function allowList(i: number): string[] {
  return [
    `org${i}.com`,
    `www.org${i}.com`,
    `http://localhost:${3000 + (i % 1000)}`,
    `https://shop.org${i}.net:8443`,
    `org${i}.example`,
    `*.org${i}.com`,
    `*.org${i}.net`,
    `*.apps.org${i}.io`,
    `*.org${i}.dev`,
    `*.org${i}-widgets.com`,
  ];
}

/** Organization `i`'s settings in YAML, as an organization file has them. */
function organizationLines(i: number): string[] {
  return [
    `name: Organization ${i}`,
    "domains:",
    "  mode: enforce",
    `  allow: [${
      allowList(i).map((entry) => JSON.stringify(entry)).join(", ")
    }]`,
    'jwt: { mode: "off" }',
  ];
}

function organizations(
  count: number,
  testing: PolicyTree["testing"] = THIS_TREE.testing,
): OrganizationSpec[] {
  return Array.from(
    { length: count },
    (_, i) => testing.testingOrganization(`org${i}`, { allow: allowList(i) }),
  );
}

/** One request per organization; the benches walk them in turn. */
function spreadFacts(count: number): Facts[] {
  return Array.from({ length: count }, (_, i) => ({
    organizationId: `org${i}`,
    origin: `https://chat.eu.org${i}-widgets.com`,
    method: "chat.boot",
  }));
}

// HS256 first, on a small heap: the whole step 6 against a bare HMAC
// verify of the same bytes.
const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
const SECRET = testingSecret("bench");
const token = await signTestingToken(SECRET, {
  iss: "https://acme.com",
  aud: "chat-widget",
  sub: "user-42",
  org_id: "acme",
  iat: NOW / 1000,
  exp: NOW / 1000 + 600,
  user_data: { name: "Ada", email: "ada@example.com", tier: "premium" },
});
const tokenFacts: Facts = {
  organizationId: "acme",
  origin: "https://acme.com",
  method: "chat.boot",
  token,
  now: NOW,
};
const signingInput = new TextEncoder().encode(
  token.slice(0, token.lastIndexOf(".")),
);
const signature = Uint8Array.fromBase64(
  token.slice(token.lastIndexOf(".") + 1),
  {
    alphabet: "base64url",
  },
);
const bareKey = createSecretKey(SECRET);
const webCryptoKey = await testingHmacKey(SECRET, "verify");

Deno.bench({
  name: "bare node:crypto HMAC-SHA256 verify",
  group: "hs256",
  fn() {
    const mac = createHmac("sha256", bareKey).update(signingInput).digest();
    if (!timingSafeEqual(mac, signature)) {
      throw new Error("Expected a valid signature");
    }
  },
});

Deno.bench({
  name: "bare WebCrypto HMAC-SHA256 verify",
  group: "hs256",
  baseline: true,
  async fn() {
    if (
      !await crypto.subtle.verify("HMAC", webCryptoKey, signature, signingInput)
    ) {
      throw new Error("Expected a valid signature");
    }
  },
});

benchBothTrees(({ compile, testing }, suffix) => {
  const evaluator = compile.compileSpec(testing.testingPolicy([
    testing.testingOrganization("acme", {
      allow: ["acme.com", "*.acme.com"],
      jwtMode: "required",
      keys: [{ id: "k1", secret: SECRET }],
    }),
  ]));
  return {
    name: `evaluate() with an HS256 token${suffix}`,
    group: "hs256",
    async fn() {
      const decision = await evaluator.evaluate(tokenFacts);
      if (!decision.identity.verified) {
        throw new Error("Expected a verified token");
      }
    },
  };
});

/** Everything one size needs, built on first use so earlier groups run on a small heap. */
function decisionFixture(size: number) {
  const evaluator = compileSpec(testingPolicy(organizations(size)));
  const facts = spreadFacts(size);
  const rows: NaiveAllowRow[] = [];
  for (let i = 0; i < size; i++) {
    for (const source of allowList(i)) {
      rows.push({ organizationId: `org${i}`, source });
    }
  }
  return { evaluator, facts, rows };
}

for (const size of SIZES) {
  let fixture: ReturnType<typeof decisionFixture> | undefined;
  const setup = () => (fixture ??= decisionFixture(size));
  let next = 0;
  const group = `decision, ${size} organizations x 10 domains`;

  Deno.bench({
    name: `evaluate() ${size} organizations`,
    group,
    // Sub-microsecond work: timed whole (Deno ignores start/end below 10 µs);
    // setup() is a cached lookup after the first call.
    async fn() {
      const { evaluator, facts } = setup();
      const decision = await evaluator.evaluate(facts[next++ % size]!);
      if (!decision.allowed) throw new Error("Expected an admitted origin");
    },
  });

  Deno.bench({
    name: `checkOrigin() ${size} organizations`,
    group,
    fn() {
      const { evaluator, facts } = setup();
      const one = facts[next++ % size]!;
      const verdict = evaluator.checkOrigin(one.organizationId, one.origin!);
      if (!verdict.allowed) throw new Error("Expected an admitted origin");
    },
  });

  Deno.bench({
    name: `naive RegExp scan ${size} organizations`,
    group,
    baseline: true,
    // The naive scan of 100,000 patterns takes milliseconds; keep it bounded.
    ...(size > 1 ? { n: 200, warmup: 20 } : {}),
    fn(b) {
      const { facts, rows } = setup();
      b.start();
      const one = facts[next++ % size]!;
      const rule = naiveMatchOrigin(rows, one.organizationId, one.origin!);
      b.end();
      if (rule === undefined) throw new Error("Expected an admitted origin");
    },
  });
}

// The spread decision at 10,000 organizations against one organization, in
// one group, so the ratio is printed.
{
  const small = decisionFixture(1);
  let next = 0;
  Deno.bench({
    name: "evaluate() 1 organization",
    group: "decision, 1 against 10,000 organizations, spread",
    baseline: true,
    async fn() {
      const decision = await small.evaluator.evaluate(small.facts[0]!);
      if (!decision.allowed) throw new Error("Expected an admitted origin");
    },
  });
  benchBothTrees(({ compile, testing }, suffix) => {
    let evaluator: ReturnType<typeof compile.compileSpec> | undefined;
    const facts = spreadFacts(10_000);
    return {
      name: `evaluate() 10,000 organizations, the next one each time${suffix}`,
      group: "decision, 1 against 10,000 organizations, spread",
      async fn() {
        evaluator ??= compile.compileSpec(
          testing.testingPolicy(organizations(10_000, testing)),
        );
        const decision = await evaluator.evaluate(facts[next++ % 10_000]!);
        if (!decision.allowed) throw new Error("Expected an admitted origin");
      },
    };
  });
}

// Compile time of a 10,000-organization policy from a spec, and of the
// largest one-file policy from text: 3,000 organizations is 0.9 MB, under
// the 1 MiB a policy file may hold (a directory holds more).
const YAML_ORGANIZATIONS = 3_000;
let bigSpec: ReturnType<typeof testingPolicy> | undefined;
const bigYaml = () =>
  [
    "version: 1",
    "organizations:",
    ...Array.from({ length: YAML_ORGANIZATIONS }, (_, i) =>
      [
        `  org${i}:`,
        ...organizationLines(i).map((line) => `    ${line}`),
      ]
        .join("\n")),
    "",
  ].join("\n");
let bigYamlText: string | undefined;

Deno.bench({
  name: "compileSpec() 10,000 organizations",
  group: "compile",
  n: 10,
  warmup: 2,
  fn(b) {
    bigSpec ??= testingPolicy(organizations(10_000));
    b.start();
    compileSpec(bigSpec);
    b.end();
  },
});

benchBothTrees(({ compile }, suffix) => ({
  name: `compilePolicy() YAML, 3,000 organizations (0.9 MB)${suffix}`,
  group: "compile",
  n: 5,
  warmup: 1,
  fn(b) {
    bigYamlText ??= bigYaml();
    b.start();
    compile.compilePolicy(bigYamlText);
    b.end();
  },
}));

// A policy directory of 10,000 organization files: one file's edit against
// compiling them all, from texts in memory (the server reads only the
// edited file; reading is left out of both).
const DIRECTORY_ORGANIZATIONS = 10_000;
function organizationFile(i: number, title: string): string {
  return [
    "version: 1",
    ...organizationLines(i),
    `widget: { title: ${JSON.stringify(title)} }`,
    "",
  ].join("\n");
}
let directoryFiles: [string, string][] | undefined;
const directoryTexts = () =>
  directoryFiles ??= [
    ["_parley.yaml", "version: 1\ndefaults:\n  limits: { ip: 20/minute }\n"],
    ...Array.from(
      { length: DIRECTORY_ORGANIZATIONS },
      (_, i): [string, string] => [`org${i}.yaml`, organizationFile(i, "Chat")],
    ),
  ];
let editedDirectory: PolicyDirectory | undefined;
let edits = 0;

benchBothTrees(({ directory: { PolicyDirectory } }, suffix) => ({
  name: `PolicyDirectory.apply() all 10,000 files${suffix}`,
  group: "policy directory, 10,000 organizations",
  baseline: true,
  n: 5,
  warmup: 1,
  async fn(b) {
    const files = directoryTexts();
    b.start();
    const directory = new PolicyDirectory();
    await directory.apply(files);
    b.end();
    if (
      directory.evaluator.spec.organizations.size !== DIRECTORY_ORGANIZATIONS
    ) {
      throw new Error("Expected every organization compiled");
    }
  },
}));

Deno.bench({
  name: "PolicyDirectory.apply() one file's edit",
  group: "policy directory, 10,000 organizations",
  n: 200,
  warmup: 20,
  async fn(b) {
    if (editedDirectory === undefined) {
      editedDirectory = new PolicyDirectory();
      await editedDirectory.apply(directoryTexts());
    }
    // Each run is a real change: one file's title alternates.
    const text = organizationFile(4_242, edits++ % 2 === 0 ? "Help" : "Chat");
    b.start();
    const update = await editedDirectory.apply([["org4242.yaml", text]]);
    b.end();
    if (!update.changed) throw new Error("Expected the edit in force");
  },
});
