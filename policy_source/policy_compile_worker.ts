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

import type { CompileJob } from "./policy_worker.ts";
import { validateWithProcessEnv } from "./process_file_validation.ts";

self.onmessage = (event: MessageEvent<CompileJob>) => {
  const { id, request } = event.data;
  self.postMessage({ id, outcome: validateWithProcessEnv(request) });
};
