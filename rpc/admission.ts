/**
 * Pipeline steps 3–7: who may call, and what it costs. Each access kind has
 * its own admission, read top to bottom:
 *
 * - `public` (the entry points): the IP limit, or the IP's
 *   failed-authentication limit at this organization, is known spent →
 *   refused before any token work; the evaluator judges organization, domain
 *   and user token (and `chat.boot`'s judgment is counted for the security
 *   report); the IP limit, the failed-authentication limit (counted for a
 *   `JWT_INVALID`, peeked at otherwise) and (for admitted requests only) the
 *   organization limit are charged as one chain in one store step, and a
 *   refusal reports the earliest failed step. A boot is counted for the
 *   report only once the IP limit has admitted it.
 * - `session`: the session token is verified and re-checked against the
 *   policy in force; the call spends the session's own budget
 *   (`limits.session`).
 * - `agent`: the bearer is one of the organization's admin keys; the call
 *   spends that agent's budget (`limits.agent`) and peeks at the IP's
 *   failed-authentication limit; a wrong key counts in it, as a `JWT_INVALID`
 *   does at the entry points. A valid key never looks at the IP limit: the
 *   visitors sharing an agent's address cannot lock the agent out.
 *
 * Refusals at any kind spend the IP limit, so guessing floods are throttled.
 *
 * @module
 */

import type { LimitVerdict, RateLimiter } from "../limits/rate_limiter.ts";
import type { CompiledOrganization, Decision } from "../policy/types.ts";
import type { AgentIdentity } from "./wire.ts";
import { StoreUnavailableError } from "../store/store_unavailable_error.ts";
import type { DecisionLogSink } from "../observability/decision_log.ts";
import { logDecision } from "../observability/decision_log.ts";
import type { Exchange } from "./exchange.ts";
import type { MethodContext, MethodDefinition, Services } from "./method.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Params } from "./params.ts";
import {
  agentLimit,
  applyVerdicts,
  AUTH_FAILURES_REASON,
  authFailuresLimit,
  chargeChain,
  IP_LIMIT_REASON,
  ipLimit,
  type NamedLimit,
  organizationLimit,
  sessionLimit,
} from "./request_limits.ts";
import { RpcError } from "./rpc_error.ts";
import type { SecurityTally } from "../observability/security_tally.ts";
import type { SessionClaims } from "./session_token.ts";
import {
  bearerToken,
  organizationNotFound,
  sessionProblem,
} from "./credentials.ts";

/** What admission needs besides the request. */
export interface AdmissionParts {
  readonly limiter: RateLimiter;
  readonly metrics: Metrics;
  readonly decisionLog?: DecisionLogSink;
  /** The security report's counts of this process. */
  readonly security: SecurityTally;
  /** The long-lived services, once the store has given the session secret. */
  readonly services: () => Promise<Services>;
}

/**
 * Admits a request to `method` or throws the refusal.
 *
 * @returns The context the method runs with.
 * @throws {RpcError} The refusal, with its wire code.
 * @throws {StoreUnavailableError} When the store fails and the policy fails closed.
 */
export async function admit(
  exchange: Exchange,
  method: MethodDefinition,
  params: Params,
  parts: AdmissionParts,
): Promise<MethodContext> {
  const services = await parts.services().catch(() => {
    // The session secret lives in the store: without it no session can be issued.
    throw new RpcError(
      "UNAVAILABLE",
      "Storage is unavailable; try again shortly",
      { reason: "store.unavailable" },
    );
  });
  const bearer = bearerToken(exchange.request);
  const admitted = (
    organization: CompiledOrganization,
    extra: Pick<MethodContext, "decision" | "session" | "agent">,
  ): MethodContext => ({
    request: exchange.request,
    params,
    evaluator: exchange.evaluator,
    organization,
    origin: exchange.origin,
    ip: exchange.ip,
    services,
    now: exchange.now,
    ...extra,
  });
  switch (method.access) {
    case "session": {
      const { organization, session } = await admitSession(
        exchange,
        params,
        bearer,
        services,
        parts,
      );
      return admitted(organization, { session });
    }
    case "agent": {
      const { organization, agent } = await admitAgent(
        exchange,
        params,
        bearer,
        parts,
      );
      return admitted(organization, { agent });
    }
    case "public": {
      const { organization, decision } = await admitPublic(
        exchange,
        method,
        params,
        bearer,
        parts,
      );
      return admitted(organization, { decision });
    }
  }
}

