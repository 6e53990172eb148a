/**
 * Pipeline steps 3–7: who may call, and what it costs. `admit()` returns the
 * verdict as a value — admitted with the method's context, or refused with
 * the refusal — and in both cases the limits charged, for the reply's
 * headers, and the organization named, for the log. Each access kind's
 * admission reads top to bottom, and the limits it spends are the rows of
 * `request_limits.ts`'s `CHAINS`:
 *
 * - `public` (the entry points): the IP limit, or the IP's
 *   failed-authentication limit at this organization, is known spent →
 *   refused before any token work; the evaluator judges organization, domain
 *   and user token (and `chat.boot`'s judgment is counted for the security
 *   report); then one chain in one store step — admitted, `[ip, authFailures,
 *   organization]` (the failed authentications peeked at); refused,
 *   `[ip, authFailures]` (counted for a `JWT_INVALID`) — and a refusal
 *   reports the earliest failed step. A boot is counted for the report only
 *   once the IP limit has admitted it.
 * - `session`: the session token is verified and re-checked against the
 *   policy in force; the call spends the session's own budget (`[session]`).
 * - `agent`: the bearer is one of the organization's admin keys; the call
 *   spends `[authFailures, agent]` (a peek, then that agent's budget); a
 *   wrong key counts in the failed authentications, as a `JWT_INVALID` does
 *   at the entry points. A valid key never looks at the IP limit: the
 *   visitors sharing an agent's address cannot lock the agent out.
 *
 * Refusals at any kind spend the IP limit, so guessing floods are throttled.
 * A refusal by the failed-authentication limit is a throttle block, counted
 * for `/metrics` and the security report.
 *
 * @module
 */

import type { RateLimiter } from "../limits/rate_limiter.ts";
import type { DecisionLogSink } from "../observability/decision_log.ts";
import { logDecision } from "../observability/decision_log.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { SecurityTally } from "../observability/security_tally.ts";
import type { CompiledOrganization, Decision } from "../policy/types.ts";
import { StoreUnavailableError } from "../store/store_unavailable_error.ts";
import {
  bearerToken,
  organizationNotFound,
  sessionProblem,
} from "./credentials.ts";
import type { RpcCall } from "./exchange.ts";
import type {
  MethodAccess,
  MethodContext,
  MethodDefinition,
  Services,
} from "./method.ts";
import type { Params } from "./params.ts";
import type { AppliedLimit } from "./rate_limit_headers.ts";
import {
  type Caller,
  type ChainOutcome,
  type ChainRefusal,
  CHAINS,
  chargeChain,
  ipLimit,
  knownSpent,
  limitChain,
  limitOf,
  type NamedLimit,
} from "./request_limits.ts";
import { RpcError } from "./rpc_error.ts";
import type { SessionClaims } from "./session_token.ts";

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

/** A request admitted to its method. */
export interface Admitted {
  readonly admitted: true;
  /** What the method runs with. */
  readonly context: MethodContext;
  /** The limits charged, for the reply's headers. */
  readonly charged: readonly AppliedLimit[];
  /** The organization it was admitted to. */
  readonly organizationId: string;
}

/** A request refused before its method runs. */
export interface Refused {
  readonly admitted: false;
  /**
   * Why: a wire refusal, or the store failing under `onStoreError: closed`
   * (the reply counts it as an outage and answers `UNAVAILABLE`).
   */
  readonly refusal: RpcError | StoreUnavailableError;
  /** The limits charged, for the reply's headers. */
  readonly charged: readonly AppliedLimit[];
  /** The organization as the request (or its session) named it; `null` before that is known. */
  readonly organizationId: string | null;
}

/** What admission decided. */
export type Admission = Admitted | Refused;

/** The organization a request names, and the policy's view of it. */
interface NamedOrganization {
  readonly organizationId: string;
  /** `undefined` when the policy does not know it. */
  readonly organization: CompiledOrganization | undefined;
}

/** A store failure under `onStoreError: closed`: refused, nothing charged. */
interface StoreFailure {
  readonly admitted: false;
  readonly charged: readonly AppliedLimit[];
  /** Not a limit: the store. */
  readonly refusedBy: null;
  readonly refusal: StoreUnavailableError;
}

/** What charging a chain came to, the store's failure included. */
type Charge = ChainOutcome | StoreFailure;

/** What an admitted kind hands the method, besides the common context. */
type Credentials = Pick<MethodContext, "decision" | "session" | "agent">;

/** An access kind's verdict, before the common context is built. */
type KindAdmission =
  | {
    readonly admitted: true;
    readonly organization: CompiledOrganization;
    readonly credentials: Credentials;
    readonly charged: readonly AppliedLimit[];
  }
  | Refused;

const NOTHING_CHARGED: readonly AppliedLimit[] = Object.freeze([]);

