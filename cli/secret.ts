/**
 * `deno task policy secret [--org ID] [--id 2026-12] [--env NAME]`: a new
 * random key secret, the `export` line for its variable and the `jwt.keys`
 * lines that add it. The one command that prints a secret: the one it made.
 *
 * Exit codes: 0 the secret, 2 bad usage.
 *
 * @module
 */

import {
  datedKeyId,
  isEnvName,
  isKeyId,
  newSecret,
  secretInstructions,
  suggestedEnvName,
} from "../policy/policy_secret.ts";
import { parseArguments, UsageError } from "./arguments.ts";

/**
 * Runs `secret`.
 *
 * @param args The arguments after `secret`.
 * @returns The exit code.
 * @throws {UsageError} When a key id or variable name is malformed, or a policy is given.
 */
export function secret(args: readonly string[]): number {
  const { values, positionals } = parseArguments(args, {
    org: { type: "string" },
    id: { type: "string" },
    env: { type: "string" },
  });
  if (positionals.length > 0) {
    throw new UsageError("secret takes no policy file");
  }
  const keyId = values.id ?? datedKeyId(Date.now());
  if (!isKeyId(keyId)) {
    throw new UsageError(
      `Key id "${
        keyId.slice(0, 64)
      }" is not 1 to 64 letters, digits, '.', '_' or '-'`,
    );
  }
  const envName = values.env ?? suggestedEnvName(keyId, values.org);
  if (!isEnvName(envName)) {
    throw new UsageError(
      `"${envName.slice(0, 64)}" is not an environment variable name`,
    );
  }
  for (
    const line of secretInstructions({
      secret: newSecret(),
      keyId,
      envName,
      ...(values.org === undefined ? {} : { organizationId: values.org }),
    })
  ) {
    console.log(line);
  }
  return 0;
}
