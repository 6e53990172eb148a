import assert from "node:assert/strict";
import { catalogueProblems } from "./catalogue_check.ts";
import { ENGLISH } from "./english.ts";
import { SUPPORTED_LOCALES } from "../../wire/locale_match.ts";

const LOCALES_DIR = new URL("../locales/", import.meta.url);

async function localeFile(locale: string): Promise<Record<string, unknown>> {
  return JSON.parse(
    await Deno.readTextFile(new URL(`${locale}.json`, LOCALES_DIR)),
  );
}

Deno.test("widget/locales holds one file per supported locale but the built-in English", async () => {
  const files: string[] = [];
  for await (const entry of Deno.readDir(LOCALES_DIR)) files.push(entry.name);
  assert.deepEqual(
    files.sort(),
    SUPPORTED_LOCALES.filter((locale) => locale !== "en")
      .map((locale) => `${locale}.json`).sort(),
  );
});

for (const locale of SUPPORTED_LOCALES.filter((locale) => locale !== "en")) {
  Deno.test(`${locale}.json has exactly the English keys, each plural form its locale needs, the same placeholders, and clean typography`, async () => {
    const file = await localeFile(locale);
    assert.deepEqual(Object.keys(file), Object.keys(ENGLISH), "keys in order");
    assert.deepEqual(catalogueProblems(locale, file), []);
  });
}

Deno.test("the English catalogue passes its own check", () => {
  assert.deepEqual(catalogueProblems("en", ENGLISH), []);
});

/** A good German file to break one way per row. */
const GERMAN = await localeFile("de");

/** Each row: how a file is broken, the locale, the change, the problem code and key. */
const BROKEN: readonly (readonly [
  string,
  string,
  Record<string, unknown>,
  string,
  string | undefined,
])[] = [
  ["a missing key", "de", { send: undefined }, "missing-key", "send"],
  [
    "a key English lacks",
    "de",
    { sendButton: "Senden" },
    "unknown-key",
    "sendButton",
  ],
  [
    "plural forms where English has one text",
    "de",
    { send: { other: "Senden" } },
    "wrong-kind",
    "send",
  ],
  [
    "one text where English has plural forms",
    "de",
    { launcherUnread: "{title} ({count})" },
    "wrong-kind",
    "launcherUnread",
  ],
  [
    "a plural category the locale lacks",
    "de",
    {
      launcherUnread: {
        one: "{title} ({count})",
        few: "{title} ({count})",
        other: "{title} ({count})",
      },
    },
    "plural-categories",
    "launcherUnread",
  ],
  [
    "a plural category the locale needs, missing",
    "de",
    {
      launcherUnread: { other: "{title} ({count})" },
    },
    "plural-categories",
    "launcherUnread",
  ],
  [
    "a placeholder left out",
    "de",
    { agentTyping: "Jemand schreibt…" },
    "placeholders",
    "agentTyping",
  ],
  [
    "a placeholder renamed",
    "de",
    { agentTyping: "{name} schreibt…" },
    "placeholders",
    "agentTyping",
  ],
  [
    "a placeholder English lacks",
    "de",
    { send: "Senden an {agent}" },
    "placeholders",
    "send",
  ],
  ["a stray brace", "de", { send: "Senden }" }, "placeholders", "send"],
  [
    "{count} left out where the category holds many numbers",
    "ru",
    {
      launcherUnread: {
        one: "{title} (одно непрочитанное сообщение)",
        few: "{title} ({count} непрочитанных сообщения)",
        many: "{title} ({count} непрочитанных сообщений)",
        other: "{title} ({count} непрочитанного сообщения)",
      },
    },
    "placeholders",
    "launcherUnread",
  ],
  [
    "three dots for an ellipsis",
    "de",
    { messagePlaceholder: "Nachricht schreiben..." },
    "typography",
    "messagePlaceholder",
  ],
  ["a doubled space", "de", { send: "Jetzt  senden" }, "typography", "send"],
  ["an empty text", "de", { send: "" }, "typography", "send"],
  ["a right-to-left mark", "ar", { send: "\u200fإرسال" }, "typography", "send"],
  ["a left-to-right mark", "he", { send: "\u200eשליחה" }, "typography", "send"],
  [
    "a plain space before a French colon",
    "fr",
    { awayPrompt: "Nous sommes absents : laissez votre adresse" },
    "typography",
    "awayPrompt",
  ],
  [
    "no space before a French question mark",
    "fr",
    { send: "Envoyer?" },
    "typography",
    "send",
  ],
  [
    "an Arabic yeh in Persian",
    "fa",
    { send: "ارسال\u064a" },
    "typography",
    "send",
  ],
  [
    "an Arabic heh in Urdu",
    "ur",
    { send: "بھیجیں\u0647" },
    "typography",
    "send",
  ],
  [
    "ASCII parentheses in Japanese",
    "ja",
    { send: "送信(今すぐ)" },
    "typography",
    "send",
  ],
  [
    "an ASCII comma in Chinese",
    "zh-CN",
    { send: "发送,现在" },
    "typography",
    "send",
  ],
];

for (const [name, locale, change, code, key] of BROKEN) {
  Deno.test(`catalogueProblems() finds ${name} (${code})`, async () => {
    const base = locale === "de" ? GERMAN : await localeFile(locale);
    const file: Record<string, unknown> = { ...base, ...change };
    for (const [name, value] of Object.entries(change)) {
      if (value === undefined) delete file[name];
    }
    const problems = catalogueProblems(locale, file);
    assert.deepEqual(
      problems.map((problem) => [problem.code, problem.key]),
      [[code, key]],
      JSON.stringify(problems),
    );
  });
}

Deno.test("catalogueProblems() lets a form that holds one number spell it out (Arabic one and two, Hebrew two)", async () => {
  const arabic = await localeFile("ar");
  assert.doesNotMatch(
    (arabic.launcherUnread as Record<string, string>).two!,
    /\{count\}/,
  );
  assert.deepEqual(catalogueProblems("ar", arabic), []);
});

Deno.test("catalogueProblems() refuses a file that is not an object", () => {
  for (const json of [null, [], "text", 1]) {
    assert.deepEqual(
      catalogueProblems("de", json).map((problem) => problem.code),
      ["not-an-object"],
    );
  }
});
