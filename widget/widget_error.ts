/**
 * The error the widget hands to `onSecurityError`: a wire error code plus the
 * server's hints (`retryAfter`, `reason`), so host pages can branch on `code`.
 *
 * @module
 */

import { ERROR_STATUS, type ErrorCode, type WireError } from "../wire/mod.ts";

/** An error reported by the widget, carrying a stable wire `code`. */
export class WidgetError extends Error {
  /** The stable error code of the wire contract. */
  readonly code: ErrorCode;
  /** Seconds to wait before retrying, on `RATE_LIMITED`. */
  readonly retryAfter?: number;
  /** The server's stable reason code (e.g. `jwt.expired`), when given. */
  readonly reason?: string;

  /** Builds the error from a wire error object. */
  constructor(wire: WireError) {
    super(wire.message);
    this.name = "WidgetError";
    this.code = wire.code;
    if (wire.retryAfter !== undefined) this.retryAfter = wire.retryAfter;
    if (wire.reason !== undefined) this.reason = wire.reason;
  }
}

/**
 * Reads a reply's `error` member into a `WidgetError`, tolerating servers that
 * send unknown codes or odd types (a newer server must not crash an old widget).
 *
 * @param value the `error` member of a failed reply
 * @param status the HTTP status, used when the body names no known code
 * @returns the error to report
 */
export function widgetErrorFromWire(
  value: unknown,
  status: number,
): WidgetError {
  const wire =
    (typeof value === "object" && value !== null ? value : {}) as Record<
      string,
      unknown
    >;
  const code = isErrorCode(wire.code) ? wire.code : codeForStatus(status);
  const retryAfter = typeof wire.retryAfter === "number" && wire.retryAfter >= 0
    ? wire.retryAfter
    : undefined;
  return new WidgetError({
    code,
    message: typeof wire.message === "string"
      ? wire.message
      : `Request failed with ${status}`,
    ...(retryAfter === undefined ? {} : { retryAfter }),
    ...(typeof wire.reason === "string" ? { reason: wire.reason } : {}),
  });
}

/** An error for a request that got no readable reply (offline, CORS, proxy page). */
export function networkError(message: string): WidgetError {
  return new WidgetError({ code: "UNAVAILABLE", message, reason: "network" });
}

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" &&
    Object.prototype.hasOwnProperty.call(ERROR_STATUS, value);
}

function codeForStatus(status: number): ErrorCode {
  if (status === 429) return "RATE_LIMITED";
  if (status >= 500 || status === 0) return "UNAVAILABLE";
  return "INTERNAL";
}
