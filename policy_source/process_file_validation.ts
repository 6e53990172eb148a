/**
 * One policy file validated against this process's environment, with at
 * most 100 problems of each code kept (the rest counted): what the compile
 * worker does for every file, and what a policy file source does for its
 * first read, before anything is served.
 *
 * @module
 */

import {
  type FileValidationOutcome,
  type FileValidationRequest,
  foldOutcome,
  validateFile,
} from "../policy/file_validation.ts";
import { readProcessEnv } from "../policy_io/process_env.ts";

/** Problems of each code kept; the rest are counted (`omitted`). */
const PROBLEMS_KEPT_PER_CODE = 100;

/**
 * Validates `request` with the process environment as its secret lookup.
 *
 * @param request The file, its kind and options (without `env`).
 * @returns The outcome, its problems folded.
 */
export function validateWithProcessEnv(
  request: FileValidationRequest,
): FileValidationOutcome {
  // Copying 200,000 problems would cost the receiver what the worker saved it.
  return foldOutcome(validateFile(withEnv(request)), PROBLEMS_KEPT_PER_CODE);
}

function withEnv(request: FileValidationRequest): FileValidationRequest {
  // One spread per kind, so the options keep their kind's type.
  return request.kind === "organization"
    ? { ...request, options: { ...request.options, env: readProcessEnv } }
    : { ...request, options: { ...request.options, env: readProcessEnv } };
}
