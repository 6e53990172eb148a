/**
 * One RPC request as the pipeline carries it from step to step: what was
 * read off it once (origin, client IP, the policy in force) and what the
 * steps record for the reply and the decision log.
 *
 * @module
 */

import type { Evaluator } from "../policy/types.ts";
import type { AppliedLimit } from "./rate_limit_headers.ts";

/** One RPC request in the pipeline. */
export interface Exchange {
  readonly request: Request;
  /** The method as named in the path (not yet known to exist). */
  readonly methodName: string;
  /** The `Origin` header. */
  readonly origin: string | null;
  /** The client IP under `server.trustProxy`. */
  readonly ip: string;
  /** The policy in force when the request arrived; one for the whole request. */
  readonly evaluator: Evaluator;
  /** Epoch milliseconds of arrival. */
  readonly now: number;
  /** Limits charged so far, for the reply's headers. */
  readonly limits: AppliedLimit[];
  /** The organization as the request (or its session) named it, for the log. */
  organizationId: string | null;
}
