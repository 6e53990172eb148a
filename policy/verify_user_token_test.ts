import assert from "node:assert/strict";
import { compileSpec } from "./compile.ts";
import {
  base64url,
  signTestingToken,
  testingOrganization,
  testingPolicy,
  testingSecret,
} from "./testing_spec.ts";
import type { Facts, JwtMode } from "./types.ts";
import {
  createUserTokenKeyring,
  MAX_TOKEN_LENGTH,
  verifyUserToken,
} from "./verify_user_token.ts";

const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
const NOW_S = NOW / 1000;
const ORIGIN = "https://acme.com";
const CURRENT = testingSecret("acme-2026-11");
const PREVIOUS = testingSecret("acme-2026-08");
const GLOBEX = testingSecret("globex");
const RETIRED_AT = NOW + 60 * 60_000;

function policy(mode: JwtMode = "required") {
  return testingPolicy([
    testingOrganization("acme", {
      allow: ["acme.com", "*.acme.com"],
      jwtMode: mode,
      keys: [
        { id: "2026-11", secret: CURRENT },
        { id: "2026-08", secret: PREVIOUS, until: RETIRED_AT },
      ],
    }),
    testingOrganization("globex", {
      allow: ["globex.com"],
      jwtMode: "required",
      keys: [{ id: "g-1", secret: GLOBEX }],
    }),
  ]);
}
const evaluator = compileSpec(policy());

function claims(overrides: Record<string, unknown> = {}) {
  const base: Record<string, unknown> = {
    iss: ORIGIN,
    aud: "chat-widget",
    sub: "user-42",
    exp: NOW_S + 600,
    iat: NOW_S,
    org_id: "acme",
    user_data: { name: "Ada", custom_fields: { tier: "premium" } },
  };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return base;
}

const HEADER = { alg: "HS256", typ: "JWT" };
const sign = (
  payload: unknown = claims(),
  header: unknown = HEADER,
  secret = CURRENT,
) => signTestingToken(secret, payload, header);

function flipLastSignatureBit(token: string): string {
  const [h, p, s] = token.split(".");
  const bytes = Uint8Array.fromBase64(s!, { alphabet: "base64url" });
  bytes[bytes.length - 1]! ^= 1;
  return `${h}.${p}.${base64url(bytes)}`;
}

interface Row {
  readonly name: string;
  readonly token: () => Promise<string>;
  /** `null` when the token verifies. */
  readonly reason: string | null;
  readonly facts?: Partial<Facts>;
}

