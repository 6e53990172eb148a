/**
 * `deno task policy token POLICY --org ID --sub U --origin URL [--kid K]
 * [--ttl 10m] [--user-data JSON]`: a development user token, signed with
 * the organization's active key (or the one `--kid` names) from the
 * environment. Prints the token only, never the key.
 *
 * Exit codes: 0 the token, 1 the policy does not compile or has no such
 * key, 2 bad usage or an unreadable policy.
 *
 * @module
 */

import { parseOrigin } from "../policy/host.ts";
import { mintUserToken } from "../policy/mint_user_token.ts";
import { parseDuration } from "../policy/rate.ts";
import { activeKey } from "../policy/user_token.ts";
import { organizationArguments, required, UsageError } from "./arguments.ts";
import { organizationPolicy } from "./organization_policy.ts";

/**
 * Runs `token`.
 *
 * @param args The arguments after `token`.
 * @returns The exit code.
 * @throws {UsageError} When an option is missing or malformed.
 */
export async function token(args: readonly string[]): Promise<number> {
  const { path, organizationId, values } = organizationArguments(args, {
    sub: { type: "string" },
    origin: { type: "string" },
    kid: { type: "string" },
    ttl: { type: "string" },
    "user-data": { type: "string" },
  });
  const subject = required(values.sub, "sub");
  const origin = parseOrigin(required(values.origin, "origin"));
  if (!origin) {
    throw new UsageError(
      `Origin "${values.origin}" is not scheme://host[:port]`,
    );
  }
  const ttlMs = parseDuration(values.ttl ?? "10m");
  if (ttlMs === undefined || ttlMs < 1_000) {
    throw new UsageError(`TTL "${values.ttl}" is not a duration such as "10m"`);
  }
  const userData = values["user-data"] === undefined
    ? undefined
    : userDataOf(values["user-data"]);
  const now = Date.now();
  const evaluator = await organizationPolicy(path, organizationId, now);
  if (evaluator === undefined) return 1;
  const organization = evaluator.organization(organizationId)?.spec;
  if (!organization) {
    console.error(`Organization "${organizationId}" is not in "${path}"`);
    return 1;
  }
  const key = activeKey(organization.jwt.keys, now, values.kid);
  if (!key) {
    console.error(
      values.kid === undefined
        ? `Organization "${organizationId}" has no active JWT key`
        : `Organization "${organizationId}" has no JWT key "${values.kid}"`,
    );
    return 1;
  }
  if (ttlMs > organization.jwt.maxLifetimeMs) {
    console.error(
      `Warning: TTL is longer than the organization's maxLifetime; the token will be refused`,
    );
  }
  console.log(
    await mintUserToken({
      secret: key.secret,
      kid: key.id,
      organizationId,
      subject,
      issuer: origin.origin,
      now,
      expiresInMs: ttlMs,
      ...(userData === undefined ? {} : { userData }),
    }),
  );
  return 0;
}

/** `--user-data`: a JSON object, or bad usage. */
function userDataOf(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`Option "--user-data" must be a JSON object`);
  }
  return parsed as Record<string, unknown>;
}
