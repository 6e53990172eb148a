/**
 * The away form's check of an email address before it is sent: the widget
 * answers a typo at once, inline. It is the rule `chat.setContact` applies
 * (which answers `BAD_REQUEST`, reason `param.email.invalid`), and
 * `tests/email_rule_agreement_test.ts` holds the two to the same verdicts;
 * the server stays the judge.
 *
 * @module
 */

/** The longest address (RFC 5321's path limit). */
const MAX_EMAIL_LENGTH = 254;

/**
 * Whether `text` reads as an address someone can be answered at: a local
 * part of 1–64 characters, one `@`, and a domain with a dot; no spaces.
 *
 * @returns true when it does
 */
export function isEmailAddress(text: string): boolean {
  return text.length <= MAX_EMAIL_LENGTH &&
    /^[^\s@]{1,64}@[^\s@.]+(?:\.[^\s@.]+)+$/.test(text);
}
