import assert from "node:assert/strict";
import {
  type AdminText,
  chooseAdminText,
  resolveAdminText,
} from "./admin_text.ts";
import { chooseLanguage, type LanguageSources } from "./locale_match.ts";

const GREETING = {
  en: "Hi! How can we help?",
  de: "Hallo! Wie können wir helfen?",
  "de-AT": "Grüß Gott! Wie können wir helfen?",
  "pt-BR": "Olá! Como podemos ajudar?",
  "zh-TW": "您好！有什麼可以幫您？",
};

/** Each row: what chooses the language, the text, `widget.language`, what the visitor reads. */
const ROWS: readonly (readonly [
  string,
  LanguageSources,
  AdminText | undefined,
  string | undefined,
  string,
])[] = [
  [
    "one string reads the same in every language",
    { browser: ["ja"] },
    "Acme Support",
    "de",
    "Acme Support",
  ],
  [
    "the exact tag first (de-AT)",
    { browser: ["de-AT"] },
    GREETING,
    "en",
    GREETING["de-AT"],
  ],
  [
    "then the base language (de-CH reads de)",
    { browser: ["de-CH"] },
    GREETING,
    "en",
    GREETING.de,
  ],
  [
    "then the widget's locale (zh-HK reads zh-TW)",
    { browser: ["zh-HK"] },
    GREETING,
    "en",
    GREETING["zh-TW"],
  ],
  [
    "a Japanese browser with no ja entry reads widget.language (de)",
    { browser: ["ja-JP", "ja"] },
    { en: GREETING.en, de: GREETING.de },
    "de",
    GREETING.de,
  ],
  [
    "widget.language by its base language (de-DE reads de)",
    { browser: ["ja"] },
    { en: GREETING.en, de: GREETING.de },
    "de-DE",
    GREETING.de,
  ],
  [
    "then the first entry",
    { browser: ["ja"] },
    { fr: "Bonjour !", en: GREETING.en },
    "de",
    "Bonjour !",
  ],
  [
    "boot({ language }) chooses the entry too",
    { requested: "pt-BR", browser: ["en-US"] },
    GREETING,
    "en",
    GREETING["pt-BR"],
  ],
  [
    "map keys match whatever their case or separator",
    { browser: ["pt-BR"] },
    { en: GREETING.en, pt_br: GREETING["pt-BR"] },
    "en",
    GREETING["pt-BR"],
  ],
  [
    "no text reads empty",
    { browser: ["de"] },
    undefined,
    "de",
    "",
  ],
  [
    "an empty map reads empty",
    { browser: ["de"] },
    {},
    "de",
    "",
  ],
  [
    "entries that are not text are skipped",
    { browser: ["de"] },
    { de: 42, en: GREETING.en } as unknown as AdminText,
    undefined,
    GREETING.en,
  ],
];

for (const [name, sources, text, organization, expected] of ROWS) {
  Deno.test(`resolveAdminText(): ${name}`, () => {
    const language = chooseLanguage({ ...sources, organization });
    assert.equal(resolveAdminText(text, language, organization), expected);
  });
}

Deno.test("chooseAdminText() names the entry it chose, as written", () => {
  const language = chooseLanguage({ browser: ["ja-JP"] });
  assert.deepEqual(
    chooseAdminText(
      { en: "Hi!", "pt_br": "Olá!", de: "Hallo!" },
      language,
      "de",
    ),
    { text: "Hallo!", from: "de" },
  );
  assert.deepEqual(
    chooseAdminText(
      { "pt_br": "Olá!" },
      chooseLanguage({ browser: ["pt-BR"] }),
    ),
    { text: "Olá!", from: "pt_br" },
  );
  assert.deepEqual(chooseAdminText("Hi!", language), { text: "Hi!" });
  assert.deepEqual(chooseAdminText(undefined, language), { text: "" });
});
