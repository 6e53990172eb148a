/**
 * One organization's evaluator, for `explain` and `token`: in a directory
 * only `_parley.yaml` and the organization's file are read, so an error in
 * another organization's file never stops them.
 *
 * @module
 */

import { formatProblem } from "../policy/format_problem.ts";
import type { Evaluator } from "../policy/types.ts";
import { loadPolicy } from "../policy_io/load_policy.ts";
import { readProcessEnv } from "../policy_io/process_env.ts";

/**
 * Reads and compiles what one organization needs, with the process's
 * environment; prints the problems to stderr when it does not compile.
 *
 * @param path A policy file or directory.
 * @param organizationId The organization.
 * @param now Clock for `until-past` warnings, epoch milliseconds.
 * @returns The evaluator, or `undefined` when what is needed has errors.
 * @throws {UnreadableFileError} When the policy cannot be read.
 */
export async function organizationPolicy(
  path: string,
  organizationId: string,
  now?: number,
): Promise<Evaluator | undefined> {
  const policy = await loadPolicy(path, {
    env: readProcessEnv,
    organizationId,
    ...(now === undefined ? {} : { now }),
  });
  // Only what the organization needs was read, so any error stops it.
  if (
    policy.files.some((file) => !file.ok) || policy.evaluator === undefined
  ) {
    for (const file of policy.files) {
      for (const problem of file.problems) {
        console.error(formatProblem(file.file, problem));
      }
    }
    return undefined;
  }
  return policy.evaluator;
}
