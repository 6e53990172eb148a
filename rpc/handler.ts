/**
 * `createHandler()`: the whole request pipeline of DESIGN.md as one
 * `(Request) => Promise<Response>` function — hygiene, client IP, IP limit,
 * the evaluator (organization, domain, JWT) or a session / admin-key check,
 * the organization limit, then the method.
 *
 * @module
 */

import { ChatError } from "../chat/chat_error.ts";
import { ChatStore } from "../chat/chat_store.ts";
import { WebhookDispatcher } from "../chat/webhook.ts";
import {
  createRateLimiter,
  type LimitVerdict,
} from "../limits/rate_limiter.ts";
import type {
  CompiledOrganization,
  Decision,
  Evaluator,
  PolicyFileError,
  Rate,
} from "../policy/types.ts";
import { rpcErrorFromChat } from "./chat_error_mapping.ts";
import { clientIp } from "./client_ip.ts";
import { corsHeaders, type HeaderEntry, preflightResponse } from "./cors.ts";
import type { DecisionLogEntry, DecisionLogSink } from "./decision_log.ts";
import type { MethodContext, MethodDefinition, Services } from "./method.ts";
import { METHODS } from "./methods/table.ts";
import { Metrics } from "./metrics.ts";
import { Params } from "./params.ts";
import {
  type AppliedLimit,
  rateLimitHeaders,
  retryAfterSeconds,
  tightestLimit,
} from "./rate_limit_headers.ts";
import { readJsonBody } from "./read_json_body.ts";
import { RpcError } from "./rpc_error.ts";
import {
  loadSessionSecret,
  matchesSessionOrigin,
  type SessionClaims,
  SessionSigner,
} from "./session_token.ts";
import type { Reply } from "./wire.ts";

/** A policy that may change while the server runs (hot reload). */
export interface PolicySource {
  /** The evaluator in force; read once per request. */
  readonly current: Evaluator;
  /** The last reload failure, for `/healthz`. */
  readonly lastReloadError?: string | null;
  /** Every policy file whose latest version failed, with its first error, for `/healthz`. */
  readonly policyErrors?: readonly PolicyFileError[];
}

/** The bundled widget, served at `/widget.js`. */
export interface WidgetAsset {
  /** The JavaScript served at `/widget.js`. */
  readonly code: string;
  /** `sha384-…`, served at `/widget.js.sri`. */
  readonly sri: string;
  /** Quoted strong ETag of the code; `If-None-Match` requests get 304. */
  readonly etag: string;
}

/** Options of {@linkcode createHandler}. */
export interface HandlerOptions {
  /** A compiled policy, or a source whose evaluator may be swapped. */
  readonly policy: Evaluator | PolicySource;
  /** Counters, sessions and conversations live here. */
  readonly kv: Deno.Kv;
  /** Session signing secret (≥ 32 bytes); else one kept in KV. */
  readonly sessionSecret?: string;
  /** Where rejections and report-mode decisions go; none when absent. */
  readonly decisionLog?: DecisionLogSink;
  /** The widget bundle; `/widget.js` answers 404 without it. */
  readonly widget?: WidgetAsset;
  /** The agent inbox script, served at `/agent.js` for the `/agent` page. */
  readonly agentScript?: WidgetAsset;
  /** HTML of `GET /` and `GET /agent`, when served. */
  readonly pages?: { readonly home?: string; readonly agent?: string };
  /** Metrics registry; a new one when absent. */
  readonly metrics?: Metrics;
  /** Clock, epoch milliseconds. */
  readonly now?: () => number;
}

/** A request handler that also owns background work. */
export interface ParleyHandler {
  (request: Request, info?: Deno.ServeHandlerInfo): Promise<Response>;
  /** Stops timers and pending webhook retries; does not close the KV store. */
  close(): Promise<void>;
}

/** The metrics and limits label of organizations the policy does not know. */
const UNKNOWN_ORGANIZATION = "_unknown";
const SWEEP_INTERVAL_MS = 60_000;

/**
 * Builds the Parley request handler.
 *
 * @param options Policy, store and optional assets.
 * @returns A handler for `Deno.serve` (or any `fetch`-style host).
 */
