/**
 * Message ids that sort by time: 12 hex digits of epoch milliseconds, 4 hex
 * digits of a per-conversation sequence, 8 random hex digits. Fixed length, so
 * string order (and Deno KV key order) is creation order.
 *
 * @module
 */

const TIME_DIGITS = 12;
const SEQUENCE_DIGITS = 4;
const RANDOM_BYTES = 4;
const MAX_SEQUENCE = 0xffff;
const MESSAGE_ID_PATTERN = /^[0-9a-f]{24}$/;

/**
 * The id of the message after `previousId` in the same conversation: always
 * greater than `previousId`, even when the clock stands still or steps back
 * (several processes, or a clock adjusted between two writes).
 *
 * @param previousId The conversation's latest message id, if any.
 * @param nowMs The clock, epoch milliseconds.
 * @returns A 24-character lower-case hex id.
 */
export function nextMessageId(
  previousId: string | undefined,
  nowMs: number,
): string {
  let time = Math.max(0, Math.floor(nowMs));
  let sequence = 0;
  const previous = previousId === undefined
    ? undefined
    : parseMessageId(previousId);
  if (previous && previous.time >= time) {
    time = previous.time;
    sequence = previous.sequence + 1;
    if (sequence > MAX_SEQUENCE) {
      time += 1;
      sequence = 0;
    }
  }
  const random = crypto.getRandomValues(new Uint8Array(RANDOM_BYTES));
  return time.toString(16).padStart(TIME_DIGITS, "0") +
    sequence.toString(16).padStart(SEQUENCE_DIGITS, "0") +
    random.toHex();
}

/**
 * Reads the time and sequence of a message id.
 *
 * @param id A message id.
 * @returns The parts, or `undefined` when `id` is not a message id.
 */
export function parseMessageId(
  id: string,
): { time: number; sequence: number } | undefined {
  if (!MESSAGE_ID_PATTERN.test(id)) return undefined;
  return {
    time: parseInt(id.slice(0, TIME_DIGITS), 16),
    sequence: parseInt(
      id.slice(TIME_DIGITS, TIME_DIGITS + SEQUENCE_DIGITS),
      16,
    ),
  };
}
