/**
 * Mints an HS256 user token the way a website's server would, for
 * `deno task policy token` and the policy test runner (both sign with
 * `jose`, an implementation independent of the verifier).
 *
 * @module
 */

import { SignJWT } from "jose";
import { AUDIENCE } from "./user_token.ts";

/** What {@linkcode mintUserToken} signs. */
export interface UserTokenClaims {
  /** The key's secret. */
  readonly secret: Uint8Array;
  /** The `kid` header; left out when absent. */
  readonly kid?: string;
  readonly organizationId: string;
  /** `sub`: the website's user id. */
  readonly subject: string;
  /** `iss`: the page's origin; left out when absent. */
  readonly issuer?: string;
  /** `iat`, epoch milliseconds. */
  readonly now: number;
  /** `exp` minus `iat`, milliseconds; negative for an expired token. */
  readonly expiresInMs: number;
  /** `user_data`, when given. */
  readonly userData?: Readonly<Record<string, unknown>>;
  /** Claims that override or add to the ones above. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/**
 * Signs a user token.
 *
 * @param token The key, the claims and the clock.
 * @returns The compact JWT.
 */
export async function mintUserToken(token: UserTokenClaims): Promise<string> {
  const issuedAt = Math.floor(token.now / 1000);
  return await new SignJWT({
    ...(token.issuer === undefined ? {} : { iss: token.issuer }),
    aud: AUDIENCE,
    sub: token.subject,
    org_id: token.organizationId,
    ...(token.userData === undefined ? {} : { user_data: token.userData }),
    iat: issuedAt,
    exp: issuedAt + Math.trunc(token.expiresInMs / 1000),
    ...token.claims,
  })
    .setProtectedHeader({
      alg: "HS256",
      typ: "JWT",
      ...(token.kid === undefined ? {} : { kid: token.kid }),
    })
    .sign(token.secret);
}
