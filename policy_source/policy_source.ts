/**
 * What the server reads its policy through: the evaluator in force, swapped
 * whole on every reload, and what the last reloads reported for `/healthz`.
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
