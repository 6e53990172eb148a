/**
 * A user token sent in the body (`{"userJWT": "…"}`, the widget option's
 * name) is refused with a hint naming the `Authorization: Bearer` header,
 * rather than silently ignored — the request would otherwise boot anonymous,
 * or fail `JWT_REQUIRED`, with nothing saying where the token should go.
 *
 * Refused, not accepted: one place for the token keeps one rule for it. The
 * header is what CORS preflights treat as a credential, what proxies and
 * logs know to redact (bodies are logged more often), and what the policy
 * CLI and the token examples use; a second channel would need a precedence
 * rule for requests carrying both.
 *
 * @module
 */

import type { MethodDefinition } from "./method.ts";
import { RpcError } from "./rpc_error.ts";

/** The body field integrators put the token in, after the widget option. */
const BODY_TOKEN_FIELD = "userJWT";

/**
 * Refuses a body that carries a user token for a method that reads one.
 *
 * @param method The method called.
 * @param body The request's JSON object.
 * @throws {RpcError} `BAD_REQUEST`, reason `jwt.in_body`.
 */
export function refuseTokenInBody(
  method: MethodDefinition,
  body: Readonly<Record<string, unknown>>,
): void {
  if (method.takesUserToken && Object.hasOwn(body, BODY_TOKEN_FIELD)) {
    throw new RpcError(
      "BAD_REQUEST",
      `Send the user token in the "Authorization: Bearer <token>" header; a "${BODY_TOKEN_FIELD}" field in the body is not read`,
      { reason: "jwt.in_body" },
    );
  }
}