// One row per attack or rule a user token must meet (docs/policy.md, User tokens).
const ROWS: readonly Row[] = [
  { name: "valid token", token: () => sign(), reason: null },
  {
    name: 'alg "none"',
    token: async () =>
      (await sign(claims(), { alg: "none" })).replace(/[^.]+$/, ""),
    reason: "jwt.alg",
  },
  {
    name: 'alg "None"',
    token: () => sign(claims(), { alg: "None" }),
    reason: "jwt.alg",
  },
  {
    name: 'alg "NONE"',
    token: () => sign(claims(), { alg: "NONE" }),
    reason: "jwt.alg",
  },
  {
    name: 'alg "HS384"',
    token: () => sign(claims(), { alg: "HS384" }),
    reason: "jwt.alg",
  },
  {
    name: 'alg "HS512"',
    token: () => sign(claims(), { alg: "HS512" }),
    reason: "jwt.alg",
  },
  {
    name: 'alg "RS256"',
    token: () => sign(claims(), { alg: "RS256" }),
    reason: "jwt.alg",
  },
  {
    name: 'alg "hs256"',
    token: () => sign(claims(), { alg: "hs256" }),
    reason: "jwt.alg",
  },
  {
    name: "alg missing",
    token: () => sign(claims(), { typ: "JWT" }),
    reason: "jwt.alg",
  },
  {
    name: "tampered payload",
    token: async () => {
      const [h, , s] = (await sign()).split(".");
      return `${h}.${base64url(claims({ sub: "admin" }))}.${s}`;
    },
    reason: "jwt.signature",
  },
  {
    name: "one flipped signature bit",
    token: async () => flipLastSignatureBit(await sign()),
    reason: "jwt.signature",
  },
  {
    name: "stripped signature",
    token: async () => (await sign()).replace(/[^.]+$/, ""),
    reason: "jwt.signature",
  },
  {
    name: "wrong secret",
    token: () => sign(claims(), HEADER, testingSecret("guess")),
    reason: "jwt.signature",
  },
  {
    name: "another organization's secret",
    token: () => sign(claims(), HEADER, GLOBEX),
    reason: "jwt.signature",
  },
  {
    name: "another organization's key id",
    token: () => sign(claims(), { ...HEADER, kid: "g-1" }, GLOBEX),
    reason: "jwt.kid_unknown",
  },
  {
    name: "unknown kid",
    token: () => sign(claims(), { ...HEADER, kid: "2025-01" }),
    reason: "jwt.kid_unknown",
  },
  {
    name: "kid with a path",
    token: () => sign(claims(), { ...HEADER, kid: "../../../dev/null" }),
    reason: "jwt.kid_unknown",
  },
  {
    name: "kid with SQL",
    token: () => sign(claims(), { ...HEADER, kid: "' OR '1'='1" }),
    reason: "jwt.kid_unknown",
  },
  {
    name: "kid not a string",
    token: () => sign(claims(), { ...HEADER, kid: 7 }),
    reason: "jwt.kid_unknown",
  },
  {
    name: "kid of the current key",
    token: () => sign(claims(), { ...HEADER, kid: "2026-11" }),
    reason: null,
  },
  {
    name: "crit header",
    token: () => sign(claims(), { ...HEADER, crit: ["exp"] }),
    reason: "jwt.header_forbidden",
  },
  {
    name: "jku header",
    token: () => sign(claims(), { ...HEADER, jku: "http://127.0.0.1:9/jwks" }),
    reason: "jwt.header_forbidden",
  },
  {
    name: "x5u header",
    token: () => sign(claims(), { ...HEADER, x5u: "http://127.0.0.1:9/cert" }),
    reason: "jwt.header_forbidden",
  },
  {
    name: "jwk header",
    token: () => sign(claims(), { ...HEADER, jwk: { kty: "oct", k: "AAAA" } }),
    reason: "jwt.header_forbidden",
  },
  {
    name: "x5c header",
    token: () => sign(claims(), { ...HEADER, x5c: ["AAAA"] }),
    reason: "jwt.header_forbidden",
  },
  {
    name: "exp missing",
    token: () => sign(claims({ exp: undefined })),
    reason: "jwt.exp_missing",
  },
  {
    name: "exp a string",
    token: () => sign(claims({ exp: String(NOW_S + 600) })),
    reason: "jwt.exp_invalid",
  },
  {
    name: "exp null",
    token: () => sign(claims({ exp: null })),
    reason: "jwt.exp_invalid",
  },
  {
    name: "exp in the past",
    token: () => sign(claims({ exp: NOW_S - 3600, iat: NOW_S - 3700 })),
    reason: "jwt.expired",
  },
  {
    name: "exp at now minus the tolerance",
    token: () => sign(claims({ exp: NOW_S - 30, iat: NOW_S - 600 })),
    reason: "jwt.expired",
  },
  {
    name: "exp now, within the tolerance",
    token: () => sign(claims({ exp: NOW_S, iat: NOW_S - 600 })),
    reason: null,
  },
  {
    name: "exp 1e300",
    token: () => sign(claims({ exp: 1e300 })),
    reason: "jwt.lifetime",
  },
  {
    name: "iat in the future",
    token: () => sign(claims({ iat: NOW_S + 120 })),
    reason: "jwt.iat_future",
  },
  {
    name: "iat within the tolerance",
    token: () => sign(claims({ iat: NOW_S + 10 })),
    reason: null,
  },
  {
    name: "iat a string",
    token: () => sign(claims({ iat: "now" })),
    reason: "jwt.iat_invalid",
  },
  {
    name: "nbf in the future",
    token: () => sign(claims({ nbf: NOW_S + 120 })),
    reason: "jwt.nbf_future",
  },
  {
    name: "nbf in the past",
    token: () => sign(claims({ nbf: NOW_S - 5 })),
    reason: null,
  },
  {
    name: "lifetime over the cap",
    token: () => sign(claims({ exp: NOW_S + 16 * 60 })),
    reason: "jwt.lifetime",
  },
  {
    name: "lifetime at the cap",
    token: () => sign(claims({ exp: NOW_S + 15 * 60 })),
    reason: null,
  },
  {
    name: "no iat, lifetime over the cap",
    token: () => sign(claims({ iat: undefined, exp: NOW_S + 20 * 60 })),
    reason: "jwt.lifetime",
  },
  {
    name: "no iat, lifetime at the cap",
    token: () => sign(claims({ iat: undefined, exp: NOW_S + 15 * 60 })),
    reason: null,
  },
  {
    name: "aud another string",
    token: () => sign(claims({ aud: "api" })),
    reason: "jwt.aud",
  },
  {
    name: "aud in another case",
    token: () => sign(claims({ aud: "Chat-Widget" })),
    reason: "jwt.aud",
  },
  {
    name: "aud missing",
    token: () => sign(claims({ aud: undefined })),
    reason: "jwt.aud",
  },
  {
    name: "aud array with chat-widget",
    token: () => sign(claims({ aud: ["api", "chat-widget"] })),
    reason: null,
  },
  {
    name: "aud array without chat-widget",
    token: () => sign(claims({ aud: ["api"] })),
    reason: "jwt.aud",
  },
  {
    name: "iss in upper case",
    token: () => sign(claims({ iss: "HTTPS://ACME.com" })),
    reason: null,
  },
  {
    name: "iss with the default port",
    token: () => sign(claims({ iss: "https://acme.com:443" })),
    reason: null,
  },
  {
    name: "iss with a trailing slash",
    token: () => sign(claims({ iss: "https://acme.com/" })),
    reason: "jwt.iss",
  },
  {
    name: "iss with a path",
    token: () => sign(claims({ iss: "https://acme.com/app" })),
    reason: "jwt.iss",
  },
  {
    name: "iss with another port",
    token: () => sign(claims({ iss: "https://acme.com:8443" })),
    reason: "jwt.iss",
  },
  {
    name: "iss with another scheme",
    token: () => sign(claims({ iss: "http://acme.com" })),
    reason: "jwt.iss",
  },
  {
    name: "iss a bare host",
    token: () => sign(claims({ iss: "acme.com" })),
    reason: "jwt.iss",
  },
  {
    name: "iss another allowed origin",
    token: () => sign(claims({ iss: "https://www.acme.com" })),
    reason: "jwt.iss",
  },
  {
    name: "iss missing",
    token: () => sign(claims({ iss: undefined })),
    reason: "jwt.iss",
  },
  {
    name: "request without origin",
    token: () => sign(),
    reason: "jwt.iss",
    facts: { origin: null, method: "chat.getConfig" },
  },
  {
    name: "org_id of another organization",
    token: () => sign(claims({ org_id: "globex" })),
    reason: "jwt.org_id",
  },
  {
    name: "org_id missing",
    token: () => sign(claims({ org_id: undefined })),
    reason: "jwt.org_id",
  },
  {
    name: "sub missing",
    token: () => sign(claims({ sub: undefined })),
    reason: "jwt.sub",
  },
  {
    name: "sub empty",
    token: () => sign(claims({ sub: "" })),
    reason: "jwt.sub",
  },
  {
    name: "sub a number",
    token: () => sign(claims({ sub: 42 })),
    reason: "jwt.sub",
  },
  {
    name: "sub over 256 characters",
    token: () => sign(claims({ sub: "u".repeat(257) })),
    reason: "jwt.sub",
  },
  {
    name: "sub holding a NUL",
    token: () => sign(claims({ sub: "user\u000042" })),
    reason: "jwt.sub",
  },
  {
    name: "sub holding a terminal escape",
    token: () => sign(claims({ sub: "user\u001b[2J" })),
    reason: "jwt.sub",
  },
  {
    name: "user_data a string",
    token: () => sign(claims({ user_data: "admin" })),
    reason: "jwt.user_data",
  },
  {
    name: "user_data an array",
    token: () => sign(claims({ user_data: ["admin"] })),
    reason: "jwt.user_data",
  },
  {
    name: "user_data null",
    token: () => sign(claims({ user_data: null })),
    reason: "jwt.user_data",
  },
  {
    name: "user_data over 4 KiB",
    token: () => sign(claims({ user_data: { note: "x".repeat(4100) } })),
    reason: "jwt.user_data",
  },
  {
    name: "user_data absent",
    token: () => sign(claims({ user_data: undefined })),
    reason: null,
  },
  {
    name: "token over 8 KiB",
    token: () =>
      sign(claims({ user_data: { note: "x".repeat(MAX_TOKEN_LENGTH) } })),
    reason: "jwt.too_large",
  },
  {
    name: "two segments",
    token: async () => (await sign()).split(".").slice(0, 2).join("."),
    reason: "jwt.malformed",
  },
  {
    name: "four segments",
    token: async () => `${await sign()}.AAAA`,
    reason: "jwt.malformed",
  },
  {
    name: "one segment",
    token: () => Promise.resolve("eyJhbGciOiJIUzI1NiJ9"),
    reason: "jwt.malformed",
  },
  {
    name: "standard base64 characters",
    token: async () => (await sign()).replace(/^e/, "+"),
    reason: "jwt.malformed",
  },
  {
    name: "base64 padding",
    token: async () => (await sign()).replace(".", "=."),
    reason: "jwt.malformed",
  },
  {
    name: "whitespace inside a segment",
    token: async () => (await sign()).replace(".", " ."),
    reason: "jwt.malformed",
  },
  {
    name: "header not JSON",
    token: async () =>
      `${base64url(new TextEncoder().encode("{alg"))}.${
        (await sign()).split(".").slice(1).join(".")
      }`,
    reason: "jwt.malformed",
  },
  {
    name: "header a JSON array",
    token: () => sign(claims(), ["HS256"]),
    reason: "jwt.malformed",
  },
  {
    name: "payload a JSON array, signed",
    token: () => sign([claims()]),
    reason: "jwt.malformed",
  },
  {
    name: "user_id equal to sub",
    token: () => sign(),
    reason: null,
    facts: { userId: "user-42" },
  },
  {
    name: "user_id differs from sub",
    token: () => sign(),
    reason: "jwt.user_id_mismatch",
    facts: { userId: "user-1" },
  },
  {
    name: "previous key by kid before until",
    token: () => sign(claims(), { ...HEADER, kid: "2026-08" }, PREVIOUS),
    reason: null,
  },
  {
    name: "previous key without kid before until",
    token: () => sign(claims(), HEADER, PREVIOUS),
    reason: null,
  },
  {
    name: "previous key by kid after until",
    token: () =>
      sign(
        claims({ exp: RETIRED_AT / 1000 + 600, iat: RETIRED_AT / 1000 + 1 }),
        { ...HEADER, kid: "2026-08" },
        PREVIOUS,
      ),
    reason: "jwt.key_expired",
    facts: { now: RETIRED_AT + 1000 },
  },
  {
    name: "previous key without kid after until",
    token: () =>
      sign(
        claims({ exp: RETIRED_AT / 1000 + 600, iat: RETIRED_AT / 1000 + 1 }),
        HEADER,
        PREVIOUS,
      ),
    reason: "jwt.signature",
    facts: { now: RETIRED_AT + 1000 },
  },
];

