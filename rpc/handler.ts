/**
 * `createHandler()`: Parley as one `(Request) => Promise<Response>` function.
 * It builds the long-lived parts on the store (limiter, chat, live feed,
 * streams, webhook outbox, session signer), routes `/rpc/*` through the
 * request pipeline (docs/design.md), and serves the pages, the widget bundle,
 * `/healthz` and `/metrics`.
 *
 * The pipeline, step by step (`serveRpc` below):
 * 1. hygiene — `POST`, a known method, a bounded JSON object body;
 * 2. the client IP (`client_ip.ts`);
 * 3–7. admission by access kind: limits, the evaluator, sessions, admin keys
 *    (`admission.ts`);
 * 8. the method runs, and its result or refusal becomes the reply
 *    (`rpc_reply.ts`).
 *
 * What the security report counts (`security_tally.ts`) is gathered in
 * memory and added to the store every few seconds and at `close()`.
 *
 * @module
 */

export type { PolicySource } from "../policy_source/policy_source.ts";

import { AgentPresence } from "../chat/agent_presence.ts";
import { ChatStore, WEBHOOK_KINDS } from "../chat/chat_store.ts";
import { LiveFeed } from "../chat/live_feed.ts";
import {
  WebhookDispatcher,
  type WebhookOutcome,
} from "../chat/webhook_dispatcher.ts";
import { createRateLimiter } from "../limits/rate_limiter.ts";
import type { Evaluator } from "../policy/types.ts";
import { createKvStore } from "../store/kv/kv_store.ts";
import type { Store } from "../store/store.ts";
import { admit } from "./admission.ts";
import { AvailabilityWatch } from "./availability_watch.ts";
import { availabilityOf } from "./methods/availability.ts";
import { clientIp } from "./client_ip.ts";
import { preflightResponse } from "./cors.ts";
import type { PolicySource } from "../policy_source/policy_source.ts";
import type { DecisionLogSink } from "../observability/decision_log.ts";
import { foldRefusals } from "../observability/refusal_fold.ts";
import type { Exchange, RpcCall } from "./exchange.ts";
import { LiveStreams } from "./live_streams.ts";
import type { MethodDefinition, Services } from "./method.ts";
import { METHODS } from "./methods/table.ts";
import { Metrics } from "../observability/metrics.ts";
import { Params } from "./params.ts";
import {
  HOUR_MS,
  hourStart,
  KEPT_HOURS,
  SecurityTally,
} from "../observability/security_tally.ts";
import { readJsonBody } from "./read_json_body.ts";
import { UNKNOWN_ORGANIZATION } from "../store/store.ts";
import { RpcError } from "./rpc_error.ts";
import { refuseTokenInBody } from "./token_in_body.ts";
import { failureReply, successReply } from "./rpc_reply.ts";
import {
  loadSessionSecret,
  SESSION_TTL_MS,
  SessionSigner,
} from "./session_token.ts";
import { VisitorReferences } from "./visitor_reference.ts";
import { MAX_MESSAGE_LENGTH } from "./wire.ts";

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
  /**
   * Counters, sessions and conversations live here: a store from
   * `openStore` (Deno KV or PostgreSQL). The handler does not close it.
   */
  readonly store?: Store;
  /** Or a Deno KV to keep them in (the handler does not close it). */
  readonly kv?: Deno.Kv;
  /** Session signing secret (≥ 32 bytes); else one kept in the store. */
  readonly sessionSecret?: string;
  /** How long a session lasts, milliseconds (default 30 minutes). */
  readonly sessionLifetimeMs?: number;
  /**
   * Where rejections and report-mode decisions go; none when absent.
   * Refusals by a spent limit reach it folded (one line per organization, IP
   * and reason every 10 s, with a `count`); it should not block (see
   * `decision_log_writer.ts`).
   */
  readonly decisionLog?: DecisionLogSink;
  /** The widget bundle; `/widget.js` answers 404 without it. */
  readonly widget?: WidgetAsset;
  /** The agent inbox script, served at `/agent.js` for the `/agent` page. */
  readonly agentScript?: WidgetAsset;
  /** The `.ico` served at `/favicon.ico`; 404 without it. */
  readonly favicon?: Uint8Array<ArrayBuffer>;
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
  /**
   * Ends open streams with a last `closed` event (`server.stopping`), so a
   * graceful shutdown need not wait for their clients to leave.
   */
  closeStreams(): void;
  /**
   * Ends open streams, stops timers and webhook deliveries, writes the
   * decision log's folded refusals, and adds the security counts still in
   * memory to the store; does not close the store.
   */
  close(): Promise<void>;
}

