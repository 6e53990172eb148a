/**
 * The host site's side of enhanced security: tokens
 * minted with the real `jsonwebtoken` library, and a page script that fetches
 * them from the site's `/chat-token` endpoint for `getUserJWT`.
 *
 * @module
 */

import jwt from "jsonwebtoken";

/** Claims a test may override or drop (`undefined` removes the claim). */
export type ClaimOverrides = Record<string, unknown>;

/**
 * Mints a token the way README's Node example does (HS256, `kid` header).
 *
 * @param secret the organization's HS256 secret
 * @param claims `iss` (the page origin), `sub`, `org_id`, plus overrides
 * @returns the compact JWT
 */
export function mintChatToken(
  secret: string,
  claims: { iss: string; sub: string; org_id: string } & ClaimOverrides,
  keyId = "k1",
): string {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    aud: "chat-widget",
    iat: now,
    exp: now + 600,
    user_data: { name: "Ada Lovelace", email: "ada@example.com" },
    ...claims,
  };
  for (const [name, value] of Object.entries(payload)) {
    if (value === undefined) delete payload[name];
  }
  return jwt.sign(payload, secret, { algorithm: "HS256", keyid: keyId });
}

/** Page script: `window.parleyGetUserJWT` fetches `/chat-token` and counts its calls. */
export const TOKEN_FETCHER_SCRIPT = `window.parleyTokenCalls = 0;
window.parleyGetUserJWT = function () {
  window.parleyTokenCalls += 1;
  return fetch("/chat-token").then(function (r) { return r.json(); }).then(function (body) { return body.token; });
};
`;