for (const row of ROWS) {
  Deno.test(`evaluate() on a token: ${row.name}`, async () => {
    const token = await row.token();
    const decision = await evaluator.evaluate({
      organizationId: "acme",
      origin: ORIGIN,
      method: "chat.boot",
      now: NOW,
      token,
      ...row.facts,
    });
    if (row.reason === null) {
      assert.equal(decision.code, undefined);
      assert.equal(decision.allowed, true);
      assert.equal(decision.reason, "jwt.verified");
      assert.equal(decision.identity.verified, true);
      assert.equal(decision.identity.subject, "user-42");
    } else {
      assert.equal(decision.allowed, false);
      assert.equal(decision.code, "JWT_INVALID");
      assert.equal(decision.reason, row.reason);
      assert.equal(decision.identity.verified, false);
    }
  });
}

Deno.test("evaluate() returns the verified identity and key id", async () => {
  const decision = await evaluator.evaluate({
    organizationId: "acme",
    origin: ORIGIN,
    now: NOW,
    token: await sign(claims(), HEADER, PREVIOUS),
  });
  assert.deepEqual(decision.identity, {
    verified: true,
    subject: "user-42",
    keyId: "2026-08",
    userData: { name: "Ada", custom_fields: { tier: "premium" } },
  });
});

// Mode × token: what each JWT mode promises (docs/policy.md, Every option).
const MODES: readonly [
  JwtMode,
  "valid" | "invalid" | "none",
  string | null,
  string,
][] = [
  ["off", "valid", null, "jwt.off"],
  ["off", "invalid", null, "jwt.off"],
  ["off", "none", null, "jwt.off"],
  ["optional", "valid", null, "jwt.verified"],
  ["optional", "invalid", "JWT_INVALID", "jwt.signature"],
  ["optional", "none", null, "jwt.absent"],
  ["required", "valid", null, "jwt.verified"],
  ["required", "invalid", "JWT_INVALID", "jwt.signature"],
  ["required", "none", "JWT_REQUIRED", "jwt.required"],
];

