/**
 * One RPC request as the pipeline carries it from step to step: what was
 * read off it once (an {@linkcode RpcCall}: method name, origin, client IP,
 * the policy in force, the time), and for the reply what admission decided
 * (an {@linkcode Exchange}). Nothing is assigned in place: admission returns
 * its verdict, and the reply is built from a new exchange.
 *
 * @module
 */

import type { Evaluator } from "../policy/types.ts";
import type { AppliedLimit } from "./rate_limit_headers.ts";

/** One RPC call as read off its request, once. */
export interface RpcCall {
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
}

/** A call with what its reply reports: the limits charged and the organization named. */
export interface Exchange extends RpcCall {
  /** Limits charged, for the reply's headers. */
  readonly limits: readonly AppliedLimit[];
  /** The organization as the request (or its session) named it, for the log. */
  readonly organizationId: string | null;
}
