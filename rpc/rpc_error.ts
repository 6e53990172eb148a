/**
 * The one error type of the RPC layer: every refusal the server makes is an
 * `RpcError` with a wire code, and so maps to exactly one HTTP status.
 *
 * @module
 */

import { ERROR_STATUS, type ErrorCode, type WireError } from "../wire/mod.ts";

/** A refusal with a stable wire code (docs/rpc.md, Error codes). */
export class RpcError extends Error {
  readonly code: ErrorCode;
  /** Stable reason code, e.g. `jwt.expired`, `body.too_deep`. */
  readonly reason: string | undefined;
  /** Seconds to wait, on `RATE_LIMITED`. */
  readonly retryAfter: number | undefined;

  /**
   * @param code The wire code; it fixes the HTTP status.
   * @param message A human sentence; never a secret or token.
   * @param details Stable `reason` and `retryAfter` seconds.
   */
  constructor(
    code: ErrorCode,
    message: string,
    details: { reason?: string; retryAfter?: number } = {},
  ) {
    super(message);
    this.name = "RpcError";
    this.code = code;
    this.reason = details.reason;
    this.retryAfter = details.retryAfter;
  }

  /** The HTTP status of this error's code. */
  get status(): number {
    return ERROR_STATUS[this.code];
  }

  /** The `error` object of the wire reply. */
  toWire(): WireError {
    return {
      code: this.code,
      message: this.message,
      ...(this.retryAfter === undefined ? {} : { retryAfter: this.retryAfter }),
      ...(this.reason === undefined ? {} : { reason: this.reason }),
    };
  }
}
