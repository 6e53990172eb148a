/**
 * The away form's check of an email address before it is sent: the widget
 * answers a typo at once, inline, and the server (which answers
 * `BAD_REQUEST` with `param.email.invalid`) stays the judge.
 *
 * @module
 */

/** The longest address (RFC 5321's path limit less the brackets). */
const MAX_EMAIL_LENGTH = 254;

/**
 * Whether `text` reads as an address someone can be answered at: one `@`, a
 * local part, and a dotted domain, no spaces or brackets.
 *
 * @returns true when it does
 */
export function isEmailAddress(text: string): boolean {
  return text.length <= MAX_EMAIL_LENGTH &&
    /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"._-][^\s@<>()[\]\\,;:"]*\.[^\s@<>()[\]\\,;:".]{2,}$/
      .test(text);
}
