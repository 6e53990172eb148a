/**
 * The away form's check of an email address before it is sent: the widget
 * answers a typo at once, inline. It is the rule `chat.setContact` applies
 * (which answers `BAD_REQUEST`, reason `param.email.invalid`), shared through
 * the wire contract, and `tests/email_rule_agreement_test.ts` holds the
 * server and the widget to the same verdicts; the server stays the judge.
 *
 * @module
 */

export { isEmailAddress } from "../wire/mod.ts";
