import assert from "node:assert/strict";
import { compileSpec } from "../policy/compile.ts";
import { testingOrganization, testingPolicy } from "../policy/testing_spec.ts";
import { mintChatToken } from "../examples/token-server/deno-jose.ts";
import { mintGuideToken } from "./jsonwebtoken_minter.ts";

const SECRET = "interop-secret-0123456789abcdef0123456789";
const ISSUER = "https://acme.com";

const evaluator = compileSpec(testingPolicy([
  testingOrganization("acme", {
    allow: ["acme.com"],
    jwtMode: "required",
    keys: [
      { id: "2026-11", secret: new TextEncoder().encode(SECRET) },
      {
        id: "2026-08",
        secret: new TextEncoder().encode(
          "previous-secret-0123456789abcdef01234",
        ),
      },
    ],
  }),
]));

/** Runs the Node example (real `jsonwebtoken`) and returns its token. */
function mintWithJsonwebtoken(
  secret: string,
  [sub, name, email]: [string, string?, string?],
): Promise<string> {
  return mintGuideToken({
    secret,
    issuer: ISSUER,
    organizationId: "acme",
    sub,
    ...(name === undefined ? {} : { name }),
    ...(email === undefined ? {} : { email }),
  });
}

Deno.test("a token from the Node jsonwebtoken example verifies", async () => {
  const token = await mintWithJsonwebtoken(SECRET, [
    "user_123",
    "Ada Lovelace",
    "ada@example.com",
  ]);
  const decision = await evaluator.evaluate({
    organizationId: "acme",
    origin: ISSUER,
    method: "chat.boot",
    userId: "user_123",
    token,
  });
  assert.equal(decision.reason, "jwt.verified");
  assert.deepEqual(decision.identity, {
    verified: true,
    subject: "user_123",
    keyId: "2026-11",
    userData: {
      name: "Ada Lovelace",
      email: "ada@example.com",
      custom_fields: { department: "support", tier: "premium" },
    },
  });
});

Deno.test("a jsonwebtoken token signed with another secret is refused", async () => {
  const token = await mintWithJsonwebtoken(
    "someone-elses-secret-0123456789abcdef0123",
    ["user_123"],
  );
  const decision = await evaluator.evaluate({
    organizationId: "acme",
    origin: ISSUER,
    token,
  });
  assert.equal(decision.code, "JWT_INVALID");
  assert.equal(decision.reason, "jwt.signature");
});

const JOSE_CASES: readonly [string, string | undefined][] = [
  ["without kid", undefined],
  ["with kid", "2026-11"],
];

for (const [name, keyId] of JOSE_CASES) {
  Deno.test(`a token from jose's SignJWT ${name} verifies`, async () => {
    const token = await mintChatToken({
      secret: SECRET,
      issuer: ISSUER,
      organizationId: "acme",
      subject: "user_456",
      userData: { plan: "pro" },
      ...(keyId === undefined ? {} : { keyId }),
    });
    const decision = await evaluator.evaluate({
      organizationId: "acme",
      origin: ISSUER,
      token,
    });
    assert.equal(decision.reason, "jwt.verified");
    assert.equal(decision.identity.verified, true);
    assert.equal(decision.identity.subject, "user_456");
    assert.deepEqual(decision.identity.userData, { plan: "pro" });
  });
}

Deno.test("a jose token over the maximum lifetime is refused", async () => {
  const token = await mintChatToken({
    secret: SECRET,
    issuer: ISSUER,
    organizationId: "acme",
    subject: "user_456",
    lifetimeSeconds: 24 * 3600,
  });
  const decision = await evaluator.evaluate({
    organizationId: "acme",
    origin: ISSUER,
    token,
  });
  assert.equal(decision.code, "JWT_INVALID");
  assert.equal(decision.reason, "jwt.lifetime");
});
