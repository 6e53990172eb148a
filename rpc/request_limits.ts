/**
 * The limits a request spends, as tables: each limit of the policy's
 * `limits` with the counter it counts in ({@linkcode LIMITS}), and which of
 * them each access kind's call spends, in order ({@linkcode CHAINS}). Adding
 * a limit is its schema entry, its row here and its place in a chain.
 *
 * A chain is charged in one store step (`RateLimiter.chargeAll`); its
 * verdicts read as a value: the limits charged, for the reply's headers, and
 * the first limit that refused, with its `RATE_LIMITED`.
 *
 * @module
 */

import type {
  LimitCharge,
  LimitVerdict,
  RateLimiter,
} from "../limits/rate_limiter.ts";
import type {
  CompiledOrganization,
  Evaluator,
  LimitSettings,
} from "../policy/types.ts";
import { UNKNOWN_ORGANIZATION } from "../store/store.ts";
import type { MethodAccess } from "./method.ts";
import { type AppliedLimit, retryAfterSeconds } from "./rate_limit_headers.ts";
import { RpcError } from "./rpc_error.ts";

/** A limit of the policy's `limits`, by its name on the wire. */
export type LimitName = keyof LimitSettings;

/** Who a chain is charged for. */
export interface Caller {
  /** The client IP under `server.trustProxy`. */
  readonly ip: string;
  /** The session id (for `session`) or the admin key's id (for `agent`). */
  readonly credential?: string;
  /**
   * Whether the request failed to authenticate (a `JWT_INVALID`, a wrong
   * admin key): then it counts in `authFailures`; every other request only
   * peeks at it.
   */
  readonly failedAuthentication?: boolean;
}

/** One limit's counter. */
interface LimitRow {
  /** The counter within its organization. */
  bucket(caller: Caller): string;
  /** Counts failed authentications only; other requests peek at it. */
  readonly countsFailures?: true;
  /** The refusal's reason; `limit.<name>` when absent. */
  readonly reason?: string;
}

/** Every limit and the counter it counts in; `LimitSettings` names them. */
const LIMITS: { readonly [name in LimitName]: LimitRow } = {
  ip: { bucket: (caller) => `ip:${caller.ip}` },
  organization: { bucket: () => "org" },
  session: { bucket: (caller) => `session:${caller.credential}` },
  agent: { bucket: (caller) => `agent:${caller.credential}` },
  authFailures: {
    bucket: (caller) => `auth:${caller.ip}`,
    countsFailures: true,
    reason: "limits.auth_failures",
  },
};

/** What one access kind's calls spend, admitted and refused. */
export interface LimitChains {
  /** The chain of an admitted call. */
  readonly admitted: readonly LimitName[];
  /** The chain of a refusal at a known organization (unknown: the shared IP bucket alone). */
  readonly refused: readonly LimitName[];
}

/**
 * Which limits each access kind's call spends, in order (docs/rpc.md, "Which
 * limits a call spends"). Every refusal spends the IP limit; the access
 * kinds that authenticate also look at the IP's failed authentications.
 */
export const CHAINS: { readonly [access in MethodAccess]: LimitChains } = {
  public: {
    admitted: ["ip", "authFailures", "organization"],
    refused: ["ip", "authFailures"],
  },
  session: { admitted: ["session"], refused: ["ip"] },
  agent: {
    admitted: ["authFailures", "agent"],
    refused: ["ip", "authFailures"],
  },
};

/** A limit of the request pipeline, named for the wire headers. */
export interface NamedLimit extends LimitCharge {
  readonly name: LimitName;
  /** The refusal's reason. */
  readonly reason: string;
}

/** A chain that a limit refused: the first that did, and its `RATE_LIMITED`. */
export interface ChainRefusal {
  readonly admitted: false;
  /** The limits this request used, the refusing one last. */
  readonly charged: readonly AppliedLimit[];
  readonly refusedBy: NamedLimit;
  readonly refusal: RpcError;
}

/** What a chain came to: the limits charged (for the headers), or its refusal. */
export type ChainOutcome =
  | { readonly admitted: true; readonly charged: readonly AppliedLimit[] }
  | ChainRefusal;

/**
 * One limit of an organization for a caller.
 *
 * @param name Which limit.
 * @param organization The organization whose `limits` set its rate.
 * @param caller Whose counter it is.
 * @returns The limit, a peek for `authFailures` unless the caller failed.
 */