for (const [mode, kind, code, reason] of MODES) {
  Deno.test(`evaluate() in jwt mode "${mode}" with ${kind} token`, async () => {
    const compiled = compileSpec(policy(mode));
    const token = kind === "valid"
      ? await sign()
      : kind === "invalid"
      ? await sign(claims(), HEADER, testingSecret("guess"))
      : undefined;
    const decision = await compiled.evaluate({
      organizationId: "acme",
      origin: ORIGIN,
      method: "chat.boot",
      now: NOW,
      ...(token === undefined ? {} : { token }),
    });
    assert.equal(decision.code, code ?? undefined);
    assert.equal(decision.allowed, code === null);
    assert.equal(decision.reason, reason);
    assert.equal(decision.identity.verified, reason === "jwt.verified");
  });
}

for (const method of ["chat.getConfig", "chat.getJWTDocs"]) {
  Deno.test(`evaluate() never requires a token for "${method}"`, async () => {
    const decision = await evaluator.evaluate({
      organizationId: "acme",
      origin: ORIGIN,
      method,
      now: NOW,
    });
    assert.equal(decision.allowed, true);
    assert.equal(decision.reason, "jwt.testing_method");
  });
}

Deno.test("explain() traces each key tried and never shows the token", async () => {
  const token = await sign(claims(), HEADER, PREVIOUS);
  const explanation = await evaluator.explain({
    organizationId: "acme",
    origin: ORIGIN,
    now: NOW,
    token,
  });
  const keys = explanation.trace.filter((step) => step.check === "jwt.key");
  assert.deepEqual(keys.map((step) => step.outcome), ["fail", "pass"]);
  const claimSteps = explanation.trace.filter((step) =>
    step.check.startsWith("jwt.claim.")
  );
  assert.ok(claimSteps.length >= 7);
  assert.ok(claimSteps.every((step) => step.outcome === "pass"));
  const text = JSON.stringify(explanation);
  for (const part of token.split(".")) assert.ok(!text.includes(part));
  assert.ok(!text.includes(new TextDecoder().decode(PREVIOUS)));
});

