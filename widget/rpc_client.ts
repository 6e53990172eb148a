/**
 * The widget's side of the wire: `POST {apiBaseUrl}/rpc/{method}` with a JSON
 * body, no cookies, and the reply unwrapped into data or a `WidgetError`.
 *
 * @module
 */

import type {
  CallMethod,
  RateLimitState,
  RpcData,
  RpcParams,
  StreamMethod,
} from "../wire/mod.ts";
import { networkError, widgetErrorFromWire } from "./widget_error.ts";

/** Per-call options. */
export interface RpcCallOptions {
  /** Sent as `Authorization: Bearer …` (a user JWT at boot, else the session). */
  readonly token?: string | undefined;
  /** Sent as `Last-Event-ID` when resuming a stream. */
  readonly lastEventId?: string | undefined;
  /** Aborts the request. */
  readonly signal?: AbortSignal | undefined;
}

/** A successful reply's data and rate-limit state. */
export interface RpcResult<T> {
  readonly data: T;
  readonly rateLimit?: RateLimitState;
}

/**
 * The URL of a path under an API base URL.
 *
 * @param apiBaseUrl e.g. `https://chat.example.com` or `https://example.com/parley/`
 * @param path e.g. `/rpc/chat.boot`
 * @returns the absolute URL
 */
export function serverUrl(apiBaseUrl: string, path: string): string {
  return apiBaseUrl.replace(/\/+$/, "") + path;
}

/**
 * Calls an RPC method and returns its data, typed by the method
 * (`wire/methods.ts`).
 *
 * @throws {WidgetError} with the server's code, or `UNAVAILABLE` when no reply could be read
 * @returns the reply's data and rate-limit state
 */
export function callRpc<M extends CallMethod>(
  apiBaseUrl: string,
  method: M,
  params: RpcParams<M>,
  options?: RpcCallOptions,
): Promise<RpcResult<RpcData<M>>>;
/**
 * The visitor session's untyped form, until its files take the typed one.
 *
 * @throws {WidgetError} with the server's code, or `UNAVAILABLE` when no reply could be read
 * @returns the reply's data and rate-limit state
 */
export function callRpc<T>(
  apiBaseUrl: string,
  method: string,
  body: Readonly<Record<string, unknown>>,
  options?: RpcCallOptions,
): Promise<RpcResult<T>>;
export async function callRpc(
  apiBaseUrl: string,
  method: string,
  body: object,
  options: RpcCallOptions = {},
): Promise<RpcResult<unknown>> {
  const response = await post(
    apiBaseUrl,
    method,
    body,
    options,
    "application/json",
  );
  const reply = await readJson(response);
  if (reply.ok === true && response.ok) {
    const rateLimit = reply.rateLimit as RateLimitState | undefined;
    return rateLimit ? { data: reply.data, rateLimit } : { data: reply.data };
  }
  throw widgetErrorFromWire(reply.error, response.status);
}

/**
 * Opens a streaming RPC method (`chat.stream`, `agent.stream`) and returns
 * its event stream; `streamEventOf` reads its frames as the method's events.
 *
 * @throws {WidgetError} when the server answers with an error instead of a stream
 * @returns the response body, `text/event-stream`
 */
export function openRpcStream<M extends StreamMethod>(
  apiBaseUrl: string,
  method: M,
  params: RpcParams<M>,
  options?: RpcCallOptions,
): Promise<ReadableStream<Uint8Array>>;
/**
 * The visitor session's untyped form, until its files take the typed one.
 *
 * @throws {WidgetError} when the server answers with an error instead of a stream
 * @returns the response body, `text/event-stream`
 */
export function openRpcStream(
  apiBaseUrl: string,
  method: string,
  body: Readonly<Record<string, unknown>>,
  options?: RpcCallOptions,
): Promise<ReadableStream<Uint8Array>>;
export async function openRpcStream(
  apiBaseUrl: string,
  method: string,
  body: object,
  options: RpcCallOptions = {},
): Promise<ReadableStream<Uint8Array>> {
  const response = await post(
    apiBaseUrl,
    method,
    body,
    options,
    "text/event-stream",
  );
  const type = response.headers.get("content-type") ?? "";
  if (response.ok && type.startsWith("text/event-stream") && response.body) {
    return response.body;
  }
  throw widgetErrorFromWire((await readJson(response)).error, response.status);
}

async function post(
  apiBaseUrl: string,
  method: string,
  body: object,
  options: RpcCallOptions,
  accept: string,
): Promise<Response> {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    Accept: accept,
  };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (options.lastEventId) headers["Last-Event-ID"] = options.lastEventId;
  try {
    return await fetch(serverUrl(apiBaseUrl, `/rpc/${method}`), {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      credentials: "omit",
      mode: "cors",
      cache: "no-store",
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw networkError(`Could not reach ${method}`);
  }
}

async function readJson(response: Response): Promise<Record<string, unknown>> {
  try {
    const value: unknown = await response.json();
    if (typeof value === "object" && value !== null) {
      return value as Record<string, unknown>;
    }
  } catch {
    // Not JSON (a proxy's error page, a cut connection): judged by status below.
  }
  if (response.status === 0 || response.status >= 500 || response.ok) {
    throw networkError(`Unreadable reply (${response.status})`);
  }
  return { ok: false };
}