export function limitOf(
  name: LimitName,
  organization: CompiledOrganization,
  caller: Caller,
): NamedLimit {
  const row = LIMITS[name];
  const reason = reasonOf(name);
  const organizationId = organization.spec.id;
  const bucket = row.bucket(caller);
  const rate = organization.spec.limits[name];
  return row.countsFailures && !caller.failedAuthentication
    ? { name, reason, organizationId, bucket, rate, peek: true }
    : { name, reason, organizationId, bucket, rate };
}

/**
 * A chain of an organization's limits for a caller, in the order given.
 *
 * @param names A row of {@linkcode CHAINS}.
 * @param organization The organization named.
 * @param caller Whose counters they are.
 * @returns The limits, to charge in one store step.
 */
export function limitChain(
  names: readonly LimitName[],
  organization: CompiledOrganization,
  caller: Caller,
): NamedLimit[] {
  return names.map((name) => limitOf(name, organization, caller));
}

/**
 * The IP limit; an organization the policy does not know counts in one
 * shared bucket per IP at the default rate, so random ids add no keys.
 */
export function ipLimit(
  evaluator: Evaluator,
  organization: CompiledOrganization | undefined,
  ip: string,
): NamedLimit {
  return organization === undefined
    ? {
      name: "ip",
      reason: reasonOf("ip"),
      organizationId: UNKNOWN_ORGANIZATION,
      bucket: LIMITS.ip.bucket({ ip }),
      rate: evaluator.spec.defaults.limits.ip,
    }
    : limitOf("ip", organization, { ip });
}

/**
 * Charges a chain in one store step.
 *
 * @throws {StoreUnavailableError} When the store fails.
 */
export async function chargeChain(
  limiter: RateLimiter,
  chain: readonly NamedLimit[],
  now: number,
): Promise<ChainOutcome> {
  return readVerdicts(chain, await limiter.chargeAll(chain, now));
}

/**
 * What a limit already known to be spent answers, without asking the
 * store; `undefined` when it is not known spent.
 */
export function knownSpent(
  limiter: RateLimiter,
  limit: NamedLimit,
  now: number,
): ChainRefusal | undefined {
  const verdict = limiter.knownSpent(limit, limit.rate, now);
  return verdict === undefined
    ? undefined
    : refusalBy(limit, verdict, [appliedLimit(limit, verdict)]);
}

/**
 * Reads a chain's verdicts (as many as were decided: up to the first
 * rejection).
 *
 * @param chain The limits charged, in order.
 * @param verdicts Their verdicts.
 * @returns The limits this request used, and the first that refused.
 */
export function readVerdicts(
  chain: readonly NamedLimit[],
  verdicts: readonly LimitVerdict[],
): ChainOutcome {
  const charged: AppliedLimit[] = [];
  for (let index = 0; index < verdicts.length; index++) {
    const verdict = verdicts[index]!;
    const limit = chain[index]!;
    // A peek that admits spent nothing: not a limit this request used.
    if (limit.peek && verdict.allowed) continue;
    charged.push(appliedLimit(limit, verdict));
    if (!verdict.allowed) return refusalBy(limit, verdict, charged);
  }
  return { admitted: true, charged };
}

function reasonOf(name: LimitName): string {
  return LIMITS[name].reason ?? `limit.${name}`;
}

function appliedLimit(limit: NamedLimit, verdict: LimitVerdict): AppliedLimit {
  return {
    name: limit.name,
    limit: verdict.limit,
    windowMs: limit.rate.windowMs,
    remaining: verdict.remaining,
    resetMs: verdict.resetMs,
  };
}

function refusalBy(
  limit: NamedLimit,
  verdict: LimitVerdict,
  charged: readonly AppliedLimit[],
): ChainRefusal {
  return {
    admitted: false,
    charged,
    refusedBy: limit,
    refusal: new RpcError(
      "RATE_LIMITED",
      `Too many requests (${limit.rate.text} per ${limit.name})`,
      {
        reason: limit.reason,
        retryAfter: retryAfterSeconds(
          verdict.retryAfterMs ?? verdict.resetMs,
          limit.rate.windowMs,
        ),
      },
    ),
  };
}
