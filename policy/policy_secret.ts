/**
 * `deno task policy secret`: a new random HS256 secret, and the lines that
 * add it to a policy as a key with an id, for a rotation.
 *
 * @module
 */

/** Random bytes of a new secret: more than HS256's 32, as `openssl rand -base64 48`. */
export const SECRET_BYTES = 48;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * A new random secret.
 *
 * @returns {@linkcode SECRET_BYTES} random bytes as unpadded base64url (64 characters).
 */
export function newSecret(): string {
  return crypto.getRandomValues(new Uint8Array(SECRET_BYTES)).toBase64({
    alphabet: "base64url",
    omitPadding: true,
  });
}

/**
 * The key id a rotation in the month of `now` would use: `2026-12`.
 *
 * @param now Epoch milliseconds.
 * @returns The year and month in UTC.
 */
export function datedKeyId(now: number): string {
  return new Date(now).toISOString().slice(0, 7);
}

/**
 * An environment variable name for a key: `ACME_CHAT_JWT_SECRET_2026_12`,
 * or `PARLEY_JWT_SECRET_2026_12` without an organization.
 *
 * @param keyId The key's id.
 * @param organizationId The organization, when known.
 * @returns A valid variable name.
 */
export function suggestedEnvName(
  keyId: string,
  organizationId?: string,
): string {
  const part = (text: string) =>
    text.toUpperCase().replace(/[^A-Z0-9]+/g, "_").replace(/^_+|_+$/g, "");
  const prefix = organizationId === undefined || part(organizationId) === ""
    ? "PARLEY"
    : `${part(organizationId)}_CHAT`;
  const name = `${prefix}_JWT_SECRET${keyId === "" ? "" : `_${part(keyId)}`}`;
  return /^[0-9]/.test(name) ? `ORG_${name}` : name;
}

/** Whether a key id can be written as `id:` of a JWT key and a `kid` header. */
export function isKeyId(text: string): boolean {
  return KEY_ID.test(text);
}

/** Whether a name can be an environment variable of a `{ env: NAME }` secret. */
export function isEnvName(text: string): boolean {
  return ENV_NAME.test(text);
}

/**
 * What `policy secret` prints: the secret once, how to set it, and the
 * policy lines that add it as a key.
 *
 * @param options The secret, its key id and variable, and the organization.
 * @returns The lines, without trailing newlines.
 */
export function secretInstructions(options: {
  readonly secret: string;
  readonly keyId: string;
  readonly envName: string;
  readonly organizationId?: string;
}): string[] {
  const { secret, keyId, envName } = options;
  const where = options.organizationId === undefined
    ? "the organization's"
    : `"${options.organizationId}"'s`;
  return [
    `A new secret for JWT key "${keyId}" (${SECRET_BYTES} random bytes, base64url).`,
    "Keep it out of the policy and out of version control.",
    "",
    "1. Set it where Parley and your token server run:",
    "",
    `   export ${envName}='${secret}'`,
    "",
    `2. Add the key to ${where} jwt.keys, first, keeping the key it replaces:`,
    "",
    "   jwt:",
    "     keys:",
    `       - id: "${keyId}"`,
    `         secret: { env: ${envName} }`,
    "",
    `3. Sign new tokens with kid "${keyId}". When the security report shows no`,
    "   more traffic on the old key, give the old key an `until:` time, then",
    "   remove it and its variable (README: Rotate a secret).",
  ];
}
