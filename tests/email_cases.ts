/**
 * Email addresses and whether they are ones an answer can go to: the table
 * both the widget's away form (`widget/email_address_test.ts`) and the
 * server's `chat.setContact` (`email_rule_agreement_test.ts`) are held to.
 *
 * @module
 */

/** `[address, valid, what it shows]` */
export const EMAIL_CASES: readonly [string, boolean, string][] = [
  ["ada@example.com", true, "a plain address"],
  ["ada.lovelace+chat@mail.example.co.uk", true, "dots, plus and subdomains"],
  ["o'brien@example.ie", true, "an apostrophe"],
  ["grace@xn--bcher-kva.example", true, "a punycode domain"],
  [`${"a".repeat(64)}@example.com`, true, "a 64-character local part"],
  ["", false, "empty"],
  ["ada", false, "no @"],
  ["ada@", false, "no domain"],
  ["@example.com", false, "no local part"],
  ["ada@example", false, "an undotted domain"],
  ["ada@@example.com", false, "two @"],
  ["ada lovelace@example.com", false, "a space"],
  ["ada@.example.com", false, "a domain starting with a dot"],
  ["ada@example..com", false, "an empty domain label"],
  [`${"a".repeat(65)}@example.com`, false, "a 65-character local part"],
  [`ada@${"d".repeat(250)}.com`, false, "over 254 characters"],
];