/**
 * Admits a request to `method`, or refuses it.
 *
 * @returns The admission: the method's context and the limits charged, or
 *   the refusal, the limits charged and the organization named.
 * @throws {Error} Only on a bug (e.g. a rate the limiter cannot count).
 */
export async function admit(
  call: RpcCall,
  method: MethodDefinition,
  params: Params,
  parts: AdmissionParts,
): Promise<Admission> {
  let services: Services;
  try {
    services = await parts.services();
  } catch {
    // The session secret lives in the store: without it no session can be issued.
    return refused(
      new RpcError(
        "UNAVAILABLE",
        "Storage is unavailable; try again shortly",
        { reason: "store.unavailable" },
      ),
      NOTHING_CHARGED,
      null,
    );
  }
  const bearer = bearerToken(call.request);
  const admission = method.access === "session"
    ? await admitSession(call, params, bearer, services, parts)
    : await admitNamed(call, method, params, bearer, parts);
  if (!admission.admitted) return admission;
  const { organization, credentials, charged } = admission;
  return {
    admitted: true,
    context: {
      request: call.request,
      params,
      evaluator: call.evaluator,
      organization,
      origin: call.origin,
      ip: call.ip,
      services,
      now: call.now,
      ...credentials,
    },
    charged,
    organizationId: organization.spec.id,
  };
}

async function admitSession(
  call: RpcCall,
  params: Params,
  bearer: string | undefined,
  services: Services,
  parts: AdmissionParts,
): Promise<KindAdmission> {
  const named = readParams(
    () => params.optionalString("organizationId", 64),
    null,
  );
  if ("admitted" in named) return named;
  const { evaluator } = call;
  const session = verifySession(bearer, services, call.now);
  if (session instanceof RpcError) {
    const organization = evaluator.organization(named.value ?? "");
    return await refuse(call, "session", organization, null, session, parts);
  }
  const organizationId = session.organizationId;
  const organization = evaluator.organization(organizationId);
  const problem = sessionProblem(
    session,
    organization,
    named.value,
    call.origin,
  );
  if (problem !== undefined || organization === undefined) {
    const refusal = problem ?? organizationNotFound();
    return await refuse(
      call,
      "session",
      organization,
      organizationId,
      refusal,
      parts,
    );
  }
  const caller = { ip: call.ip, credential: session.sessionId };
  return await admitOn(
    call,
    "session",
    organization,
    caller,
    { session },
    parts,
  );
}

/**
 * Admits a public or agent request, which names its organization first:
 * `organizationId` is required there.
 */
async function admitNamed(
  call: RpcCall,
  method: MethodDefinition,
  params: Params,
  bearer: string | undefined,
  parts: AdmissionParts,
): Promise<KindAdmission> {
  const named = nameOrganization(call, params);
  if ("admitted" in named) return named;
  return method.access === "agent"
    ? await admitAgent(call, named, bearer, parts)
    : await admitPublic(call, named, method, params, bearer, parts);
}

async function admitAgent(
  call: RpcCall,
  named: NamedOrganization,
  bearer: string | undefined,
  parts: AdmissionParts,
): Promise<KindAdmission> {
  const { organizationId, organization } = named;
  if (organization === undefined) {
    return refuseKnownSpentIp(call, named, parts) ??
      await refuse(
        call,
        "agent",
        organization,
        organizationId,
        organizationNotFound(),
        parts,
      );
  }
  const throttled = refuseKnownThrottled(call, organization, parts);
  if (throttled !== undefined) return await throttled;
  const agent = bearer === undefined
    ? undefined
    : call.evaluator.identifyAdminKey(organizationId, bearer);
  if (agent === undefined) {
    // Only a refusal spends the IP limit: an office whose visitors spent it
    // must not lock its agents out, so a valid key never looks at it.
    const spent = refuseKnownSpentIp(call, named, parts);
    if (spent !== undefined) return spent;
    // A missing key guesses nothing; a wrong one is a failed authentication.
    const failed = bearer !== undefined;
    if (failed) parts.security.adminKeyFailure(organizationId, call.now);
    return await refuse(
      call,
      "agent",
      organization,
      organizationId,
      new RpcError("SESSION_INVALID", "A valid admin key is required", {
        reason: "agent.key_invalid",
      }),
      parts,
      failed,
    );
  }
  const caller = { ip: call.ip, credential: agent.id };
  return await admitOn(call, "agent", organization, caller, { agent }, parts);
}

