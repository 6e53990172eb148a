/**
 * The inbox cursor both adapters hand out and read: `c1.<updatedAtMs>.<id>`,
 * the position of the last conversation of a page in the inbox order
 * (newest `updatedAt` first, then id). One written form on every engine, so
 * text that is not a cursor (`"€"`, `"not-a-cursor"`, an engine's native
 * cursor) is refused the same way everywhere, and a cursor survives a move
 * between engines. A made-up cursor of this form is only a position in the
 * inbox of the organization asked about: it reveals nothing of another.
 *
 * @module
 */

/** A position in an inbox: after this conversation. */
export interface ConversationPosition {
  /** The conversation's `updatedAt`, epoch milliseconds. */
  readonly updatedAtMs: number;
  /** The conversation's id. */
  readonly id: string;
}

const CURSOR = /^c1\.(\d{1,16})\.([A-Za-z0-9_-]{1,128})$/;

/**
 * @param position The last conversation of a page.
 * @returns The cursor of the page after it.
 */
export function conversationCursor(position: ConversationPosition): string {
  return `c1.${position.updatedAtMs}.${position.id}`;
}

/**
 * Reads a cursor.
 *
 * @param cursor Text from a client.
 * @returns The position it names.
 * @throws {TypeError} When it is not a cursor (the message names the cursor).
 */
export function parseConversationCursor(cursor: string): ConversationPosition {
  const match = CURSOR.exec(cursor);
  const updatedAtMs = Number(match?.[1]);
  if (match === null || !Number.isSafeInteger(updatedAtMs)) {
    throw new TypeError("Conversation cursor is invalid");
  }
  return { updatedAtMs, id: match[2]! };
}