async function admitSession(
  exchange: Exchange,
  params: Params,
  bearer: string | undefined,
  services: Services,
  parts: AdmissionParts,
): Promise<{ organization: CompiledOrganization; session: SessionClaims }> {
  const named = params.optionalString("organizationId", 64);
  let session: SessionClaims;
  try {
    if (bearer === undefined) {
      throw new RpcError("SESSION_INVALID", "A session token is required", {
        reason: "session.missing",
      });
    }
    session = services.sessions.verify(bearer, exchange.now);
  } catch (error) {
    return await refuse(
      exchange,
      exchange.evaluator.organization(named ?? ""),
      error,
      parts,
    );
  }
  exchange.organizationId = session.organizationId;
  const organization = exchange.evaluator.organization(session.organizationId);
  const problem = sessionProblem(session, organization, named, exchange.origin);
  if (problem !== undefined || organization === undefined) {
    return await refuse(exchange, organization, problem, parts);
  }
  await charge(
    exchange,
    [sessionLimit(organization, session.sessionId)],
    parts,
  );
  return { organization, session };
}

async function admitAgent(
  exchange: Exchange,
  params: Params,
  bearer: string | undefined,
  parts: AdmissionParts,
): Promise<{ organization: CompiledOrganization; agent: AgentIdentity }> {
  const organizationId = params.requiredString("organizationId", 64);
  exchange.organizationId = organizationId;
  const organization = exchange.evaluator.organization(organizationId);
  if (organization === undefined) {
    refuseKnownSpentIp(exchange, organization, parts);
    return await refuse(exchange, organization, organizationNotFound(), parts);
  }
  const throttled = refuseKnownThrottled(exchange, organization, parts);
  if (throttled !== undefined) await throttled;
  const agent = bearer === undefined
    ? undefined
    : exchange.evaluator.identifyAdminKey(organizationId, bearer);
  if (agent === undefined) {
    // Only a refusal spends the IP limit: an office whose visitors spent it
    // must not lock its agents out, so a valid key never looks at it.
    refuseKnownSpentIp(exchange, organization, parts);
    // A missing key guesses nothing; a wrong one is a failed authentication.
    const failed = bearer !== undefined;
    if (failed) parts.security.adminKeyFailure(organizationId, exchange.now);
    return await refuseAuthentication(
      exchange,
      organization,
      new RpcError("SESSION_INVALID", "A valid admin key is required", {
        reason: "agent.key_invalid",
      }),
      failed,
      parts,
    );
  }
  await charge(
    exchange,
    [
      authFailuresLimit(organization, exchange.ip, false),
      agentLimit(organization, agent.id),
    ],
    parts,
  );
  return { organization, agent };
}

async function admitPublic(
  exchange: Exchange,
  method: MethodDefinition,
  params: Params,
  bearer: string | undefined,
  parts: AdmissionParts,
): Promise<{ organization: CompiledOrganization; decision: Decision }> {
  const organizationId = params.requiredString("organizationId", 64);
  exchange.organizationId = organizationId;
  const { evaluator } = exchange;
  const organization = evaluator.organization(organizationId);
  refuseKnownSpentIp(exchange, organization, parts);
  const throttled = organization === undefined
    ? undefined
    : refuseKnownThrottled(exchange, organization, parts);
  if (throttled !== undefined) await throttled;
  const appId = params.optionalString("app_id", 64);
  const userId = params.optionalString("user_id", 256);
  const decision = await evaluator.evaluate({
    organizationId,
    origin: exchange.origin,
    method: exchange.methodName,
    now: exchange.now,
    ...(appId === undefined ? {} : { appId }),
    ...(method.takesUserToken && bearer !== undefined ? { token: bearer } : {}),
    ...(method.takesUserToken && userId !== undefined ? { userId } : {}),
  });
  // Counted for the security report once the IP limit has admitted the
  // request: a flood it refuses adds no origins.
  let countBoot: (() => void) | undefined;
  if (method.takesUserToken && organization !== undefined) {
    parts.metrics.jwt(organizationId, jwtState(decision));
    countBoot = () =>
      parts.security.boot(
        organizationId,
        exchange.now,
        decision,
        exchange.origin,
      );
  }
  if (decision.reportOnly !== undefined) {
    logDecision(
      parts.decisionLog,
      exchange,
      exchange.organizationId,
      "report",
      decision.reportOnly.code,
      decision.reportOnly.reason,
    );
    parts.metrics.decision(organizationId, "report", decision.reportOnly.code);
  }
  if (!decision.allowed || organization === undefined) {
    const refusal = new RpcError(
      decision.code ?? "ORGANIZATION_NOT_FOUND",
      decisionMessage(decision),
      { reason: decision.reason },
    );
    return organization === undefined
      ? await refuse(exchange, organization, refusal, parts)
      : await refuseAuthentication(
        exchange,
        organization,
        refusal,
        decision.code === "JWT_INVALID",
        parts,
        countBoot,
      );
  }
  await charge(
    exchange,
    [
      ipLimit(evaluator, organization, exchange.ip),
      authFailuresLimit(organization, exchange.ip, false),
      organizationLimit(organization),
    ],
    parts,
    countBoot,
  );
  return { organization, decision };
}

