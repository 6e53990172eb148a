import assert from "node:assert/strict";
import { compilePolicy, compileSpec } from "./compile.ts";
import { PolicyError } from "./error.ts";
import {
  signTestingToken,
  testingOrganization,
  testingPolicy,
  testingSecret,
} from "./testing_spec.ts";
import type { DomainMode, Explanation, Facts } from "./types.ts";

const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
const ALLOW = [
  "acme.com",
  "*.acme.com",
  "http://localhost:3000",
  "https://shop.example.net:8443",
  "bücher.example",
];

function evaluatorFor(mode: DomainMode) {
  return compileSpec(testingPolicy([
    testingOrganization("acme", { domainMode: mode, allow: ALLOW }),
  ]));
}

function domainStep(explanation: Explanation) {
  return explanation.trace.find((step) => step.check === "domain");
}

// Domain vectors under `enforce`: [attack, origin, code, reason, rule].
const DOMAIN_CASES: readonly [
  string,
  string | null | undefined,
  "DOMAIN_NOT_ALLOWED" | null,
  string,
  string | null,
][] = [
  ["exact host", "https://acme.com", null, "domain.exact", "acme.com"],
  [
    "wildcard depth 1",
    "https://www.acme.com",
    null,
    "domain.wildcard",
    "*.acme.com",
  ],
  [
    "wildcard depth 3",
    "https://a.b.c.acme.com",
    null,
    "domain.wildcard",
    "*.acme.com",
  ],
  [
    "suffix lookalike",
    "https://evilacme.com",
    "DOMAIN_NOT_ALLOWED",
    "domain.not_allowed",
    null,
  ],
  [
    "allowed host as a prefix",
    "https://acme.com.evil.com",
    "DOMAIN_NOT_ALLOWED",
    "domain.not_allowed",
    null,
  ],
  ["upper case", "https://ACME.COM", null, "domain.exact", "acme.com"],
  ["trailing dot", "https://acme.com.", null, "domain.exact", "acme.com"],
  [
    "IDN in Unicode",
    "https://bücher.example",
    null,
    "domain.exact",
    "bücher.example",
  ],
  [
    "IDN as punycode",
    "https://xn--bcher-kva.example",
    null,
    "domain.exact",
    "bücher.example",
  ],
  [
    "IDN lookalike",
    "https://bucher.example",
    "DOMAIN_NOT_ALLOWED",
    "domain.not_allowed",
    null,
  ],
  [
    "any port on a bare host",
    "https://acme.com:8443",
    null,
    "domain.exact",
    "acme.com",
  ],
  [
    "http on a bare host",
    "http://acme.com",
    "DOMAIN_NOT_ALLOWED",
    "domain.not_allowed",
    null,
  ],
  [
    "http with the written port",
    "http://localhost:3000",
    null,
    "domain.exact",
    "http://localhost:3000",
  ],
  [
    "http with another port",
    "http://localhost:3001",
    "DOMAIN_NOT_ALLOWED",
    "domain.not_allowed",
    null,
  ],
  [
    "https where http is written",
    "https://localhost:3000",
    "DOMAIN_NOT_ALLOWED",
    "domain.not_allowed",
    null,
  ],
  [
    "https with the written port",
    "https://shop.example.net:8443",
    null,
    "domain.exact",
    "https://shop.example.net:8443",
  ],
  [
    "https without the written port",
    "https://shop.example.net",
    "DOMAIN_NOT_ALLOWED",
    "domain.not_allowed",
    null,
  ],
  [
    "userinfo",
    "https://acme.com@evil.com",
    "DOMAIN_NOT_ALLOWED",
    "domain.origin_invalid",
    null,
  ],
  [
    "userinfo with password",
    "https://user:pw@acme.com",
    "DOMAIN_NOT_ALLOWED",
    "domain.origin_invalid",
    null,
  ],
  [
    "path",
    "https://acme.com/chat",
    "DOMAIN_NOT_ALLOWED",
    "domain.origin_invalid",
    null,
  ],
  [
    "other scheme",
    "ftp://acme.com",
    "DOMAIN_NOT_ALLOWED",
    "domain.origin_invalid",
    null,
  ],
  ["garbage", "acme.com", "DOMAIN_NOT_ALLOWED", "domain.origin_invalid", null],
  [
    'literal "null"',
    "null",
    "DOMAIN_NOT_ALLOWED",
    "domain.origin_missing",
    null,
  ],
  ["null", null, "DOMAIN_NOT_ALLOWED", "domain.origin_missing", null],
  ["missing", undefined, "DOMAIN_NOT_ALLOWED", "domain.origin_missing", null],
];

