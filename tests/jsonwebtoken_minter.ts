/**
 * User tokens minted by a real peer: the Node example
 * (`examples/token-server/node-jsonwebtoken.mjs`, the real `jsonwebtoken`
 * package) run as a subprocess, plus direct `jsonwebtoken` signing for tokens
 * with chosen claims.
 *
 * @module
 */

import jwt from "jsonwebtoken";

/**
 * Runs the Node example's `generateChatJWT` in a subprocess.
 *
 * @param options Secret, issuer (page origin), organization and user.
 * @returns The token it printed.
 */
export async function mintGuideToken(options: {
  secret: string;
  issuer: string;
  organizationId: string;
  sub: string;
  name?: string;
  email?: string;
}): Promise<string> {
  const script = new URL(
    "../examples/token-server/node-jsonwebtoken.mjs",
    import.meta.url,
  );
  const config = new URL("../deno.json", import.meta.url);
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-env",
      "--config",
      config.pathname,
      script.pathname,
      options.sub,
      options.name ?? "Ada Lovelace",
      options.email ?? "ada@example.com",
    ],
    env: {
      CHAT_JWT_SECRET: options.secret,
      CHAT_ISSUER: options.issuer,
      CHAT_ORG_ID: options.organizationId,
      NO_COLOR: "1",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (output.code !== 0) {
    throw new Error(
      `Token example failed: ${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return new TextDecoder().decode(output.stdout).trim();
}

/**
 * Signs arbitrary claims with `jsonwebtoken` (HS256 unless told otherwise).
 *
 * @param claims The payload.
 * @param secret The HMAC secret.
 * @param options `jsonwebtoken` sign options (e.g. `keyid`).
 * @returns The token.
 */
export function signWithJsonwebtoken(
  claims: Record<string, unknown>,
  secret: string,
  options: { keyid?: string } = {},
): string {
  return jwt.sign(claims, secret, { algorithm: "HS256", ...options });
}
