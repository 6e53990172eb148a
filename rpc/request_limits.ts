/**
 * The limits a request spends, by name (the names of the `RateLimit-Policy`
 * header), and how a chain of them is charged: the verdicts become the
 * reply's rate-limit state, or `RATE_LIMITED`.
 *
 * @module
 */

import type {
  LimitCharge,
  LimitVerdict,
  RateLimiter,
} from "../limits/rate_limiter.ts";
import type { CompiledOrganization, Evaluator } from "../policy/types.ts";
import { type AppliedLimit, retryAfterSeconds } from "./rate_limit_headers.ts";
import { RpcError } from "./rpc_error.ts";
import { UNKNOWN_ORGANIZATION } from "../store/store.ts";

/** The reason of a refusal by the IP limit. */
export const IP_LIMIT_REASON = "limit.ip";

/** The reason of a refusal by the failed-authentication limit. */
export const AUTH_FAILURES_REASON = "limits.auth_failures";

/** A limit of the request pipeline, named for the wire headers. */
export interface NamedLimit extends LimitCharge {
  readonly name: "ip" | "organization" | "session" | "agent" | "authFailures";
  /** The refusal's reason; `limit.<name>` when absent. */
  readonly reason?: string;
}

/** The IP limit; unknown organizations share one bucket per IP, so random ids add no keys. */
export function ipLimit(
  evaluator: Evaluator,
  organization: CompiledOrganization | undefined,
  ip: string,
): NamedLimit {
  return organization === undefined
    ? {
      name: "ip",
      organizationId: UNKNOWN_ORGANIZATION,
      bucket: `ip:${ip}`,
      rate: evaluator.spec.defaults.limits.ip,
    }
    : {
      name: "ip",
      organizationId: organization.spec.id,
      bucket: `ip:${ip}`,
      rate: organization.spec.limits.ip,
    };
}

/** The organization limit: admitted entry-point requests of the whole organization. */
export function organizationLimit(
  organization: CompiledOrganization,
): NamedLimit {
  return {
    name: "organization",
    organizationId: organization.spec.id,
    bucket: "org",
    rate: organization.spec.limits.organization,
  };
}

/**
 * A session's own budget: what its chat calls spend, so a busy site's chats
 * never spend the budget of its boots.
 */
export function sessionLimit(
  organization: CompiledOrganization,
  sessionId: string,
): NamedLimit {
  return {
    name: "session",
    organizationId: organization.spec.id,
    bucket: `session:${sessionId}`,
    rate: organization.spec.limits.session,
  };
}

/** An agent's own budget: what the `agent.*` calls of one admin key spend. */
export function agentLimit(
  organization: CompiledOrganization,
  agentId: string,
): NamedLimit {
  return {
    name: "agent",
    organizationId: organization.spec.id,
    bucket: `agent:${agentId}`,
    rate: organization.spec.limits.agent,
  };
}

/**
 * The failed-authentication limit of one IP at one organization
 * (`limits.authFailures`). A failed authentication counts in it; every other
 * request of a known organization peeks at it, so an IP that spent it is
 * refused on every process and host, and its other requests spend nothing.
 *
 * @param organization The organization named.
 * @param ip The client IP.
 * @param failed Whether this request failed to authenticate (counted) or
 *   not (a peek).
 * @returns The limit, named `authFailures` on the wire.
 */
export function authFailuresLimit(
  organization: CompiledOrganization,
  ip: string,
  failed: boolean,
): NamedLimit {
  return {
    name: "authFailures",
    reason: AUTH_FAILURES_REASON,
    organizationId: organization.spec.id,
    bucket: `auth:${ip}`,
    rate: organization.spec.limits.authFailures,
    ...(failed ? {} : { peek: true }),
  };
}

/**
 * Charges a chain in one store step and records the verdicts for the reply.
 *
 * @throws {RpcError} `RATE_LIMITED` for the first limit that rejects.
 * @throws {StoreUnavailableError} When the store fails.
 */
export async function chargeChain(
  limiter: RateLimiter,
  chain: readonly NamedLimit[],
  applied: AppliedLimit[],
  now: number,
): Promise<void> {
  applyVerdicts(chain, await limiter.chargeAll(chain, now), applied);
}

/**
 * Records the verdicts for the reply's headers.
 *
 * @throws {RpcError} `RATE_LIMITED` on a rejection.
 */
export function applyVerdicts(
  chain: readonly NamedLimit[],
  verdicts: readonly LimitVerdict[],
  applied: AppliedLimit[],
): void {
  verdicts.forEach((verdict, index) => {
    const { name, rate, peek, reason } = chain[index]!;
    // A peek that admits spent nothing: not a limit this request used.
    if (peek && verdict.allowed) return;
    applied.push({
      name,
      limit: verdict.limit,
      windowMs: rate.windowMs,
      remaining: verdict.remaining,
      resetMs: verdict.resetMs,
    });
    if (!verdict.allowed) {
      throw new RpcError(
        "RATE_LIMITED",
        `Too many requests (${rate.text} per ${name})`,
        {
          reason: reason ?? `limit.${name}`,
          retryAfter: retryAfterSeconds(
            verdict.retryAfterMs ?? verdict.resetMs,
            rate.windowMs,
          ),
        },
      );
    }
  });
}