for (const [name, origin, code, reason, rule] of DOMAIN_CASES) {
  Deno.test(`evaluate() under domains "enforce": ${name}`, async () => {
    const evaluator = evaluatorFor("enforce");
    const facts: Facts = {
      organizationId: "acme",
      method: "chat.boot",
      ...(origin === undefined ? {} : { origin }),
    };
    const decision = await evaluator.evaluate(facts);
    assert.equal(decision.code, code ?? undefined);
    assert.equal(decision.allowed, code === null);
    assert.equal(decision.rule, rule ?? undefined);
    if (code !== null) assert.equal(decision.reason, reason);
    const explanation = await evaluator.explain(facts);
    assert.equal(domainStep(explanation)?.reason, reason);
    assert.equal(explanation.allowed, decision.allowed);
    const verdict = evaluator.checkOrigin("acme", origin ?? null);
    assert.equal(verdict.allowed, code === null);
    assert.equal(verdict.reason, reason);
    assert.equal(verdict.rule, rule ?? undefined);
  });

  Deno.test(`evaluate() under domains "report": ${name}`, async () => {
    const decision = await evaluatorFor("report").evaluate({
      organizationId: "acme",
      method: "chat.boot",
      ...(origin === undefined ? {} : { origin }),
    });
    assert.equal(decision.allowed, true);
    assert.equal(decision.code, undefined);
    assert.deepEqual(
      decision.reportOnly,
      code === null ? undefined : { code, reason },
    );
  });

  Deno.test(`evaluate() under domains "off": ${name}`, async () => {
    const evaluator = evaluatorFor("off");
    const facts: Facts = {
      organizationId: "acme",
      method: "chat.boot",
      ...(origin === undefined ? {} : { origin }),
    };
    const decision = await evaluator.evaluate(facts);
    assert.equal(decision.allowed, true);
    assert.equal(decision.reportOnly, undefined);
    assert.equal(
      domainStep(await evaluator.explain(facts))?.reason,
      "domain.off",
    );
  });
}

Deno.test("evaluate() rejects the apex under a wildcard-only list", async () => {
  const evaluator = compileSpec(testingPolicy([
    testingOrganization("acme", { allow: ["*.acme.com"] }),
  ]));
  const decision = await evaluator.evaluate({
    organizationId: "acme",
    origin: "https://acme.com",
  });
  assert.equal(decision.code, "DOMAIN_NOT_ALLOWED");
  assert.equal(decision.reason, "domain.not_allowed");
});

for (const method of ["chat.getConfig", "chat.getJWTDocs"]) {
  Deno.test(`evaluate() admits "${method}" without an origin`, async () => {
    const decision = await evaluatorFor("enforce").explain({
      organizationId: "acme",
      method,
    });
    assert.equal(decision.allowed, true);
    assert.equal(domainStep(decision)?.reason, "domain.testing_method");
  });

  Deno.test(`evaluate() still rejects "${method}" from a foreign origin`, async () => {
    const decision = await evaluatorFor("enforce").evaluate({
      organizationId: "acme",
      origin: "https://evil.com",
      method,
    });
    assert.equal(decision.code, "DOMAIN_NOT_ALLOWED");
    assert.equal(decision.reason, "domain.not_allowed");
  });
}

// Step 4: [case, organizationId, appId, code, reason].
const ORGANIZATION_CASES: readonly [
  string,
  string,
  string | undefined,
  "ORGANIZATION_NOT_FOUND" | null,
  string,
][] = [
  [
    "unknown organization",
    "initech",
    undefined,
    "ORGANIZATION_NOT_FOUND",
    "organization.unknown",
  ],
  [
    "prototype key as organization",
    "__proto__",
    undefined,
    "ORGANIZATION_NOT_FOUND",
    "organization.unknown",
  ],
  ["listed app id", "acme", "acme_web", null, "organization.app_id_allowed"],
  [
    "unlisted app id",
    "acme",
    "globex_web",
    "ORGANIZATION_NOT_FOUND",
    "organization.app_id_unknown",
  ],
  [
    "no app id where some are listed",
    "acme",
    undefined,
    null,
    "organization.app_id_any",
  ],
  [
    "any app id where none are listed",
    "globex",
    "whatever",
    null,
    "organization.app_id_any",
  ],
];

for (const [name, organizationId, appId, code, reason] of ORGANIZATION_CASES) {
  Deno.test(`evaluate() on the organization: ${name}`, async () => {
    const evaluator = compileSpec(testingPolicy([
      testingOrganization("acme", { appIds: ["acme_web"], domainMode: "off" }),
      testingOrganization("globex", { domainMode: "off" }),
    ]));
    const explanation = await evaluator.explain({
      organizationId,
      ...(appId === undefined ? {} : { appId }),
    });
    assert.equal(explanation.code, code ?? undefined);
    const step = explanation.trace.find((s) =>
      s.check ===
        (reason.startsWith("organization.app") ? "app_id" : "organization")
    );
    assert.equal(step?.reason, reason);
    if (code !== null) {
      assert.equal(explanation.reason, reason);
      const decision = await evaluator.evaluate({
        organizationId,
        ...(appId === undefined ? {} : { appId }),
      });
      assert.equal(decision.code, code);
      assert.equal(decision.reason, reason);
    }
  });
}

