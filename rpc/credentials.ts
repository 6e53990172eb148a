/**
 * The credentials of the calls that follow a boot: the bearer a request
 * carries, and why a verified session may no longer be used under the policy
 * in force — checked at every session call and by every open stream.
 *
 * @module
 */

import type { CompiledOrganization } from "../policy/types.ts";
import { RpcError } from "./rpc_error.ts";
import { matchesSessionOrigin, type SessionClaims } from "./session_token.ts";

/** What {@linkcode sessionProblem} reads of a session. */
export type SessionBinding = Pick<
  SessionClaims,
  "organizationId" | "securityRevision" | "origin"
>;

/** Why a verified session may no longer be used, if it may not. */
export function sessionProblem(
  session: SessionBinding,
  organization: CompiledOrganization | undefined,
  named: string | undefined,
  origin: string | null,
): RpcError | undefined {
  if (organization === undefined) return organizationNotFound();
  if (named !== undefined && named !== session.organizationId) {
    return sessionInvalid("session.organization_mismatch");
  }
  if (organization.securityRevision !== session.securityRevision) {
    return sessionInvalid("session.revoked");
  }
  if (!matchesSessionOrigin(origin, session.origin)) {
    return sessionInvalid("session.origin");
  }
  return undefined;
}

export function organizationNotFound(): RpcError {
  return new RpcError("ORGANIZATION_NOT_FOUND", "Organization not found", {
    reason: "organization.unknown",
  });
}

function sessionInvalid(reason: string): RpcError {
  return new RpcError(
    "SESSION_INVALID",
    "Session is no longer valid; boot again",
    { reason },
  );
}

/** The bearer token of `Authorization`, if any. */
export function bearerToken(request: Request): string | undefined {
  const header = request.headers.get("authorization");
  if (header === null) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
