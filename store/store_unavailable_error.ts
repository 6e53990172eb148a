/**
 * The error raised when Deno KV cannot serve a request.
 *
 * @module
 */

/**
 * Deno KV failed for real: the store is closed, cannot be opened, or stayed
 * locked by other processes past the retry budget. The server answers
 * `503 UNAVAILABLE` (fail closed) unless the policy says
 * `server.onStoreError: open`.
 */
export class StoreUnavailableError extends Error {
  /** Stable wire code; matches `ERROR_STATUS.UNAVAILABLE` in `rpc/wire.ts`. */
  readonly code = "UNAVAILABLE" as const;

  /**
   * Creates the error.
   *
   * @param message Starts with a capital, no final period.
   * @param options `cause`: the underlying KV error.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}
