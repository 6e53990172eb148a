/**
 * Mints a chat widget user token with `jose`'s `SignJWT` (HS256), for sites
 * whose server runs on Deno. Import `mintChatToken`, or run it:
 *
 * ```sh
 * CHAT_JWT_SECRET=... CHAT_ISSUER=https://your-domain.com CHAT_ORG_ID=acme \
 *   deno run --allow-env examples/token-server/deno-jose.ts user_123
 * ```
 *
 * @module
 */

import { SignJWT } from "jose";

/** What a token says about the signed-in user. */
export interface ChatTokenRequest {
  /** The HS256 secret shared with the chat policy (32 bytes or more). */
  readonly secret: string;
  /** The page's origin, e.g. `https://your-domain.com`. */
  readonly issuer: string;
  readonly organizationId: string;
  /** The user's id in your system; becomes `sub`. */
  readonly subject: string;
  readonly userData?: Record<string, unknown>;
  /** Key id, when the policy has several keys. */
  readonly keyId?: string;
  /** Lifetime in seconds (default 900, the policy's usual maximum). */
  readonly lifetimeSeconds?: number;
}

/**
 * Signs a user token for the chat widget.
 *
 * @param request The user and the organization's secret.
 * @returns The compact HS256 token.
 */
export function mintChatToken(request: ChatTokenRequest): Promise<string> {
  const payload = request.userData === undefined
    ? { org_id: request.organizationId }
    : { org_id: request.organizationId, user_data: request.userData };
  return new SignJWT(payload)
    .setProtectedHeader(
      request.keyId === undefined
        ? { alg: "HS256", typ: "JWT" }
        : { alg: "HS256", typ: "JWT", kid: request.keyId },
    )
    .setIssuer(request.issuer)
    .setAudience("chat-widget")
    .setSubject(request.subject)
    .setIssuedAt()
    .setExpirationTime(`${request.lifetimeSeconds ?? 900}s`)
    .sign(new TextEncoder().encode(request.secret));
}

if (import.meta.main) {
  const secret = Deno.env.get("CHAT_JWT_SECRET");
  const issuer = Deno.env.get("CHAT_ISSUER");
  const organizationId = Deno.env.get("CHAT_ORG_ID");
  if (!secret || !issuer || !organizationId) {
    console.error("Set CHAT_JWT_SECRET, CHAT_ISSUER and CHAT_ORG_ID");
    Deno.exit(2);
  }
  const [subject = "user_123", name = "User Name"] = Deno.args;
  console.log(
    await mintChatToken({
      secret,
      issuer,
      organizationId,
      subject,
      userData: { name },
    }),
  );
}