export function createHandler(options: HandlerOptions): ParleyHandler {
  const source: PolicySource = "evaluate" in options.policy
    ? { current: options.policy }
    : options.policy;
  const now = options.now ?? Date.now;
  const metrics = options.metrics ?? new Metrics();
  const limiter = createRateLimiter(options.kv);
  const chat = new ChatStore(options.kv);
  const webhooks = new WebhookDispatcher();
  const services: Promise<Services> = loadSessionSecret(
    options.kv,
    options.sessionSecret,
  ).then((secret) => ({
    chat,
    webhooks,
    sessions: new SessionSigner(secret),
  }));
  // Surfaced by the first request instead of as an unhandled rejection.
  services.catch(() => {});
  // Old rate-limit windows and conversations past the policy's retention.
  const sweeper = setInterval(() => {
    limiter.sweep(now()).catch(() => metrics.storeError("closed"));
    for (const organization of source.current.spec.organizations.values()) {
      if (organization.retentionMs === undefined) continue;
      chat.purgeExpired(organization.id, organization.retentionMs)
        .catch(() => metrics.storeError("closed"));
    }
  }, SWEEP_INTERVAL_MS);
  Deno.unrefTimer(sweeper);

  async function handle(
    request: Request,
    info?: Deno.ServeHandlerInfo,
  ): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/rpc/")) {
      if (request.method === "OPTIONS") return preflightResponse(request);
      return await handleRpc(request, url.pathname.slice(5), info);
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method not allowed\n", {
        status: 405,
        headers: { Allow: "GET, HEAD" },
      });
    }
    switch (url.pathname) {
      case "/":
        return html(options.pages?.home);
      case "/agent":
        return html(options.pages?.agent);
      case "/widget.js":
        return widgetResponse(request, options.widget, "code");
      case "/widget.js.sri":
        return widgetResponse(request, options.widget, "sri");
      case "/agent.js":
        return widgetResponse(request, options.agentScript, "code");
      case "/healthz":
        return await health();
      case "/metrics":
        return new Response(metrics.render(), {
          headers: {
            "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
          },
        });
      default:
        return new Response("Not found\n", { status: 404 });
    }
  }

  async function health(): Promise<Response> {
    let kvStatus = "ok";
    try {
      await options.kv.get(["parley", "health"]);
    } catch {
      kvStatus = "unavailable";
    }
    const body = {
      status: kvStatus === "ok" ? "ok" : "degraded",
      policyRevision: source.current.revision,
      lastReloadError: source.lastReloadError ?? null,
      policyErrors: source.policyErrors ?? [],
      kv: kvStatus,
    };
    return Response.json(body, { status: kvStatus === "ok" ? 200 : 503 });
  }

  async function handleRpc(
    request: Request,
    name: string,
    info: Deno.ServeHandlerInfo | undefined,
  ): Promise<Response> {
    const started = performance.now();
    const origin = request.headers.get("origin");
    const evaluator = source.current;
    const ip = clientIp(
      request,
      (info?.remoteAddr as Deno.NetAddr | undefined)?.hostname,
      evaluator.spec.server.trustProxy,
    );
    const limits: AppliedLimit[] = [];
    const log = { organizationId: null as string | null, method: name };
    const method = Object.hasOwn(METHODS, name) ? METHODS[name] : undefined;
    let outcome: Response | Outcome;
    try {
      if (request.method !== "POST") {
        await request.body?.cancel();
        throw new RpcError(
          "METHOD_NOT_ALLOWED",
          "RPC methods are called with POST",
          {
            reason: "http.method",
          },
        );
      }
      if (method === undefined) {
        await request.body?.cancel();
        throw new RpcError(
          "METHOD_NOT_FOUND",
          `Unknown method "${name.slice(0, 64)}"`,
          {
            reason: "rpc.unknown_method",
          },
        );
      }
      const body = await readJsonBody(
        request,
        evaluator.spec.server.maxBodyBytes,
      );
      const params = new Params(body);
      const context = await admit(
        request,
        method,
        params,
        evaluator,
        origin,
        ip,
        limits,
        log,
      );
      const result = await method.run(context);
      outcome = result instanceof Response ? result : {
        status: 200,
        body: { ok: true, data: result, ...withRateLimit(limits) },
      };
      metrics.decision(context.organization.spec.id, "allowed", "OK");
    } catch (error) {
      outcome = failure(error, evaluator, origin, ip, log);
    }
    const headers = [...corsHeaders(origin), ...rateLimitHeaders(limits)];
    metrics.latency(
      method === undefined ? "_unknown" : name,
      (performance.now() - started) / 1000,
    );
    if (outcome instanceof Response) {
      for (const [header, value] of headers) outcome.headers.set(header, value);
      return outcome;
    }
    if (outcome.retryAfter !== undefined) {
      headers.push(["Retry-After", String(outcome.retryAfter)]);
    }
    return reply(outcome.body, outcome.status, headers);
  }

  /**
   * Pipeline steps 3–7 for one method: returns its context or throws.
   *
   * The IP limit and the organization limit are charged as one chain in one
   * commit once the checks between them are known (they are pure): the IP
   * limit counts every request, the organization limit only requests that
   * passed, and a rejection reports the earliest failed step. An IP already
   * known to be spent is refused before any token is verified.
   */
  async function admit(
    request: Request,
    method: MethodDefinition,
    params: Params,
    evaluator: Evaluator,
    origin: string | null,
    ip: string,
    limits: AppliedLimit[],
    log: { organizationId: string | null; method: string },
  ): Promise<MethodContext> {
    const time = now();
    const ready = await services.catch(() => {
      // The session secret lives in KV: without it no session can be issued.
      throw new RpcError(
        "UNAVAILABLE",
        "Storage is unavailable; try again shortly",
        {
          reason: "store.unavailable",
        },
      );
    });
    const bearer = bearerToken(request);
    const admitted = async (
      organization: CompiledOrganization,
      extra: Pick<MethodContext, "decision" | "session">,
    ): Promise<MethodContext> => {
      await chargeLimits(
        evaluator,
        [
          ipLimit(evaluator, organization, ip),
          organizationLimit(organization),
        ],
        limits,
        time,
      );
      return {
        request,
        params,
        evaluator,
        organization,
        origin,
        services: ready,
        now: time,
        ...extra,
      };
    };
    const refused = async (
      organization: CompiledOrganization | undefined,
      error: unknown,
    ): Promise<never> => {
      await chargeLimits(
        evaluator,
        [ipLimit(evaluator, organization, ip)],
        limits,
        time,
      );
      throw error;
    };

    if (method.access === "session") {
      const named = params.optionalString("organizationId", 64);
      let session: SessionClaims;
      try {
        if (bearer === undefined) {
          throw new RpcError("SESSION_INVALID", "A session token is required", {
            reason: "session.missing",
          });
        }
        session = ready.sessions.verify(bearer, time);
      } catch (error) {
        return await refused(evaluator.organization(named ?? ""), error);
      }
      log.organizationId = session.organizationId;
      const organization = evaluator.organization(session.organizationId);
      const problem = sessionProblem(session, organization, named, origin);
      if (problem !== undefined || organization === undefined) {
        return await refused(organization, problem);
      }
      return await admitted(organization, { session });
    }

    const organizationId = params.requiredString("organizationId", 64);
    log.organizationId = organizationId;
    const organization = evaluator.organization(organizationId);
    const ipCharge = ipLimit(evaluator, organization, ip);
    const spent = limiter.knownSpent(ipCharge.bucket, ipCharge.rate, time);
    if (spent !== undefined) applyVerdicts([ipCharge], [spent], limits);

    if (method.access === "agent") {
      if (organization === undefined) {
        return await refused(organization, organizationNotFound());
      }
      if (
        bearer === undefined ||
        !evaluator.verifyAdminKey(organizationId, bearer)
      ) {
        return await refused(
          organization,
          new RpcError("SESSION_INVALID", "A valid admin key is required", {
            reason: "agent.key_invalid",
          }),
        );
      }
      return await admitted(organization, {});
    }

    const appId = params.optionalString("app_id", 64);
    const userId = params.optionalString("user_id", 256);
    const decision = await evaluator.evaluate({
      organizationId,
      origin,
      method: log.method,
      now: time,
      ...(appId === undefined ? {} : { appId }),
      ...(method.takesUserToken && bearer !== undefined
        ? { token: bearer }
        : {}),
      ...(method.takesUserToken && userId !== undefined ? { userId } : {}),
    });
    if (method.takesUserToken) countJwt(organization, decision);
    if (decision.reportOnly !== undefined) {
      writeLog(
        evaluator,
        origin,
        ip,
        log,
        "report",
        decision.reportOnly.code,
        decision.reportOnly.reason,
      );
      metrics.decision(organizationId, "report", decision.reportOnly.code);
    }
    if (!decision.allowed || organization === undefined) {
      return await refused(
        organization,
        new RpcError(
          decision.code ?? "ORGANIZATION_NOT_FOUND",
          decisionMessage(decision),
          { reason: decision.reason },
        ),
      );
    }
    return await admitted(organization, { decision });
  }

  function countJwt(
    organization: CompiledOrganization | undefined,
    decision: Decision,
  ): void {
    if (organization === undefined) return;
    const state = decision.identity.verified
      ? "verified"
      : decision.code === "JWT_INVALID"
      ? "invalid"
      : "absent";
    metrics.jwt(organization.spec.id, state);
  }

  /**
   * Charges a chain of limits in one commit; throws `RATE_LIMITED` for the
   * first that rejects, or `UNAVAILABLE` when the store fails (unless the
   * policy fails open).
   */
  async function chargeLimits(
    evaluator: Evaluator,
    chain: readonly NamedLimit[],
    limits: AppliedLimit[],
    time: number,
  ): Promise<void> {
    let verdicts: LimitVerdict[];
    try {
      verdicts = await limiter.chargeAll(chain, time);
    } catch (error) {
      if (evaluator.spec.server.onStoreError === "open") {
        metrics.storeError("open");
        return;
      }
      metrics.storeError("closed");
      throw new RpcError(
        "UNAVAILABLE",
        "Storage is unavailable; try again shortly",
        {
          reason: error instanceof RpcError
            ? error.reason ?? "store.unavailable"
            : "store.unavailable",
        },
      );
    }
    applyVerdicts(chain, verdicts, limits);
  }

  function failure(
    error: unknown,
    evaluator: Evaluator,
    origin: string | null,
    ip: string,
    log: { organizationId: string | null; method: string },
  ): Outcome {
    const known =
      evaluator.organization(log.organizationId ?? "") !== undefined;
    const organizationLabel = known
      ? log.organizationId!
      : UNKNOWN_ORGANIZATION;
    if (error instanceof ChatError) error = rpcErrorFromChat(error);
    if (error instanceof RpcError) {
      writeLog(
        evaluator,
        origin,
        ip,
        log,
        "rejected",
        error.code,
        error.reason ?? null,
      );
      metrics.decision(organizationLabel, "rejected", error.code);
      return {
        status: error.status,
        body: { ok: false, error: error.toWire() },
        ...(error.retryAfter === undefined
          ? {}
          : { retryAfter: error.retryAfter }),
      };
    }
    const decisionId = writeLog(
      evaluator,
      origin,
      ip,
      log,
      "error",
      "INTERNAL",
      "internal.bug",
    );
    console.error(
      `Internal error in ${log.method} (decision ${decisionId}):`,
      error,
    );
    metrics.decision(organizationLabel, "rejected", "INTERNAL");
    return {
      status: 500,
      body: {
        ok: false,
        error: {
          code: "INTERNAL",
          message: `Internal error; reference ${decisionId}`,
          reason: "internal.bug",
        },
      },
    };
  }

  function writeLog(
    evaluator: Evaluator,
    origin: string | null,
    ip: string,
    log: { organizationId: string | null; method: string },
    outcome: DecisionLogEntry["outcome"],
    code: string,
    reason: string | null,
  ): string {
    const decisionId = crypto.randomUUID();
    options.decisionLog?.({
      decisionId,
      time: new Date(now()).toISOString(),
      policyRevision: evaluator.revision,
      organizationId: log.organizationId,
      origin: origin === null ? null : origin.slice(0, 256),
      ip,
      method: log.method.slice(0, 64),
      outcome,
      code,
      reason,
    });
    return decisionId;
  }

  return Object.assign(handle, {
    async close(): Promise<void> {
      clearInterval(sweeper);
      limiter.close();
      await webhooks.close();
    },
  });
}

