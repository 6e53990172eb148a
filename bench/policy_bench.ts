/**
 * Policy evaluator benchmarks. Run: `deno bench -A bench/policy_bench.ts`.
 *
 * - a decision without a token (no HMAC) at 1, 1,000 and 10,000
 *   organizations of 10 domains each, beside the naive RegExp scan
 *   (target: under 1 µs, flat across sizes);
 * - HS256 verification beside a bare WebCrypto HMAC verify of the same bytes
 *   (target: within 2×) and a bare `node:crypto` one, the primitive the
 *   evaluator uses;
 * - compiling a 10,000-organization policy, from a spec and from YAML.
 *
 * @module
 */

import { createHmac, createSecretKey, timingSafeEqual } from "node:crypto";
import { compilePolicy, compileSpec } from "../policy/compile.ts";
import {
  signTestingToken,
  testingOrganization,
  testingPolicy,
  testingSecret,
} from "../policy/testing_spec.ts";
import type { Facts, OrganizationSpec } from "../policy/types.ts";
import {
  type NaiveAllowRow,
  naiveMatchOrigin,
} from "./naive_domain_matcher.ts";

const SIZES = [1, 1_000, 10_000] as const;
/** Requests are spread over this many organizations, chosen at random. */
const SAMPLE = 256;

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

function organizations(count: number): OrganizationSpec[] {
  return Array.from(
    { length: count },
    (_, i) => testingOrganization(`org${i}`, { allow: allowList(i) }),
  );
}

function sampleFacts(count: number): Facts[] {
  return Array.from({ length: SAMPLE }, () => {
    const i = Math.floor(Math.random() * count);
    return {
      organizationId: `org${i}`,
      origin: `https://chat.eu.org${i}-widgets.com`,
      method: "chat.boot",
    };
  });
}

// HS256 first, on a small heap: the whole step 6 against a bare HMAC
// verify of the same bytes.
const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
const SECRET = testingSecret("bench");
const jwtEvaluator = compileSpec(testingPolicy([
  testingOrganization("acme", {
    allow: ["acme.com", "*.acme.com"],
    jwtMode: "required",
    keys: [{ id: "k1", secret: SECRET }],
  }),
]));
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
const webCryptoKey = await crypto.subtle.importKey(
  "raw",
  SECRET.slice(),
  { name: "HMAC", hash: "SHA-256" },
  false,
  ["verify"],
);

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

Deno.bench({
  name: "evaluate() with an HS256 token",
  group: "hs256",
  async fn() {
    const decision = await jwtEvaluator.evaluate(tokenFacts);
    if (!decision.identity.verified) {
      throw new Error("Expected a verified token");
    }
  },
});

/** Everything one size needs, built on first use so earlier groups run on a small heap. */
function decisionFixture(size: number) {
  const evaluator = compileSpec(testingPolicy(organizations(size)));
  const facts = sampleFacts(size);
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
      const decision = await evaluator.evaluate(facts[next++ % SAMPLE]!);
      if (!decision.allowed) throw new Error("Expected an admitted origin");
    },
  });

  Deno.bench({
    name: `checkOrigin() ${size} organizations`,
    group,
    fn() {
      const { evaluator, facts } = setup();
      const one = facts[next++ % SAMPLE]!;
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
      const one = facts[next++ % SAMPLE]!;
      const rule = naiveMatchOrigin(rows, one.organizationId, one.origin!);
      b.end();
      if (rule === undefined) throw new Error("Expected an admitted origin");
    },
  });
}

// Compile time of a 10,000-organization policy, from a spec and from text.
const YAML_ORGANIZATIONS = 10_000;
let bigSpec: ReturnType<typeof testingPolicy> | undefined;
const bigYaml = () =>
  [
    "version: 1",
    "organizations:",
    ...Array.from({ length: YAML_ORGANIZATIONS }, (_, i) =>
      [
        `  org${i}:`,
        `    name: Organization ${i}`,
        "    domains:",
        "      mode: enforce",
        `      allow: [${
          allowList(i).map((entry) => JSON.stringify(entry)).join(", ")
        }]`,
        '    jwt: { mode: "off" }',
      ].join("\n")),
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

Deno.bench({
  name: "compilePolicy() YAML, 10,000 organizations",
  group: "compile",
  n: 5,
  warmup: 1,
  fn(b) {
    bigYamlText ??= bigYaml();
    b.start();
    compilePolicy(bigYamlText);
    b.end();
  },
});
