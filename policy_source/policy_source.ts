/**
 * What the server reads its policy through: the evaluator in force, swapped
 * whole on every reload, and what the last reloads reported for `/healthz`.
 * A file (`policy_file_source.ts`) or a directory
 * (`policy_directory_source.ts`) reloads; a compiled evaluator is a source
 * that never changes ({@linkcode staticPolicy}).
 *
 * @module
 */

import type { Evaluator, PolicyFileError } from "../policy/types.ts";

/** A policy that may change while the server runs (hot reload). */
export interface PolicySource {
  /** The evaluator in force; read once per request. */
  readonly current: Evaluator;
  /** The last reload failure, for `/healthz`. */
  readonly lastReloadError?: string | null;
  /** Every policy file whose latest version failed, with its first error, for `/healthz`. */
  readonly policyErrors?: readonly PolicyFileError[];
}

/**
 * A compiled policy as a source that never reloads.
 *
 * @param evaluator The policy, from `compilePolicy`.
 * @returns A source whose `current` is always `evaluator`.
 *
 * @example Serve a policy compiled once
 * ```ts ignore
 * const policy = staticPolicy(compilePolicy(await Deno.readTextFile("policy.yaml")));
 * const handler = createHandler({ policy, store: await openStore(":memory:") });
 * ```
 */
export function staticPolicy(evaluator: Evaluator): PolicySource {
  return { current: evaluator };
}
