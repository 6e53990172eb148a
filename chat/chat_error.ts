/**
 * The error thrown by the chat store.
 *
 * @module
 */

/** Stable codes of {@linkcode ChatError}; the RPC layer maps them to wire codes. */
export type ChatErrorCode =
  /** No such conversation in this organization (another org's id included). */
  | "conversation-not-found"
  /** The conversation was closed; the visitor's next boot opens a new one. */
  | "conversation-closed"
  /** Empty text, or text over the store's length bound. */
  | "message-invalid"
  /** A participant id that is empty, too long or not a visitor id. */
  | "participant-invalid"
  /** A paging or resume cursor this store did not hand out. */
  | "cursor-invalid"
  /** A watch fell too far behind its feed; it may resume from its last event. */
  | "watch-lagging";

/** A chat store operation that was refused. */
export class ChatError extends Error {
  /** Stable code; assert on it, never on the message. */
  readonly code: ChatErrorCode;

  /**
   * Creates an error with a stable code.
   *
   * @param code Stable code.
   * @param message Starts with a capital, no final period.
   * @param options `cause` when wrapping another error.
   */
  constructor(code: ChatErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ChatError";
    this.code = code;
  }
}
