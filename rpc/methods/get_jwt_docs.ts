/**
 * `chat.getJWTDocs`: everything a website developer needs to mint tokens for
 * this organization — algorithm, claims and their rules, key ids (never
 * secrets), an example payload, and ready-to-run code for Node, Deno and
 * Python.
 *
 * @module
 */

import type { OrganizationSpec } from "../../policy/types.ts";
import { AUDIENCE, isKeyActive } from "../../policy/user_token.ts";
import type { MethodDefinition } from "../method.ts";
import type { JwtDocs } from "../../wire/mod.ts";

/** The `chat.getJWTDocs` method. */
export const getJwtDocs: MethodDefinition<"chat.getJWTDocs"> = {
  access: "public",
  run({ organization, now }): Promise<JwtDocs> {
    const spec = organization.spec;
    const issuer = exampleIssuer(spec);
    const maxLifetime = Math.floor(spec.jwt.maxLifetimeMs / 1000);
    const ttl = Math.min(600, maxLifetime);
    const secretVariable = `${
      spec.id.toUpperCase().replace(/[^A-Z0-9]/g, "_")
    }_CHAT_JWT_SECRET`;
    return Promise.resolve({
      organizationId: spec.id,
      mode: spec.jwt.mode,
      algorithm: "HS256",
      header:
        "Authorization: Bearer <token> on chat.boot (the widget's userJWT option)",
      audience: AUDIENCE,
      maxLifetimeSeconds: maxLifetime,
      clockToleranceSeconds: Math.floor(spec.jwt.clockToleranceMs / 1000),
      keys: spec.jwt.keys
        .filter((key) => isKeyActive(key, now))
        .map((key) => ({
          id: key.id,
          ...(key.until === undefined
            ? {}
            : { until: new Date(key.until).toISOString() }),
        })),
      claims: {
        required: [
          {
            name: "iss",
            rule:
              "The page origin (scheme://host[:port]) the widget runs on, exactly",
          },
          { name: "aud", rule: `"${AUDIENCE}" (or an array containing it)` },
          {
            name: "sub",
            rule:
              "Your stable user id, a non-empty string of at most 256 characters",
          },
          {
            name: "exp",
            rule:
              `Expiry in seconds since the epoch, at most ${maxLifetime} s after iat (or now)`,
          },
          { name: "org_id", rule: `"${spec.id}"` },
        ],
        optional: [
          {
            name: "iat",
            rule:
              "Issued-at in seconds; not in the future beyond the clock tolerance",
          },
          {
            name: "nbf",
            rule:
              "Not-before in seconds; not in the future beyond the clock tolerance",
          },
          {
            name: "user_data",
            rule:
              "A JSON object of at most 4096 bytes (name, email, custom fields)",
          },
        ],
        header: [
          { name: "alg", rule: "Exactly HS256" },
          {
            name: "kid",
            rule:
              "Optional: the key id to verify with (recommended during rotation)",
          },
        ],
      },
      examplePayload: {
        iss: issuer,
        aud: AUDIENCE,
        sub: "user_123",
        iat: 1767225600,
        exp: 1767225600 + ttl,
        org_id: spec.id,
        user_data: { name: "Ada Lovelace", email: "ada@example.com" },
      },
      examples: {
        node: nodeExample(spec.id, issuer, ttl, secretVariable),
        deno: denoExample(spec.id, issuer, ttl, secretVariable),
        python: pythonExample(spec.id, issuer, ttl, secretVariable),
      },
    });
  },
};

function exampleIssuer(spec: OrganizationSpec): string {
  const exact = spec.domains.allow.find((pattern) => !pattern.wildcard);
  if (exact === undefined) return "https://your-domain.example";
  const port = exact.port === undefined ? "" : `:${exact.port}`;
  return `${exact.scheme}://${exact.host}${port}`;
}

function nodeExample(
  org: string,
  iss: string,
  ttl: number,
  env: string,
): string {
  return `// npm install jsonwebtoken
const jwt = require("jsonwebtoken");

function chatToken(user) {
  const now = Math.floor(Date.now() / 1000);
  return jwt.sign(
    {
      iss: ${JSON.stringify(iss)},
      aud: "${AUDIENCE}",
      sub: String(user.id),
      iat: now,
      exp: now + ${ttl},
      org_id: ${JSON.stringify(org)},
      user_data: { name: user.name, email: user.email },
    },
    process.env.${env},
    { algorithm: "HS256" },
  );
}
`;
}

function denoExample(
  org: string,
  iss: string,
  ttl: number,
  env: string,
): string {
  return `// deno run --allow-env mint.ts
import { SignJWT } from "npm:jose@6";

const secret = new TextEncoder().encode(Deno.env.get(${JSON.stringify(env)}));
const token = await new SignJWT({
  org_id: ${JSON.stringify(org)},
  user_data: { name: "Ada Lovelace", email: "ada@example.com" },
})
  .setProtectedHeader({ alg: "HS256" })
  .setIssuer(${JSON.stringify(iss)})
  .setAudience("${AUDIENCE}")
  .setSubject("user_123")
  .setIssuedAt()
  .setExpirationTime("${ttl}s")
  .sign(secret);
console.log(token);
`;
}

function pythonExample(
  org: string,
  iss: string,
  ttl: number,
  env: string,
): string {
  return `# pip install pyjwt
import os, time
import jwt

def chat_token(user):
    now = int(time.time())
    return jwt.encode(
        {
            "iss": ${JSON.stringify(iss)},
            "aud": "${AUDIENCE}",
            "sub": str(user["id"]),
            "iat": now,
            "exp": now + ${ttl},
            "org_id": ${JSON.stringify(org)},
            "user_data": {"name": user["name"], "email": user["email"]},
        },
        os.environ[${JSON.stringify(env)}],
        algorithm="HS256",
    )
`;
}
