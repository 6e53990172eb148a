/**
 * `createHandler()`: Parley as one `(Request) => Promise<Response>` function.
 * It starts the long-lived parts on the store (`services.ts`), sends
 * `/rpc/*` through the request pipeline (`serve_rpc.ts`), and everything else
 * to the pages, the built assets, `/healthz` and `/metrics`
 * (`site_routes.ts`).
 *
 * @module
 */

export type { PolicySource } from "../policy_source/policy_source.ts";
export type { Built, SiteAssets, WidgetAsset } from "./site_routes.ts";

import type { DecisionLogSink } from "../observability/decision_log.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { PolicySource } from "../policy_source/policy_source.ts";
import type { Store } from "../store/store.ts";
import { preflightResponse } from "./cors.ts";
import { serveRpc } from "./serve_rpc.ts";
import { startServices } from "./services.ts";
import { serveSite, type SiteAssets } from "./site_routes.ts";

/** Options of {@linkcode createHandler}. */
export interface HandlerOptions extends SiteAssets {
  /**
   * The policy in force: a file or directory source that reloads, or a
   * compiled policy wrapped by `staticPolicy(evaluator)`.
   */
  readonly policy: PolicySource;
  /**
   * Counters, sessions and conversations live here: a store from
   * `openStore` (Deno KV or PostgreSQL), or `createKvStore(kv)` on a Deno KV
   * of your own. The handler does not close it.
   */
  readonly store: Store;
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

/**
 * Builds the Parley request handler.
 *
 * @param options The policy source, the store and optional assets.
 * @returns A handler for `Deno.serve` (or any `fetch`-style host).
 */
export function createHandler(options: HandlerOptions): ParleyHandler {
  const services = startServices(options.store, options.policy, options);
  async function handle(
    request: Request,
    info?: Deno.ServeHandlerInfo,
  ): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (!pathname.startsWith("/rpc/")) {
      return await serveSite(request, pathname, options, services);
    }
    if (request.method === "OPTIONS") return preflightResponse(request);
    return await serveRpc(request, pathname.slice(5), services, info);
  }
  return Object.assign(handle, {
    closeStreams: () => services.closeStreams(),
    close: () => services.close(),
  });
}
