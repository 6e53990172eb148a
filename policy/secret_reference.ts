/**
 * Secrets of a policy (`jwt.keys[].secret`, `admin.keys[].secret`,
 * `webhook.secret`): `{ env: NAME }` is looked up in the environment, an
 * inline string is taken but warned about, and either must be at least as
 * long as the HS256 hash output. No problem ever quotes a secret's value.
 *
 * @module
 */

import type { DocumentPath } from "./problems.ts";
import type {
  EnvLookup,
  RuleContext,
  WrittenSecret,
} from "./written_policy.ts";

/** RFC 7518 §3.2: an HS256 key must be at least as long as the hash output. */
export const MIN_SECRET_BYTES = 32;

/**
 * Resolves one secret the schema has checked.
 *
 * @param secret The secret as written; absent when missing or found wrong.
 * @param path Its path.
 * @param label Whose secret, for messages: `JWT key "2026-11"`, `the webhook`.
 * @param context The document, problems and environment.
 * @returns The secret's value, or `undefined` when there is none to use.
 */
export function resolveSecret(
  secret: WrittenSecret | undefined,
  path: DocumentPath,
  label: string,
  { document, problems, env, refuseSecret }: RuleContext,
): string | undefined {
  if (secret === undefined) return undefined;
  let value: string | undefined;
  if (typeof secret === "string") {
    problems.warning(
      "inline-secret",
      path,
      document.at(path),
      `Secret of ${label} is written inline in the policy`,
      "Move it to an environment variable and write secret: { env: NAME }",
    );
    value = secret;
  } else {
    if (secret.env === undefined) return undefined;
    // Refused before the lookup: set, unset or short must read the same.
    const refusal = refuseSecret?.(secret.env);
    if (refusal !== undefined) {
      problems.error(
        "secret-not-assigned",
        [...path, "env"],
        document.at([...path, "env"]),
        refusal.message,
        refusal.hint,
      );
      return undefined;
    }
    value = lookupEnv(env, secret.env);
    if (value === undefined || value === "") {
      problems.error(
        "env-missing",
        [...path, "env"],
        document.at([...path, "env"]),
        `Environment variable "${secret.env}" for ${label} is not set`,
        `Set "${secret.env}" to a random secret of at least ${MIN_SECRET_BYTES} bytes`,
      );
      return undefined;
    }
  }
  if (new TextEncoder().encode(value).length < MIN_SECRET_BYTES) {
    problems.error(
      "secret-too-short",
      path,
      document.at(path),
      `Secret of ${label} is shorter than ${MIN_SECRET_BYTES} bytes`,
      "Generate one with: openssl rand -base64 48",
    );
    return undefined;
  }
  return value;
}

/**
 * One variable of an environment; a denied permission reads as unset.
 *
 * @param env The environment, if any.
 * @param name The variable.
 * @returns Its value, or `undefined` when it is not set.
 */
export function lookupEnv(
  env: EnvLookup | undefined,
  name: string,
): string | undefined {
  if (env === undefined) return undefined;
  try {
    return typeof env === "function"
      ? env(name)
      : Object.hasOwn(env, name)
      ? env[name]
      : undefined;
  } catch {
    // A denied permission reads as a missing variable.
    return undefined;
  }
}