Deno.test("explain() names the failed claim with the decision's reason", async () => {
  const explanation = await evaluator.explain({
    organizationId: "acme",
    origin: ORIGIN,
    now: NOW,
    token: await sign(claims({ aud: "api" })),
  });
  assert.equal(explanation.reason, "jwt.aud");
  const last = explanation.trace.at(-1);
  assert.equal(last?.check, "jwt.claim.aud");
  assert.equal(last?.outcome, "fail");
  assert.equal(last?.reason, "jwt.aud");
});

Deno.test("verifyUserToken() tries at most 10 keys without kid", async () => {
  const keys = Array.from({ length: 12 }, (_, i) => ({
    id: `k${i}`,
    secret: testingSecret(`k${i}`),
  }));
  const keyring = createUserTokenKeyring({
    mode: "required",
    keys,
    maxLifetimeMs: 15 * 60_000,
    clockToleranceMs: 30_000,
  });
  const expected = { organizationId: "acme", origin: ORIGIN, now: NOW };
  const tenth = await signTestingToken(keys[9]!.secret, claims());
  const eleventh = await signTestingToken(keys[10]!.secret, claims());
  assert.deepEqual(verifyUserToken(tenth, keyring, expected), {
    ok: true,
    subject: "user-42",
    keyId: "k9",
    userData: { name: "Ada", custom_fields: { tier: "premium" } },
  });
  assert.deepEqual(verifyUserToken(eleventh, keyring, expected), {
    ok: false,
    reason: "jwt.signature",
  });
});
