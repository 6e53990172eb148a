/**
 * The envelope of every RPC reply: success with data and the rate-limit
 * state, or an error with a stable code whose HTTP status is fixed here.
 *
 * @module
 */

/** HTTP status of every error code (docs/rpc.md, Error codes). */
export const ERROR_STATUS = {
  ORGANIZATION_NOT_FOUND: 404,
  DOMAIN_NOT_ALLOWED: 403,
  JWT_REQUIRED: 401,
  JWT_INVALID: 401,
  RATE_LIMITED: 429,
  BAD_REQUEST: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  METHOD_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  SESSION_INVALID: 401,
  UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

/** A stable error code of the RPC wire. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** Rate-limit state carried by every successful reply. */
export interface RateLimitState {
  /** Requests per window of the tightest limit that applied. */
  readonly limit: number;
  /** Requests left in that window after this one. */
  readonly remaining: number;
  /** Seconds until the tightest applying window resets. */
  readonly reset: number;
}

/** The error object of a failed reply. */
export interface WireError {
  /** Stable code; its HTTP status is `ERROR_STATUS[code]`. */
  readonly code: ErrorCode;
  /** A human sentence for developers; never a secret or token. */
  readonly message: string;
  /** Seconds to wait before retrying (on `RATE_LIMITED`). */
  readonly retryAfter?: number;
  /** Stable reason code (e.g. `jwt.expired`); never a secret. */
  readonly reason?: string;
}

/** A successful reply. */
export interface OkReply<T> {
  /** Always true; tells a success from an {@linkcode ErrorReply}. */
  readonly ok: true;
  /** The method's result. */
  readonly data: T;
  /** Where the tightest rate limit stands; absent when no limit applied. */
  readonly rateLimit?: RateLimitState;
}

/** A failed reply. */
export interface ErrorReply {
  /** Always false; tells a failure from an {@linkcode OkReply}. */
  readonly ok: false;
  /** What went wrong. */
  readonly error: WireError;
}

/** Any RPC reply. */
export type Reply<T> = OkReply<T> | ErrorReply;