/** A limit of the request pipeline, named for the wire headers. */
interface NamedLimit {
  readonly name: "ip" | "organization";
  readonly bucket: readonly string[];
  readonly rate: Rate;
}

/** The IP limit; unknown organizations share one bucket per IP, so random ids add no keys. */
function ipLimit(
  evaluator: Evaluator,
  organization: CompiledOrganization | undefined,
  ip: string,
): NamedLimit {
  return organization === undefined
    ? {
      name: "ip",
      bucket: ["ip", UNKNOWN_ORGANIZATION, ip],
      rate: evaluator.spec.defaults.limits.ip,
    }
    : {
      name: "ip",
      bucket: ["ip", organization.spec.id, ip],
      rate: organization.spec.limits.ip,
    };
}

function organizationLimit(organization: CompiledOrganization): NamedLimit {
  return {
    name: "organization",
    bucket: ["org", organization.spec.id],
    rate: organization.spec.limits.organization,
  };
}

/** Records the verdicts for the headers; throws `RATE_LIMITED` on a rejection. */
function applyVerdicts(
  chain: readonly NamedLimit[],
  verdicts: readonly LimitVerdict[],
  limits: AppliedLimit[],
): void {
  verdicts.forEach((verdict, index) => {
    const { name, rate } = chain[index]!;
    limits.push({
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
          reason: `limit.${name}`,
          retryAfter: retryAfterSeconds(
            verdict.retryAfterMs ?? verdict.resetMs,
            rate.windowMs,
          ),
        },
      );
    }
  });
}