/** An IP already known to be spent is refused before any token work. */
function refuseKnownSpentIp(
  exchange: Exchange,
  organization: CompiledOrganization | undefined,
  parts: AdmissionParts,
): void {
  const limit = ipLimit(exchange.evaluator, organization, exchange.ip);
  const spent = parts.limiter.knownSpent(limit, limit.rate, exchange.now);
  if (spent !== undefined) applyVerdicts([limit], [spent], exchange.limits);
}

/**
 * An IP this process has seen spend the organization's failed-authentication
 * limit is refused before any token or key work (its IP limit still counts).
 * Synchronous when it is not (no await on the hot path).
 *
 * @returns The refusal to await, or `undefined` when the IP is not known spent.
 */
function refuseKnownThrottled(
  exchange: Exchange,
  organization: CompiledOrganization,
  parts: AdmissionParts,
): Promise<never> | undefined {
  const guard = authFailuresLimit(organization, exchange.ip, false);
  const spent = parts.limiter.knownSpent(guard, guard.rate, exchange.now);
  return spent === undefined
    ? undefined
    : refuseThrottled(exchange, organization, guard, spent, parts);
}

/**
 * @throws {RpcError} `RATE_LIMITED`, reason `limits.auth_failures`.
 */
async function refuseThrottled(
  exchange: Exchange,
  organization: CompiledOrganization,
  guard: NamedLimit,
  spent: LimitVerdict,
  parts: AdmissionParts,
): Promise<never> {
  await charge(
    exchange,
    [ipLimit(exchange.evaluator, organization, exchange.ip)],
    parts,
  );
  noteThrottleBlock(exchange, parts);
  applyVerdicts([guard], [spent], exchange.limits);
  throw new Error("unreachable: a spent verdict always refuses");
}

/**
 * A refusal where a request authenticates (a user token, an admin key): it
 * spends the IP limit, and a failed authentication counts in the IP's
 * failed-authentication limit; once that is spent (on any process or host)
 * the request is refused `RATE_LIMITED` instead.
 */
async function refuseAuthentication(
  exchange: Exchange,
  organization: CompiledOrganization,
  error: unknown,
  failed: boolean,
  parts: AdmissionParts,
  ipAdmitted?: () => void,
): Promise<never> {
  await charge(
    exchange,
    [
      ipLimit(exchange.evaluator, organization, exchange.ip),
      authFailuresLimit(organization, exchange.ip, failed),
    ],
    parts,
    ipAdmitted,
  );
  throw error;
}

/** Every throttle block goes to the metrics and the security report (and, refused, to the decision log). */
function noteThrottleBlock(exchange: Exchange, parts: AdmissionParts): void {
  const organizationId = exchange.organizationId;
  if (organizationId === null) return;
  parts.metrics.throttleBlock(organizationId);
  parts.security.blocked(organizationId, exchange.now);
}

/** A refused request still spends its IP limit; then the refusal is thrown. */
async function refuse(
  exchange: Exchange,
  organization: CompiledOrganization | undefined,
  error: unknown,
  parts: AdmissionParts,
): Promise<never> {
  await charge(
    exchange,
    [ipLimit(exchange.evaluator, organization, exchange.ip)],
    parts,
  );
  throw error;
}

/**
 * Charges a chain; a store failure refuses (`UNAVAILABLE`), or admits
 * uncounted under `server.onStoreError: open`.
 *
 * @param ipAdmitted Called once the chain's IP limit has admitted the
 *   request (whatever a later limit says); not when it refused, nor when the
 *   store failed closed.
 */
async function charge(
  exchange: Exchange,
  chain: readonly NamedLimit[],
  parts: AdmissionParts,
  ipAdmitted?: () => void,
): Promise<void> {
  try {
    await chargeChain(parts.limiter, chain, exchange.limits, exchange.now);
  } catch (error) {
    if (error instanceof RpcError && error.reason === AUTH_FAILURES_REASON) {
      noteThrottleBlock(exchange, parts);
    }
    if (
      error instanceof StoreUnavailableError &&
      exchange.evaluator.spec.server.onStoreError === "open"
    ) {
      parts.metrics.storeError("open");
      ipAdmitted?.();
      return;
    }
    if (error instanceof RpcError && error.reason !== IP_LIMIT_REASON) {
      ipAdmitted?.();
    }
    throw error;
  }
  ipAdmitted?.();
}

function jwtState(decision: Decision): "verified" | "invalid" | "absent" {
  return decision.identity.verified
    ? "verified"
    : decision.code === "JWT_INVALID"
    ? "invalid"
    : "absent";
}

const DECISION_MESSAGES: Record<string, string> = {
  ORGANIZATION_NOT_FOUND: "Organization not found",
  DOMAIN_NOT_ALLOWED:
    "This site is not allowed to use this organization's chat",
  JWT_REQUIRED:
    'This organization requires a signed user token in the "Authorization: Bearer <token>" header (the widget\'s userJWT option sends it there)',
  JWT_INVALID: "The user token was rejected",
};

function decisionMessage(decision: Decision): string {
  return DECISION_MESSAGES[decision.code ?? ""] ?? "Request refused";
}