Deno.test("checkOrigin() refuses an unknown organization", () => {
  const verdict = evaluatorFor("enforce").checkOrigin(
    "initech",
    "https://acme.com",
  );
  assert.equal(verdict.allowed, false);
  assert.equal(verdict.reason, "organization.unknown");
});

Deno.test("checkOrigin() returns the normalised origin", () => {
  const verdict = evaluatorFor("enforce").checkOrigin(
    "acme",
    "HTTPS://WWW.Acme.com:443",
  );
  assert.equal(verdict.origin, "https://www.acme.com");
  assert.equal(verdict.rule, "*.acme.com");
});

const ADMIN_ACME = "acme-admin-key-0123456789abcdef0123";
const ADMIN_GLOBEX = "globex-admin-key-0123456789abcdef01";
const ADMIN_CASES: readonly [string, string, string, boolean][] = [
  ["the organization's key", "acme", ADMIN_ACME, true],
  ["its second key", "acme", "acme-second-admin-key-000000000000", true],
  ["another organization's key", "acme", ADMIN_GLOBEX, false],
  ["a prefix of the key", "acme", ADMIN_ACME.slice(0, -1), false],
  ["the key with a suffix", "acme", `${ADMIN_ACME}x`, false],
  ["the key in another case", "acme", ADMIN_ACME.toUpperCase(), false],
  ["an empty key", "acme", "", false],
  ["an organization without admin keys", "initech", ADMIN_ACME, false],
  ["an unknown organization", "nobody", ADMIN_ACME, false],
];

for (const [name, organizationId, key, expected] of ADMIN_CASES) {
  Deno.test(`verifyAdminKey() with ${name}`, () => {
    const evaluator = compileSpec(testingPolicy([
      testingOrganization("acme", {
        adminKeys: [ADMIN_ACME, "acme-second-admin-key-000000000000"],
      }),
      testingOrganization("globex", { adminKeys: [ADMIN_GLOBEX] }),
      testingOrganization("initech"),
    ]));
    assert.equal(evaluator.verifyAdminKey(organizationId, key), expected);
  });
}

const AGENTS = compileSpec(testingPolicy([
  testingOrganization("acme", {
    name: "Acme Inc.",
    adminKeys: [
      { id: "ada", name: "Ada Lovelace", secret: ADMIN_ACME },
      "acme-second-admin-key-000000000000",
    ],
  }),
  testingOrganization("globex", { adminKeys: [ADMIN_GLOBEX] }),
]));

const IDENTIFY_CASES: readonly [
  string,
  string,
  string,
  { id: string; name: string } | undefined,
][] = [
  ["a named key", "acme", ADMIN_ACME, { id: "ada", name: "Ada Lovelace" }],
  [
    "a key without id or name",
    "acme",
    "acme-second-admin-key-000000000000",
    { id: "key-2", name: "Acme Inc." },
  ],
  ["another organization's key", "acme", ADMIN_GLOBEX, undefined],
  ["a prefix of the key", "acme", ADMIN_ACME.slice(0, -1), undefined],
  ["an empty key", "acme", "", undefined],
  ["an unknown organization", "nobody", ADMIN_ACME, undefined],
];

for (const [name, organizationId, key, expected] of IDENTIFY_CASES) {
  Deno.test(`identifyAdminKey() with ${name}`, () => {
    const found = AGENTS.identifyAdminKey(organizationId, key);
    assert.deepEqual(found, expected);
    assert.equal(
      AGENTS.verifyAdminKey(organizationId, key),
      expected !== undefined,
      "verifyAdminKey agrees",
    );
  });
}

Deno.test("identifyAdminKey() never hands out the secret", () => {
  const found = AGENTS.identifyAdminKey("acme", ADMIN_ACME);
  assert.ok(found);
  assert.ok(!JSON.stringify(found).includes(ADMIN_ACME));
  assert.ok(Object.isFrozen(found));
});

