/**
 * The error raised when the store's engine cannot serve a request.
 *
 * @module
 */

/**
 * The engine failed for real: the store is closed or cannot be opened, Deno
 * KV stayed locked by other processes past the retry budget, or PostgreSQL
 * cannot be reached. The server answers
 * `503 UNAVAILABLE` (fail closed) unless the policy says
 * `server.onStoreError: open`.
 */
export class StoreUnavailableError extends Error {
  /** Stable wire code; matches `ERROR_STATUS.UNAVAILABLE` in `wire/mod.ts`. */
  readonly code = "UNAVAILABLE" as const;

  /**
   * Creates the error.
   *
   * @param message Starts with a capital, no final period.
   * @param options `cause`: the underlying engine error.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}
