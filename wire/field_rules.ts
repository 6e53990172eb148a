/**
 * The rules both sides apply to a field: the server refuses what breaks
 * them, and the widget answers a typo inline before sending.
 *
 * @module
 */

/** The longest message text, in characters after trimming (1–4000). */
export const MAX_MESSAGE_LENGTH = 4000;

/** The longest contact address (RFC 5321's path limit). */
export const MAX_EMAIL_LENGTH = 254;

/**
 * `local@domain`: a local part of 1–64 letters, digits and
 * ``!#$'*+-=^_`{|}~.`` — not `?`, `&`, `%` or `/`, which would turn the
 * `mailto:` agents click into one that copies or rewrites the mail — and a
 * domain of dotted labels of letters, digits and `-`.
 */
const EMAIL_PATTERN =
  /^[\p{L}\p{N}!#$'*+\-=^_`{|}~.]{1,64}@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+$/u;

/**
 * Whether `text` is an address `chat.setContact` takes (`BAD_REQUEST`,
 * `param.email.invalid`, otherwise): the one rule of the server and of the
 * widget's away form, which answers a typo inline before sending.
 *
 * @param text The address as typed (trimmed).
 * @returns `true` when it may be stored and offered to agents as `mailto:`.
 */
export function isEmailAddress(text: string): boolean {
  return text.length <= MAX_EMAIL_LENGTH && EMAIL_PATTERN.test(text);
}
