/**
 * Everything the server answers besides `/rpc/*`: the pages (`/`, `/agent`),
 * the built assets (`/widget.js` and its SRI, the widget's
 * `/locales/<locale>.json`, `/agent.js`, the pages' stylesheets `/agent.css`
 * and `/demo.css`, `/favicon.ico`),
 * `/healthz` and `/metrics`. `GET` and `HEAD` only.
 *
 * @module
 */

import type { Metrics } from "../observability/metrics.ts";
import type { PolicySource } from "../policy_source/policy_source.ts";
import type { Store } from "../store/store.ts";

/** A built file the server serves with an ETag: the widget bundle, the inbox's script or a page's stylesheet. */
export interface WidgetAsset {
  /** The file's text (JavaScript or CSS). */
  readonly code: string;
  /** `sha384-…`, served at `/widget.js.sri`. */
  readonly sri: string;
  /** Quoted strong ETag of the code; `If-None-Match` requests get 304. */
  readonly etag: string;
}

/** A built file, or its build still under way: a request for it waits. */
export type Built<T> = T | Promise<T>;

/** What the site serves; each route answers 404 without its part. */
export interface SiteAssets {
  /** The widget bundle; `/widget.js` answers 404 without it. */
  readonly widget?: Built<WidgetAsset>;
  /**
   * The widget's locale files by locale (`de`, `pt-BR`), served at
   * `/locales/<locale>.json` for a widget speaking another language than
   * its built-in English; 404 for a locale not given.
   */
  readonly locales?: Built<ReadonlyMap<string, WidgetAsset>>;
  /** The agent inbox script, served at `/agent.js` for the `/agent` page. */
  readonly agentScript?: Built<WidgetAsset>;
  /** The `.ico` served at `/favicon.ico`; 404 without it. */
  readonly favicon?: Uint8Array<ArrayBuffer>;
  /** HTML of `GET /` and `GET /agent`, when served. */
  readonly pages?: { readonly home?: string; readonly agent?: string };
  /**
   * The pages' stylesheets, served at `/demo.css` (for `GET /`) and
   * `/agent.css`: files, so the pages' CSP needs no `'unsafe-inline'`.
   */
  readonly styles?: {
    readonly home?: Built<WidgetAsset>;
    readonly agent?: Built<WidgetAsset>;
  };
}

/** What `/healthz` and `/metrics` read. */
export interface SiteStatus {
  readonly store: Store;
  readonly policy: PolicySource;
  readonly metrics: Metrics;
  /** Open streams, for `/healthz`. */
  readonly streams: { readonly size: number };
}

/**
 * Answers a request outside `/rpc/*`.
 *
 * @param request The request.
 * @param pathname Its URL's path.
 * @param assets The pages and built files.
 * @param status What `/healthz` and `/metrics` report.
 * @returns The page, file or report; 404 for an unknown path, 405 for a
 *   method other than `GET` or `HEAD`.
 */
export async function serveSite(
  request: Request,
  pathname: string,
  assets: SiteAssets,
  status: SiteStatus,
): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("Method not allowed\n", {
      status: 405,
      headers: { Allow: "GET, HEAD" },
    });
  }
  switch (pathname) {
    case "/":
      return html(assets.pages?.home);
    case "/agent":
      return html(assets.pages?.agent);
    case "/widget.js":
      return widgetResponse(request, await assets.widget, "code");
    case "/widget.js.sri":
      return widgetResponse(request, await assets.widget, "sri");
    case "/agent.js":
      return widgetResponse(request, await assets.agentScript, "code");
    case "/agent.css":
      return widgetResponse(request, await assets.styles?.agent, "code", CSS);
    case "/demo.css":
      return widgetResponse(request, await assets.styles?.home, "code", CSS);
    case "/favicon.ico":
      return faviconResponse(assets.favicon);
    case "/healthz":
      return await health(status);
    case "/metrics":
      return new Response(status.metrics.render(), {
        headers: {
          "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
        },
      });
    default:
      return pathname.startsWith("/locales/")
        ? localeResponse(request, pathname, await assets.locales)
        : new Response("Not found\n", { status: 404 });
  }
}

async function health(status: SiteStatus): Promise<Response> {
  const { store, policy } = status;
  let reachable = true;
  try {
    await store.ping();
  } catch {
    reachable = false;
  }
  // Degraded without organizations too, but 200: the process works and
  // restarting it changes nothing; 503 takes it out of rotation only
  // while it cannot reach its store.
  const organizations = policy.current.spec.organizations.size;
  const body = {
    status: reachable && organizations > 0 ? "ok" : "degraded",
    organizations,
    policyRevision: policy.current.revision,
    lastReloadError: policy.lastReloadError ?? null,
    policyErrors: policy.policyErrors ?? [],
    store: reachable ? "ok" : "unavailable",
    engine: store.engine,
    streams: status.streams.size,
  };
  return Response.json(body, { status: reachable ? 200 : 503 });
}

function html(page: string | undefined): Response {
  if (page === undefined) return new Response("Not found\n", { status: 404 });
  return new Response(page, {
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy":
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
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

const JAVASCRIPT = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";
const JSON_TYPE = "application/json; charset=utf-8";

/**
 * `GET /locales/<locale>.json`: public and the same for everyone, so any
 * page may fetch it without credentials, and browsers revalidate it by ETag.
 */
function localeResponse(
  request: Request,
  path: string,
  locales: ReadonlyMap<string, WidgetAsset> | undefined,
): Response {
  const match = /^\/locales\/([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)\.json$/
    .exec(path);
  const locale = match ? locales?.get(match[1]!) : undefined;
  return widgetResponse(request, locale, "code", JSON_TYPE);
}

function widgetResponse(
  request: Request,
  widget: WidgetAsset | undefined,
  part: "code" | "sri",
  codeType: string = JAVASCRIPT,
): Response {
  if (widget === undefined) return new Response("Not found\n", { status: 404 });
  const etag = part === "code"
    ? widget.etag
    : `"sri-${widget.etag.replaceAll('"', "")}"`;
  const headers = new Headers({
    "Content-Type": part === "code" ? codeType : "text/plain; charset=utf-8",
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
