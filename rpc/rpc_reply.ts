/**
 * The JSON replies of the RPC endpoint: a success with the rate-limit state,
 * or any error as its wire code — never a stack trace.
 *
 * @module
 */

import { ChatError } from "../chat/chat_error.ts";
import { StoreDataError } from "../store/store_data_error.ts";
import { StoreUnavailableError } from "../store/store_unavailable_error.ts";
import { rpcErrorFromChat } from "./chat_error_mapping.ts";
import { corsHeaders, type HeaderEntry } from "./cors.ts";
import {
  type DecisionLogSink,
  logDecision,
} from "../observability/decision_log.ts";
import type { Exchange } from "./exchange.ts";
import type { Metrics } from "../observability/metrics.ts";
import { rateLimitHeaders, tightestLimit } from "./rate_limit_headers.ts";
import { UNKNOWN_ORGANIZATION } from "../store/store.ts";
import { RpcError } from "./rpc_error.ts";
import type { Reply } from "../wire/mod.ts";

/** Where failures are told. */
export interface FailureSinks {
  readonly decisionLog?: DecisionLogSink;
  readonly metrics: Metrics;
}

/**
 * A method's result as the reply: streams are sent as they are, data in the
 * success envelope.
 */
export function successReply(exchange: Exchange, result: unknown): Response {
  const headers = replyHeaders(exchange);
  if (result instanceof Response) {
    for (const [header, value] of headers) result.headers.set(header, value);
    return result;
  }
  const rateLimit = tightestLimit(exchange.limits);
  return json(
    {
      ok: true,
      data: result,
      ...(rateLimit === undefined ? {} : { rateLimit }),
    },
    200,
    headers,
  );
}

/**
 * Any error as its wire reply. Refusals are logged and counted with their
 * code; anything else is a bug: `INTERNAL`, logged with a decision id the
 * client is given, and the stack only on stderr.
 */
export function failureReply(
  exchange: Exchange,
  error: unknown,
  sinks: FailureSinks,
): Response {
  if (error instanceof StoreUnavailableError) {
    sinks.metrics.storeError("closed");
  }
  const refusal = asRpcError(error);
  const organization = exchange.organizationId !== null &&
      exchange.evaluator.organization(exchange.organizationId) !== undefined
    ? exchange.organizationId
    : UNKNOWN_ORGANIZATION;
  const headers = replyHeaders(exchange);
  if (refusal !== undefined) {
    logDecision(
      sinks.decisionLog,
      exchange,
      exchange.organizationId,
      "rejected",
      refusal.code,
      refusal.reason ?? null,
    );
    sinks.metrics.decision(organization, "rejected", refusal.code);
    if (refusal.retryAfter !== undefined) {
      headers.push(["Retry-After", String(refusal.retryAfter)]);
    }
    return json(
      { ok: false, error: refusal.toWire() },
      refusal.status,
      headers,
    );
  }
  const decisionId = logDecision(
    sinks.decisionLog,
    exchange,
    exchange.organizationId,
    "error",
    "INTERNAL",
    "internal.bug",
  );
  console.error(
    `Internal error in ${
      exchange.methodName.slice(0, 64)
    } (decision ${decisionId}):`,
    error,
  );
  sinks.metrics.decision(organization, "rejected", "INTERNAL");
  return json(
    {
      ok: false,
      error: {
        code: "INTERNAL",
        message: `Internal error; reference ${decisionId}`,
        reason: "internal.bug",
      },
    },
    500,
    headers,
  );
}

/** The wire error of a refusal; `undefined` for a bug. */
function asRpcError(error: unknown): RpcError | undefined {
  if (error instanceof RpcError) return error;
  if (error instanceof ChatError) return rpcErrorFromChat(error);
  if (error instanceof StoreUnavailableError) {
    return new RpcError(
      "UNAVAILABLE",
      "Storage is unavailable; try again shortly",
      { reason: "store.unavailable" },
    );
  }
  // The store is up and refused a value: input no check caught is the
  // client's (400); any other refused value is a bug (500). Neither is an
  // outage, so neither counts as a store error.
  if (error instanceof StoreDataError && error.kind === "text") {
    return new RpcError(
      "BAD_REQUEST",
      "The request holds text that cannot be stored",
      { reason: "store.invalid_text" },
    );
  }
  return undefined;
}

function replyHeaders(exchange: Exchange): HeaderEntry[] {
  return [
    ...corsHeaders(exchange.origin),
    ...rateLimitHeaders(exchange.limits),
  ];
}

function json(
  body: Reply<unknown>,
  status: number,
  headers: HeaderEntry[],
): Response {
  headers.push(
    ["Content-Type", "application/json; charset=utf-8"],
    ["Cache-Control", "no-store"],
  );
  return new Response(JSON.stringify(body), { status, headers });
}
