import assert from "node:assert/strict";
import { isEmailAddress } from "./email_address.ts";

const accepted = [
  "ada@example.com",
  "ada.lovelace+chat@mail.example.co.uk",
  "o'brien@example.ie",
  "grace@xn--bcher-kva.example",
];
for (const address of accepted) {
  Deno.test(`isEmailAddress() accepts ${address}`, () => {
    assert.equal(isEmailAddress(address), true);
  });
}

const rejected: [string, string][] = [
  ["", "empty"],
  ["ada", "no @"],
  ["ada@", "no domain"],
  ["@example.com", "no local part"],
  ["ada@example", "an undotted domain"],
  ["ada@@example.com", "two @"],
  ["ada lovelace@example.com", "a space"],
  ["ada@example.com ", "a trailing space (the form trims first)"],
  ["<ada@example.com>", "angle brackets"],
  ["ada@.example.com", "a domain starting with a dot"],
  ["ada@example.c", "a one-letter top-level domain"],
  [`${"a".repeat(250)}@example.com`, "over 254 characters"],
];
for (const [address, why] of rejected) {
  Deno.test(`isEmailAddress() rejects ${why}`, () => {
    assert.equal(isEmailAddress(address), false);
  });
}
