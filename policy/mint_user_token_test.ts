import {
  deepStrictEqual as deepEqual,
  strictEqual as equal,
} from "node:assert/strict";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { compileSpec } from "./compile.ts";
import { mintUserToken } from "./mint_user_token.ts";
import {
  testingOrganization,
  testingPolicy,
  testingSecret,
} from "./testing_spec.ts";
import { AUDIENCE } from "./user_token.ts";

const NOW = Date.parse("2026-12-01T12:00:00Z");
const SECRET = testingSecret("acme-2026-11");
const evaluator = compileSpec(testingPolicy([
  testingOrganization("acme", {
    allow: ["acme.com"],
    jwtMode: "required",
    keys: [{ id: "2026-11", secret: SECRET }],
  }),
]));

function mint(changes: Partial<Parameters<typeof mintUserToken>[0]> = {}) {
  return mintUserToken({
    secret: SECRET,
    kid: "2026-11",
    organizationId: "acme",
    subject: "user_1",
    issuer: "https://acme.com",
    now: NOW,
    expiresInMs: 600_000,
    ...changes,
  });
}

async function decide(token: string) {
  return await evaluator.evaluate({
    organizationId: "acme",
    origin: "https://acme.com",
    method: "chat.boot",
    token,
    now: NOW,
  });
}

Deno.test("mintUserToken() signs a token the evaluator verifies, for the one audience", async () => {
  const token = await mint({ userData: { plan: "pro" } });
  const decision = await decide(token);
  equal(decision.allowed, true);
  equal(decision.identity.verified, true);
  deepEqual(decodeProtectedHeader(token), {
    alg: "HS256",
    typ: "JWT",
    kid: "2026-11",
  });
  deepEqual(decodeJwt(token), {
    iss: "https://acme.com",
    aud: AUDIENCE,
    sub: "user_1",
    org_id: "acme",
    user_data: { plan: "pro" },
    iat: NOW / 1000,
    exp: NOW / 1000 + 600,
  });
});

Deno.test("mintUserToken() mints an expired token for a negative lifetime, and lets claims override", async () => {
  equal(
    (await decide(await mint({ expiresInMs: -60_000 }))).reason,
    "jwt.expired",
  );
  const other = await mint({ claims: { aud: "another-app" } });
  equal(decodeJwt(other).aud, "another-app");
  equal((await decide(other)).code, "JWT_INVALID");
});
