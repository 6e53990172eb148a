/**
 * The error raised when the store refuses a value it was given, as opposed to
 * failing: the engine is up and answered, so this is never an outage.
 *
 * @module
 */

/**
 * The store refused the data of one call: text it cannot hold (PostgreSQL's
 * `22021` invalid byte sequence or `22P05` untranslatable character, e.g. a
 * NUL), or another data exception (SQLSTATE class 22, Deno KV's value and
 * key bounds). The wire checks input before it gets here, so `text` is input
 * that no check caught and `other` is a bug: the server answers
 * `400 BAD_REQUEST` or `500 INTERNAL`, never `503`, and does not count it as
 * a store failure.
 */
export class StoreDataError extends Error {
  /** `text`: characters the store cannot keep; `other`: any other refused value. */
  readonly kind: "text" | "other";
  /** The engine's code, e.g. SQLSTATE `22021`, when it gave one. */
  readonly engineCode: string | undefined;

  /**
   * Creates the error.
   *
   * @param message Starts with a capital, no final period; never the value.
   * @param details What was refused, the engine's code and the engine error.
   */
  constructor(
    message: string,
    details: {
      kind: "text" | "other";
      engineCode?: string;
      cause?: unknown;
    },
  ) {
    super(message, { cause: details.cause });
    this.name = "StoreDataError";
    this.kind = details.kind;
    this.engineCode = details.engineCode;
  }
}

/** SQLSTATEs of text PostgreSQL cannot store: an invalid byte sequence, an untranslatable character. */
const TEXT_STATES = new Set(["22021", "22P05"]);

/**
 * Whether a SQLSTATE is a data exception (class 22), and which kind.
 *
 * @param state A five-character SQLSTATE.
 * @returns The kind, or `undefined` for any other class.
 */
export function dataErrorKind(
  state: string,
): StoreDataError["kind"] | undefined {
  if (!state.startsWith("22")) return undefined;
  return TEXT_STATES.has(state) ? "text" : "other";
}