Deno.test("compileSpec() returns a frozen evaluator with stable revisions", () => {
  const build = (title: string, allow: string[], secret: string) =>
    compileSpec(testingPolicy([
      testingOrganization("acme", {
        allow,
        widget: { title },
        jwtMode: "optional",
        keys: [{ id: "k1", secret: testingSecret(secret) }],
      }),
    ]));
  const first = build("Acme", ["acme.com"], "one");
  assert.ok(Object.isFrozen(first));
  assert.match(first.revision, /^[0-9a-f]{16}$/);
  assert.equal(build("Acme", ["acme.com"], "one").revision, first.revision);
  assert.notEqual(build("Acme!", ["acme.com"], "one").revision, first.revision);

  const security = first.organization("acme")?.securityRevision;
  assert.match(security ?? "", /^[0-9a-f]{16}$/);
  // Widget text and secrets do not revoke sessions; domains do.
  assert.equal(
    build("Acme!", ["acme.com"], "two").organization("acme")?.securityRevision,
    security,
  );
  assert.notEqual(
    build("Acme", ["acme.com", "*.acme.com"], "one").organization("acme")
      ?.securityRevision,
    security,
  );
  assert.equal(first.organization("initech"), undefined);
});

const POLICY_TEXT = `version: 1
defaults:
  jwt: { maxLifetime: 10m, clockTolerance: 5s }
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
    admin:
      keys: [{ secret: { env: ACME_ADMIN_KEY } }]
`;
const ENV = {
  ACME_CHAT_JWT_SECRET: "acme-chat-jwt-secret-0123456789abcdef",
  ACME_ADMIN_KEY: ADMIN_ACME,
};

Deno.test("compilePolicy() compiles YAML into a working evaluator", async () => {
  const evaluator = compilePolicy(POLICY_TEXT, {
    env: ENV,
    filename: "policy.yaml",
  });
  assert.equal(
    evaluator.revision,
    compilePolicy(POLICY_TEXT, { env: (name) => ENV[name as keyof typeof ENV] })
      .revision,
  );
  assert.deepEqual(evaluator.warnings, []);
  assert.ok(evaluator.verifyAdminKey("acme", ADMIN_ACME));
  const token = await signTestingToken(
    new TextEncoder().encode(ENV.ACME_CHAT_JWT_SECRET),
    {
      iss: "https://app.acme.com",
      aud: "chat-widget",
      sub: "user-7",
      org_id: "acme",
      iat: NOW / 1000,
      exp: NOW / 1000 + 11 * 60,
    },
  );
  const facts = {
    organizationId: "acme",
    appId: "acme_web",
    origin: "https://app.acme.com",
    now: NOW,
    token,
  };
  // The policy's 10m maxLifetime applies.
  assert.equal((await evaluator.evaluate(facts)).reason, "jwt.lifetime");
  const shorter = await signTestingToken(
    new TextEncoder().encode(ENV.ACME_CHAT_JWT_SECRET),
    {
      iss: "https://app.acme.com",
      aud: "chat-widget",
      sub: "user-7",
      org_id: "acme",
      iat: NOW / 1000,
      exp: NOW / 1000 + 9 * 60,
    },
  );
  const decision = await evaluator.evaluate({ ...facts, token: shorter });
  assert.equal(decision.reason, "jwt.verified");
  assert.equal(decision.rule, "*.acme.com");
  assert.equal(decision.identity.subject, "user-7");
});

Deno.test("compilePolicy() revision follows the text", () => {
  const a = compilePolicy(POLICY_TEXT, { env: ENV });
  const b = compilePolicy(`${POLICY_TEXT}# comment\n`, { env: ENV });
  assert.notEqual(a.revision, b.revision);
  assert.equal(
    a.organization("acme")?.securityRevision,
    b.organization("acme")?.securityRevision,
  );
});

Deno.test("compilePolicy() keeps warnings for an inline secret", () => {
  const text = POLICY_TEXT.replace(
    "{ env: ACME_CHAT_JWT_SECRET }",
    '"inline-secret-0123456789abcdef0123456789"',
  );
  const evaluator = compilePolicy(text, { env: ENV });
  assert.ok(evaluator.warnings.length > 0);
  assert.ok(
    evaluator.warnings.every((problem) => problem.severity === "warning"),
  );
});

const POLICY_ERRORS: readonly [string, string, string][] = [
  ["a missing secret variable", POLICY_TEXT, "env-missing"],
  [
    "an unsupported version",
    POLICY_TEXT.replace("version: 1", "version: 2"),
    "unknown-version",
  ],
];

for (const [name, text, code] of POLICY_ERRORS) {
  Deno.test(`compilePolicy() throws PolicyError for ${name}`, () => {
    const env = name.includes("missing") ? { ACME_ADMIN_KEY: ADMIN_ACME } : ENV;
    let caught: unknown;
    try {
      compilePolicy(text, { env, filename: "policy.yaml" });
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof PolicyError);
    assert.equal(caught.code, code);
    assert.ok(caught.problems.some((problem) => problem.code === code));
  });
}