async function admitPublic(
  call: RpcCall,
  named: NamedOrganization,
  method: MethodDefinition,
  params: Params,
  bearer: string | undefined,
  parts: AdmissionParts,
): Promise<KindAdmission> {
  const { organizationId, organization } = named;
  const spent = refuseKnownSpentIp(call, named, parts);
  if (spent !== undefined) return spent;
  const throttled = organization === undefined
    ? undefined
    : refuseKnownThrottled(call, organization, parts);
  if (throttled !== undefined) return await throttled;
  const claimed = readParams(() => ({
    appId: params.optionalString("app_id", 64),
    userId: params.optionalString("user_id", 256),
  }), organizationId);
  if ("admitted" in claimed) return claimed;
  const { appId, userId } = claimed.value;
  const decision = await call.evaluator.evaluate({
    organizationId,
    origin: call.origin,
    method: call.methodName,
    now: call.now,
    ...(appId === undefined ? {} : { appId }),
    ...(method.takesUserToken && bearer !== undefined ? { token: bearer } : {}),
    ...(method.takesUserToken && userId !== undefined ? { userId } : {}),
  });
  const countsBoot = method.takesUserToken === true &&
    organization !== undefined;
  if (countsBoot) parts.metrics.jwt(organizationId, jwtState(decision));
  if (decision.reportOnly !== undefined) {
    logDecision(
      parts.decisionLog,
      call,
      organizationId,
      "report",
      decision.reportOnly.code,
      decision.reportOnly.reason,
    );
    parts.metrics.decision(organizationId, "report", decision.reportOnly.code);
  }
  const charge = await chargeLimits(
    call,
    decision.allowed && organization !== undefined
      ? limitChain(CHAINS.public.admitted, organization, { ip: call.ip })
      : refusalChain(
        call,
        "public",
        organization,
        decision.code === "JWT_INVALID",
      ),
    parts,
  );
  // Counted for the security report once the IP limit has admitted the
  // request: a flood it refuses adds no origins.
  if (countsBoot && ipAdmitted(charge)) {
    parts.security.boot(organizationId, call.now, decision, call.origin);
  }
  if (!decision.allowed || organization === undefined) {
    return refusedAfter(charge, decisionRefusal(decision), organizationId);
  }
  return charge.admitted
    ? admitted(organization, { decision }, charge)
    : refused(charge.refusal, charge.charged, organizationId);
}

/**
 * Admits a request its kind has authenticated, once its kind's `admitted`
 * chain has been charged.
 */
async function admitOn(
  call: RpcCall,
  access: MethodAccess,
  organization: CompiledOrganization,
  caller: Caller,
  credentials: Credentials,
  parts: AdmissionParts,
): Promise<KindAdmission> {
  const chain = limitChain(CHAINS[access].admitted, organization, caller);
  const charge = await chargeLimits(call, chain, parts);
  return charge.admitted
    ? admitted(organization, credentials, charge)
    : refused(charge.refusal, charge.charged, organization.spec.id);
}

/** The organization a request names, and the policy's view of it. */
function nameOrganization(
  call: RpcCall,
  params: Params,
): NamedOrganization | Refused {
  const named = readParams(
    () => params.requiredString("organizationId", 64),
    null,
  );
  if ("admitted" in named) return named;
  return {
    organizationId: named.value,
    organization: call.evaluator.organization(named.value),
  };
}

/** An IP already known to be spent is refused before any token work. */
function refuseKnownSpentIp(
  call: RpcCall,
  { organizationId, organization }: NamedOrganization,
  parts: AdmissionParts,
): Refused | undefined {
  const limit = ipLimit(call.evaluator, organization, call.ip);
  const spent = knownSpent(parts.limiter, limit, call.now);
  return spent === undefined
    ? undefined
    : refused(spent.refusal, spent.charged, organizationId);
}

/**
 * An IP this process has seen spend the organization's failed-authentication
 * limit is refused before any token or key work. Synchronous when it has
 * not, so the hot path awaits nothing.
 *
 * @returns The refusal to await, or `undefined` when the IP is not known spent.
 */
function refuseKnownThrottled(
  call: RpcCall,
  organization: CompiledOrganization,
  parts: AdmissionParts,
): Promise<Refused> | undefined {
  const guard = limitOf("authFailures", organization, { ip: call.ip });
  const throttled = knownSpent(parts.limiter, guard, call.now);
  return throttled === undefined
    ? undefined
    : refuseThrottled(call, organization, throttled, parts);
}

/**
 * The refusal of a throttled IP: its IP limit still counts (and refuses
 * first when spent); then the known-spent failed-authentication limit
 * refuses, a throttle block.
 */
async function refuseThrottled(
  call: RpcCall,
  organization: CompiledOrganization,
  throttled: ChainRefusal,
  parts: AdmissionParts,
): Promise<Refused> {
  const organizationId = organization.spec.id;
  const charge = await chargeLimits(
    call,
    [ipLimit(call.evaluator, organization, call.ip)],
    parts,
  );
  if (!charge.admitted) {
    return refused(charge.refusal, charge.charged, organizationId);
  }
  noteThrottleBlock(organizationId, call, parts);
  return refused(
    throttled.refusal,
    [...charge.charged, ...throttled.charged],
    organizationId,
  );
}

