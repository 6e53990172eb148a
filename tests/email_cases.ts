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
  ["!#$'*+-=^_`{|}~.x@example.com", true, "every sign a local part may hold"],
  ["josé@exämple.com", true, "letters beyond ASCII"],
  [
    "billing?cc=attacker%40evil.example&subject=re@acme.com",
    false,
    "a mailto query hidden in the local part (it would copy the attacker)",
  ],
  ["ada?x@example.com", false, "a ? in the local part"],
  ["ada&x@example.com", false, "an & in the local part"],
  ["ada%40evil.example@example.com", false, "a % in the local part"],
  ["ada/x@example.com", false, "a / in the local part"],
  ["ada@example.com?cc=evil.example", false, "a query after the domain"],
  ["ada@exa/mple.com", false, "a / in the domain"],
  ["ada@exam_ple.com", false, "an _ in the domain"],
  ["ada\u0000@example.com", false, "a control character"],
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