const SWEEP_INTERVAL_MS = 60_000;
/** How long an organization's live hub outlasts its last stream. */
const HUB_LINGER_MS = 30_000;
/** Feed entries older than this are swept; a stream resuming from further back starts from what is left. */
const FEED_KEEP_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Builds the Parley request handler.
 *
 * @param options Policy, store and optional assets.
 * @returns A handler for `Deno.serve` (or any `fetch`-style host).
 * @throws {TypeError} When neither `store` nor `kv` is given.
 */
export function createHandler(options: HandlerOptions): ParleyHandler {
  const source: PolicySource = "evaluate" in options.policy
    ? { current: options.policy }
    : options.policy;
  const store = storeOf(options);
  const now = options.now ?? Date.now;
  const metrics = options.metrics ?? new Metrics();
  const roundTrips = store.roundTrips?.bind(store);
  if (roundTrips !== undefined) metrics.storeRoundTrips(roundTrips);
  const limiter = createRateLimiter(store.counters);
  const chat = new ChatStore(store.conversations, {
    maxMessageLength: MAX_MESSAGE_LENGTH,
    now,
  });
  // A visitor's next page reopens its stream without the hub's start-up read.
  const live = new LiveFeed(store.conversations, store.changes, {
    lingerMs: HUB_LINGER_MS,
  });
  const presence = new AgentPresence(store.presence, now);
  const availability = new AvailabilityWatch(async (organizationId) => {
    const organization = source.current.organization(organizationId);
    return organization === undefined
      ? undefined
      : await availabilityOf(organization, presence, now());
  });
  presence.onChange((organizationId) => availability.refresh(organizationId));
  const streams = new LiveStreams(source, { now });
  const webhooks = new WebhookDispatcher(store.outbox, {
    target: (organizationId) =>
      source.current.organization(organizationId)?.spec.webhook,
    body: (item) =>
      item.kind === WEBHOOK_KINDS.unanswered
        ? chat.unansweredBody(item.organizationId, item.id)
        : Promise.resolve(item.body),
    allowHosts: () => source.current.spec.server.allowWebhookHosts,
    onOutcome: webhookOutcomeRecorder(source, metrics),
    now,
  });
  webhooks.start();
  const decisions = options.decisionLog === undefined
    ? undefined
    : foldRefusals(options.decisionLog, {
      known: (organizationId) =>
        source.current.organization(organizationId) !== undefined,
    });
  const decisionLog = decisions?.write;
  const security = new SecurityTally(store.securityCounters, {
    // Kept and retried with the next flush.
    onFlushError: () => metrics.storeError("closed"),
    now,
  });
  const services: Promise<Services> = loadSessionSecret(
    store.settings,
    options.sessionSecret,
  ).then((secret) => ({
    chat,
    live,
    streams,
    presence,
    availability,
    sessions: new SessionSigner(secret),
    visitorReferences: new VisitorReferences(secret),
    sessionLifetimeMs: options.sessionLifetimeMs ?? SESSION_TTL_MS,
    webhooksDue: () => webhooks.kick(),
    security: { tally: security, counters: store.securityCounters },
  }));
  // Surfaced by the first request instead of as an unhandled rejection.
  services.catch(() => {});
  const sweeper = setInterval(() => void sweep(), SWEEP_INTERVAL_MS);
  Deno.unrefTimer(sweeper);

  /** Old rate-limit windows, feed entries, conversations past retention, and security counts older than 7 days. */
  async function sweep(): Promise<void> {
    const at = now();
    const chores: Promise<unknown>[] = [
      limiter.sweep(at),
      store.securityCounters.sweep(
        hourStart(at) - (KEPT_HOURS - 1) * HOUR_MS,
      ),
    ];
    for (const organization of source.current.spec.organizations.values()) {
      chores.push(
        store.conversations.sweepFeed(organization.id, at - FEED_KEEP_MS),
      );
      if (organization.retentionMs !== undefined) {
        chores.push(
          chat.purgeExpired(organization.id, organization.retentionMs),
        );
      }
    }
    const results = await Promise.allSettled(chores);
    for (const result of results) {
      if (result.status === "rejected") metrics.storeError("closed");
    }
  }

  async function handle(
    request: Request,
    info?: Deno.ServeHandlerInfo,
  ): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/rpc/")) {
      if (request.method === "OPTIONS") return preflightResponse(request);
      return await serveRpc(request, url.pathname.slice(5), info);
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
      case "/favicon.ico":
        return faviconResponse(options.favicon);
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
    let reachable = true;
    try {
      await store.ping();
    } catch {
      reachable = false;
    }
    // Degraded without organizations too, but 200: the process works and
    // restarting it changes nothing; 503 takes it out of rotation only
    // while it cannot reach its store.
    const organizations = source.current.spec.organizations.size;
    const body = {
      status: reachable && organizations > 0 ? "ok" : "degraded",
      organizations,
      policyRevision: source.current.revision,
      lastReloadError: source.lastReloadError ?? null,
      policyErrors: source.policyErrors ?? [],
      store: reachable ? "ok" : "unavailable",
      engine: store.engine,
      streams: streams.size,
    };
    return Response.json(body, { status: reachable ? 200 : 503 });
  }

  /** The request pipeline of one RPC call. */
  async function serveRpc(
    request: Request,
    methodName: string,
    info: Deno.ServeHandlerInfo | undefined,
  ): Promise<Response> {
    const started = performance.now();
    const evaluator = source.current;
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
      now: now(),
    };
    const method = Object.hasOwn(METHODS, methodName)
      ? METHODS[methodName]
      : undefined;
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
      const params = new Params(body);
      const admission = await admit(call, known, params, {
        limiter,
        metrics,
        security,
        services: () => services,
        ...(decisionLog === undefined ? {} : { decisionLog }),
      });
      exchange = {
        ...call,
        limits: admission.charged,
        organizationId: admission.organizationId,
      };
      if (admission.admitted) {
        response = successReply(exchange, await known.run(admission.context));
        metrics.decision(admission.organizationId, "allowed", "OK");
      } else {
        response = failureReply(exchange, admission.refusal, {
          metrics,
          ...(decisionLog === undefined ? {} : { decisionLog }),
        });
      }
    } catch (error) {
      response = failureReply(exchange, error, {
        metrics,
        ...(decisionLog === undefined ? {} : { decisionLog }),
      });
    }
    metrics.latency(
      method === undefined ? "_unknown" : methodName,
      (performance.now() - started) / 1000,
    );
    return response;
  }

  return Object.assign(handle, {
    closeStreams(): void {
      streams.close();
    },
    async close(): Promise<void> {
      clearInterval(sweeper);
      limiter.close();
      streams.close();
      availability.close();
      live.close();
      decisions?.close();
      await Promise.all([webhooks.close(), security.close()]);
    },
  });
}

