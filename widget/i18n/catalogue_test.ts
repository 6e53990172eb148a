import assert from "node:assert/strict";
import { DEFAULT_GREETING } from "../../wire/mod.ts";
import { readCatalogue } from "./catalogue.ts";
import { ENGLISH } from "./english.ts";

Deno.test("readCatalogue() keeps the known keys whose values have English's kind", () => {
  const catalogue = readCatalogue("de", {
    send: "Senden",
    launcherUnread: {
      one: "{title} ({count} ungelesene Nachricht)",
      other: "{title} ({count} ungelesene Nachrichten)",
    },
  });
  assert.equal(catalogue.locale, "de");
  assert.deepEqual(catalogue.messages, {
    send: "Senden",
    launcherUnread: {
      one: "{title} ({count} ungelesene Nachricht)",
      other: "{title} ({count} ungelesene Nachrichten)",
    },
  });
});

/** Each row: a file's value for a key that English has, and why it is dropped. */
const DROPPED: readonly (readonly [string, Record<string, unknown>])[] = [
  ["an unknown key", { sendd: "Senden" }],
  ["a number for a text", { send: 42 }],
  ["plural forms for a text", { send: { other: "Senden" } }],
  ["a text for plural forms", { launcherUnread: "{title}" }],
  ["plural forms without other", { launcherUnread: { one: "{title}" } }],
  ["plural forms with a non-text form", {
    launcherUnread: { one: 1, other: "{title}" },
  }],
  ["null", { send: null }],
];

for (const [name, file] of DROPPED) {
  Deno.test(`readCatalogue() drops ${name}, which then reads in English`, () => {
    assert.deepEqual(readCatalogue("de", file).messages, {});
  });
}

Deno.test("readCatalogue() reads anything that is not an object as an empty catalogue", () => {
  for (const json of [null, "Senden", 42, ["Senden"]]) {
    assert.deepEqual(readCatalogue("de", json).messages, {});
  }
});

Deno.test("English's greeting is the server's default one, which the widget greets with in the visitor's language instead", () => {
  assert.equal(ENGLISH.greeting, DEFAULT_GREETING);
});
