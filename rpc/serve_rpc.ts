/**
 * `serveRpc()`: the request pipeline of one RPC call (docs/design.md), read
 * top to bottom:
 *
 * 1. hygiene — `POST`, a known method, a bounded JSON object body, no token
 *    in the body;
 * 2. the client IP (`client_ip.ts`);
 * 3–7. admission by access kind (`admission.ts`), which returns its verdict
 *    and the limits it charged;
 * 8. the method runs, and its result or refusal becomes the reply
 *    (`rpc_reply.ts`).
 *
 * The policy in force when the request arrives is the one it is judged by
 * throughout, even if a reload swaps the evaluator meanwhile.
 *
 * @module
 */

import type { PolicySource } from "../policy_source/policy_source.ts";
import { type AdmissionParts, admit } from "./admission.ts";
import { clientIp } from "./client_ip.ts";
import type { Exchange, RpcCall } from "./exchange.ts";
import type { MethodDefinition } from "./method.ts";
import { methodNamed } from "./methods/table.ts";
import { Params } from "./params.ts";
import { readJsonBody } from "./read_json_body.ts";
import { RpcError } from "./rpc_error.ts";
import { failureReply, successReply } from "./rpc_reply.ts";
import { refuseTokenInBody } from "./token_in_body.ts";

/** What the pipeline runs on: admission's parts, the policy in force and the clock. */
export interface RpcPipeline extends AdmissionParts {
  readonly policy: PolicySource;
  readonly now: () => number;
}

/**
 * Serves one call of `POST /rpc/{methodName}`.
 *
 * @param request The request (its method, headers and body).
 * @param methodName The method as named in the path, not yet known to exist.
 * @param pipeline The long-lived parts (`startServices()` returns them).
 * @param info The connection, for the client IP; `127.0.0.1` without it.
 * @returns The reply: the method's data or stream, or a refusal with its
 *   wire code — never a stack trace.
 */
export async function serveRpc(
  request: Request,
  methodName: string,
  pipeline: RpcPipeline,
  info?: Deno.ServeHandlerInfo,
): Promise<Response> {
  const started = performance.now();
  const evaluator = pipeline.policy.current;
  const call: RpcCall = {
    request,
    methodName,
    origin: request.headers.get("origin"),
    ip: clientIp(
      request,
      (info?.remoteAddr as Deno.NetAddr | undefined)?.hostname,
      evaluator.spec.server.trustProxy,
    ),
    evaluator,
    now: pipeline.now(),
  };
  const method = methodNamed(methodName);
  // What the reply reports until admission has decided.
  let exchange: Exchange = { ...call, limits: [], organizationId: null };
  let response: Response;
  try {
    const known = await knownMethod(request, method, methodName);
    const body = await readJsonBody(
      request,
      evaluator.spec.server.maxBodyBytes,
    );
    refuseTokenInBody(known, body);
    const admission = await admit(call, known, new Params(body), pipeline);
    exchange = {
      ...call,
      limits: admission.charged,
      organizationId: admission.organizationId,
    };
    if (admission.admitted) {
      response = successReply(exchange, await known.run(admission.context));
      pipeline.metrics.decision(admission.organizationId, "allowed", "OK");
    } else {
      response = failureReply(exchange, admission.refusal, pipeline);
    }
  } catch (error) {
    response = failureReply(exchange, error, pipeline);
  }
  pipeline.metrics.latency(
    method === undefined ? "_unknown" : methodName,
    (performance.now() - started) / 1000,
  );
  return response;
}

/**
 * Step 1, before the body is read: an RPC is a `POST` of a known method.
 *
 * @throws {RpcError} `METHOD_NOT_ALLOWED`, `METHOD_NOT_FOUND`.
 */
async function knownMethod(
  request: Request,
  method: MethodDefinition | undefined,
  name: string,
): Promise<MethodDefinition> {
  if (request.method !== "POST") {
    await request.body?.cancel();
    throw new RpcError(
      "METHOD_NOT_ALLOWED",
      "RPC methods are called with POST",
      { reason: "http.method" },
    );
  }
  if (method === undefined) {
    await request.body?.cancel();
    throw new RpcError(
      "METHOD_NOT_FOUND",
      `Unknown method "${name.slice(0, 64)}"`,
      { reason: "rpc.unknown_method" },
    );
  }
  return method;
}
