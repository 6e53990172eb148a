import assert from "node:assert/strict";
import { INBOX_STRINGS, inboxText } from "./inbox_strings.ts";

Deno.test("inboxText() fills a text's placeholders", () => {
  assert.equal(
    inboxText("assignedTo", { agent: "Grace Hopper" }),
    "Assigned to Grace Hopper",
  );
  assert.equal(inboxText("signOut"), "Sign out");
});

Deno.test("inboxText() picks a counted text's plural form and writes the number out", () => {
  assert.equal(
    inboxText("trimmed", { count: 1 }),
    "1 older message was removed",
  );
  assert.equal(
    inboxText("trimmed", { count: 1200 }),
    "1,200 older messages were removed",
  );
  assert.equal(inboxText("inboxTitleUnread", { count: 2 }), "(2) Parley inbox");
});

Deno.test("every counted text of the table has the forms English needs", () => {
  for (const [key, text] of Object.entries(INBOX_STRINGS)) {
    if (typeof text === "string") continue;
    assert.deepEqual(Object.keys(text).sort(), ["one", "other"], key);
  }
});

/** The inbox's files that show text: each must take it from the table. */
const INBOX_SOURCES = [
  "agent_inbox.ts",
  "agent_page.ts",
  "inbox_alerts.ts",
  "inbox_labels.ts",
  "inbox_session.ts",
  "inbox_view.ts",
  "security_view.ts",
  "sign_in_error.ts",
];

/** A string literal that reads as words (`"Sign out"`, `` `Updated ${…}` ``). */
const SENTENCE = /(["'`])[A-Z][a-z]+ [a-z][^"'`\n]*\1/;

for (const file of INBOX_SOURCES) {
  Deno.test(`${file} shows no text of its own: every sentence comes from inbox_strings.ts`, async () => {
    const source = await Deno.readTextFile(new URL(file, import.meta.url));
    const code = source
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .split("\n")
      .map((line) => line.replace(/^\s*\/\/.*$/, "").replace(/\s\/\/ .*$/, ""))
      // Errors for developers (a page missing an element) are not shown.
      .filter((line) => !/\bError\(/.test(line));
    const found = code.filter((line) => SENTENCE.test(line));
    assert.deepEqual(found, [], `${file} writes text outside the table`);
  });
}