/**
 * Counts every delivery attempt in `/metrics`, and says once per
 * organization and policy revision on stderr that its webhook was refused
 * for the address it leads to (one line, however many messages follow).
 */
function webhookOutcomeRecorder(
  source: PolicySource,
  metrics: Metrics,
): (outcome: WebhookOutcome) => void {
  const warned = new Map<string, string>();
  return (outcome) => {
    const known = source.current.organization(outcome.organizationId) !==
      undefined;
    const organization = known ? outcome.organizationId : UNKNOWN_ORGANIZATION;
    const refused = outcome.error === "private-address" ||
      outcome.error === "not-https";
    metrics.webhook(
      organization,
      outcome.ok
        ? "delivered"
        : refused
        ? "refused"
        : outcome.error === "no-webhook" || outcome.error === "not-due"
        ? "dropped"
        : outcome.final
        ? "failed"
        : "retrying",
    );
    const revision = source.current.revision;
    if (!refused || !known || warned.get(organization) === revision) return;
    warned.set(organization, revision);
    console.warn(
      `Webhook of organization "${organization}" refused, not retried: its URL ${
        outcome.error === "not-https"
          ? "is not https"
          : `leads to an address webhooks may not reach (${outcome.addressKind})`
      } (webhooks reach only public https endpoints; an operator allows a development host in server.allowWebhookHosts)`,
    );
  };
}

/** The store the options name. */
function storeOf(options: HandlerOptions): Store {
  if (options.store !== undefined) return options.store;
  if (options.kv !== undefined) {
    return createKvStore(options.kv, { closeKv: false });
  }
  throw new TypeError("createHandler() needs a store (or a kv)");
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

function faviconResponse(icon: Uint8Array<ArrayBuffer> | undefined): Response {
  if (icon === undefined) return new Response("Not found\n", { status: 404 });
  return new Response(icon, {
    headers: {
      "Content-Type": "image/x-icon",
      "Cache-Control": "public, max-age=86400",
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
