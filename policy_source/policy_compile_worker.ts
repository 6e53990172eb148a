/**
 * The worker that validates policy files off the server's main thread
 * (`policy_worker.ts` starts it): one request in, one outcome out, in order.
 *
 * It reads the process environment itself, so no secret crosses into it;
 * an organization's file still sees only its own variables, since
 * `validateOrganizationFile` filters the lookup by the directory's
 * `secrets:` map.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import {
  type FileValidationRequest,
  foldOutcome,
  validateFile,
} from "../policy/file_validation.ts";
import { readProcessEnv } from "../policy_io/process_env.ts";
import type { CompileJob } from "./policy_worker.ts";

/** Problems of each code sent back; the rest are counted (`omitted`). */
const PROBLEMS_KEPT_PER_CODE = 100;

function withEnv(request: FileValidationRequest): FileValidationRequest {
  // One spread per kind, so the options keep their kind's type.
  return request.kind === "organization"
    ? { ...request, options: { ...request.options, env: readProcessEnv } }
    : { ...request, options: { ...request.options, env: readProcessEnv } };
}

self.onmessage = (event: MessageEvent<CompileJob>) => {
  const { id, request } = event.data;
  // Copying 200,000 problems would cost the main thread what the worker saved it.
  const outcome = foldOutcome(
    validateFile(withEnv(request)),
    PROBLEMS_KEPT_PER_CODE,
  );
  self.postMessage({ id, outcome });
};