/**
 * A refusal: it spends its access kind's refusal chain, unless a limit of
 * that chain (or the store) refuses first.
 *
 * @param failedAuthentication Whether the request failed to authenticate
 *   (counted in `authFailures`, where the chain has it).
 */
async function refuse(
  call: RpcCall,
  access: MethodAccess,
  organization: CompiledOrganization | undefined,
  organizationId: string | null,
  refusal: RpcError,
  parts: AdmissionParts,
  failedAuthentication = false,
): Promise<Refused> {
  const chain = refusalChain(call, access, organization, failedAuthentication);
  const charge = await chargeLimits(call, chain, parts);
  return refusedAfter(charge, refusal, organizationId);
}

/**
 * What a refusal spends: its access kind's `refused` row; at an
 * organization the policy does not know, the shared IP bucket alone (no
 * other counter is kept for it, so random ids add no keys).
 */
function refusalChain(
  call: RpcCall,
  access: MethodAccess,
  organization: CompiledOrganization | undefined,
  failedAuthentication: boolean,
): NamedLimit[] {
  return organization === undefined
    ? [ipLimit(call.evaluator, undefined, call.ip)]
    : limitChain(CHAINS[access].refused, organization, {
      ip: call.ip,
      failedAuthentication,
    });
}

/**
 * Charges a chain. A refusal by the failed-authentication limit is a
 * throttle block. A store failure refuses (`onStoreError: closed`), or
 * admits uncounted under `open`.
 */
async function chargeLimits(
  call: RpcCall,
  chain: readonly NamedLimit[],
  parts: AdmissionParts,
): Promise<Charge> {
  let charge: ChainOutcome;
  try {
    charge = await chargeChain(parts.limiter, chain, call.now);
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
    if (call.evaluator.spec.server.onStoreError !== "open") {
      return {
        admitted: false,
        charged: NOTHING_CHARGED,
        refusedBy: null,
        refusal: error,
      };
    }
    parts.metrics.storeError("open");
    return { admitted: true, charged: NOTHING_CHARGED };
  }
  if (!charge.admitted && charge.refusedBy.name === "authFailures") {
    noteThrottleBlock(charge.refusedBy.organizationId, call, parts);
  }
  return charge;
}

/** Whether the chain's IP limit admitted the request (whatever a later limit said). */
function ipAdmitted(charge: Charge): boolean {
  return charge.admitted ||
    (charge.refusedBy !== null && charge.refusedBy.name !== "ip");
}

/** Every throttle block goes to the metrics and the security report (and, refused, to the decision log). */
function noteThrottleBlock(
  organizationId: string,
  call: RpcCall,
  parts: AdmissionParts,
): void {
  parts.metrics.throttleBlock(organizationId);
  parts.security.blocked(organizationId, call.now);
}

/**
 * Reads the parameters admission needs; a malformed one is the request's
 * refusal (`BAD_REQUEST`, nothing charged), which `Params` throws.
 */
function readParams<T>(
  read: () => T,
  organizationId: string | null,
): { readonly value: T } | Refused {
  try {
    return { value: read() };
  } catch (error) {
    if (!(error instanceof RpcError)) throw error;
    return refused(error, NOTHING_CHARGED, organizationId);
  }
}

/** The verified claims of the session token the request carries, or why not. */
function verifySession(
  bearer: string | undefined,
  services: Services,
  now: number,
): SessionClaims | RpcError {
  if (bearer === undefined) {
    return new RpcError("SESSION_INVALID", "A session token is required", {
      reason: "session.missing",
    });
  }
  try {
    return services.sessions.verify(bearer, now);
  } catch (error) {
    if (error instanceof RpcError) return error;
    throw error;
  }
}

function admitted(
  organization: CompiledOrganization,
  credentials: Credentials,
  charge: { readonly charged: readonly AppliedLimit[] },
): KindAdmission {
  return { admitted: true, organization, credentials, charged: charge.charged };
}

function refused(
  refusal: RpcError | StoreUnavailableError,
  charged: readonly AppliedLimit[],
  organizationId: string | null,
): Refused {
  return { admitted: false, refusal, charged, organizationId };
}

/** The request's own refusal, unless a limit (or the store) refused it first. */
function refusedAfter(
  charge: Charge,
  refusal: RpcError,
  organizationId: string | null,
): Refused {
  return refused(
    charge.admitted ? refusal : charge.refusal,
    charge.charged,
    organizationId,
  );
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

function decisionRefusal(decision: Decision): RpcError {
  return new RpcError(
    decision.code ?? "ORGANIZATION_NOT_FOUND",
    DECISION_MESSAGES[decision.code ?? ""] ?? "Request refused",
    { reason: decision.reason },
  );
}