/** Why a verified session may no longer be used, if it may not. */
function sessionProblem(
  session: SessionClaims,
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

function organizationNotFound(): RpcError {
  return new RpcError("ORGANIZATION_NOT_FOUND", "Organization not found", {
    reason: "organization.unknown",
  });
}

function withRateLimit(limits: readonly AppliedLimit[]) {
  const rateLimit = tightestLimit(limits);
  return rateLimit === undefined ? {} : { rateLimit };
}

/** A JSON reply, before its headers are known. */
interface Outcome {
  readonly status: number;
  readonly body: Reply<unknown>;
  /** Seconds, sent as `Retry-After`. */
  readonly retryAfter?: number;
}

function reply(
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

function bearerToken(request: Request): string | undefined {
  const header = request.headers.get("authorization");
  if (header === null) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

function sessionInvalid(reason: string): RpcError {
  return new RpcError(
    "SESSION_INVALID",
    "Session is no longer valid; boot again",
    { reason },
  );
}

const DECISION_MESSAGES: Record<string, string> = {
  ORGANIZATION_NOT_FOUND: "Organization not found",
  DOMAIN_NOT_ALLOWED:
    "This site is not allowed to use this organization's chat",
  JWT_REQUIRED: "This organization requires a signed user token (userJWT)",
  JWT_INVALID: "The user token was rejected",
};

function decisionMessage(decision: Decision): string {
  return DECISION_MESSAGES[decision.code ?? ""] ?? "Request refused";
}

function html(page: string | undefined): Response {
  if (page === undefined) return new Response("Not found\n", { status: 404 });
  return new Response(page, {
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy":
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    },
  });
}

function widgetResponse(
  request: Request,
  widget: WidgetAsset | undefined,
  part: "code" | "sri",
): Response {
  if (widget === undefined) return new Response("Not found\n", { status: 404 });
  const etag = part === "code"
    ? widget.etag
    : `"sri-${widget.etag.replaceAll('"', "")}"`;
  const headers = new Headers({
    "Content-Type": part === "code"
      ? "text/javascript; charset=utf-8"
      : "text/plain; charset=utf-8",
    "Cache-Control": "public, max-age=300, must-revalidate",
    "ETag": etag,
    "Access-Control-Allow-Origin": "*",
    "Cross-Origin-Resource-Policy": "cross-origin",
  });
  if (request.headers.get("if-none-match") === etag) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(part === "code" ? widget.code : widget.sri + "\n", {
    headers,
  });
}
