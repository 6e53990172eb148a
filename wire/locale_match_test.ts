import assert from "node:assert/strict";
import {
  chooseLanguage,
  type LanguageSources,
  matchLocale,
  SUPPORTED_LOCALES,
  textDirection,
} from "./locale_match.ts";

const MATCHES: readonly (readonly [string, unknown, string | undefined])[] = [
  ["an exact locale", "de", "de"],
  ["a regional tag reads its language", "de-AT", "de"],
  ["a region Parley has wins over the language", "pt-BR", "pt-BR"],
  ["another region of Portuguese reads European Portuguese", "pt-PT", "pt"],
  ["bare Portuguese reads European Portuguese", "pt", "pt"],
  ["case does not matter", "PT-br", "pt-BR"],
  ["an underscore is a hyphen", "pt_BR", "pt-BR"],
  ["Unicode extensions are ignored", "th-TH-u-nu-thai", "th"],
  ["a script subtag outside Chinese is ignored", "de-Latn-AT", "de"],
  ["Traditional Chinese by script", "zh-Hant", "zh-TW"],
  ["Taiwan", "zh-TW", "zh-TW"],
  ["Hong Kong reads Traditional", "zh-HK", "zh-TW"],
  ["Macau reads Traditional", "zh-MO", "zh-TW"],
  ["Traditional with a region", "zh-Hant-HK", "zh-TW"],
  ["Simplified Chinese by script", "zh-Hans", "zh-CN"],
  ["bare Chinese reads Simplified", "zh", "zh-CN"],
  ["Singapore reads Simplified", "zh-SG", "zh-CN"],
  ["an explicit script beats the region's", "zh-Hans-TW", "zh-CN"],
  ["underscored Chinese", "zh_tw", "zh-TW"],
  ["the old Hebrew code", "iw", "he"],
  ["the old Indonesian code", "in", "id"],
  ["Norwegian reads Bokmål", "no", "nb"],
  ["Nynorsk reads Bokmål", "nn-NO", "nb"],
  ["English of any region", "en-GB", "en"],
  ["a language Parley lacks", "sw", undefined],
  ["the wildcard of Accept-Language", "*", undefined],
  ["an empty string", "", undefined],
  ["not a tag", "not a language", undefined],
  ["a private-use tag", "x-klingon", undefined],
  ["a number", 42, undefined],
  ["null", null, undefined],
  ["an overlong string", `de-${"a".repeat(100)}`, undefined],
];

for (const [name, tag, expected] of MATCHES) {
  Deno.test(`matchLocale(): ${name} (${JSON.stringify(tag)} → ${expected})`, () => {
    assert.equal(matchLocale(tag), expected);
  });
}

const CHOICES: readonly (readonly [
  string,
  LanguageSources,
  { locale: string; tag: string; dir: "ltr" | "rtl" },
])[] = [
  [
    "boot({ language }) wins over the browser",
    { requested: "fr", browser: ["de-DE", "en"], organization: "es" },
    { locale: "fr", tag: "fr", dir: "ltr" },
  ],
  [
    "a requested language Parley lacks falls to the browser",
    { requested: "sw", browser: ["de-DE"], organization: "es" },
    { locale: "de", tag: "de-DE", dir: "ltr" },
  ],
  [
    "the first browser language Parley has",
    { browser: ["sw-KE", "gd", "pl-PL", "de"] },
    { locale: "pl", tag: "pl-PL", dir: "ltr" },
  ],
  [
    "Brazilian Portuguese before Portuguese",
    { browser: ["pt-BR", "pt"] },
    { locale: "pt-BR", tag: "pt-BR", dir: "ltr" },
  ],
  [
    "the organization's language when the browser's are all missing",
    { browser: ["sw", "gd"], organization: "de" },
    { locale: "de", tag: "de", dir: "ltr" },
  ],
  [
    "English when nothing matches",
    { requested: "xx-invalid-", browser: ["sw"], organization: "gd" },
    { locale: "en", tag: "en", dir: "ltr" },
  ],
  ["English with no sources", {}, { locale: "en", tag: "en", dir: "ltr" }],
  [
    "Arabic is right to left",
    { browser: ["ar-EG"] },
    { locale: "ar", tag: "ar-EG", dir: "rtl" },
  ],
  [
    "the old Hebrew code is right to left",
    { browser: ["iw-IL"] },
    { locale: "he", tag: "he-IL", dir: "rtl" },
  ],
  [
    "the tag is canonical, without extensions",
    { browser: ["de_at-u-co-phonebk"] },
    { locale: "de", tag: "de-AT", dir: "ltr" },
  ],
  [
    "a browser list that is not an array is ignored",
    { browser: "de" as unknown as string[], organization: "fr" },
    { locale: "fr", tag: "fr", dir: "ltr" },
  ],
];

for (const [name, sources, expected] of CHOICES) {
  Deno.test(`chooseLanguage(): ${name}`, () => {
    assert.deepEqual(chooseLanguage(sources), expected);
  });
}

Deno.test("textDirection() is rtl for Arabic, Hebrew, Persian and Urdu only", () => {
  const rtl = SUPPORTED_LOCALES.filter((locale) =>
    textDirection(locale) === "rtl"
  );
  assert.deepEqual(rtl.sort(), ["ar", "fa", "he", "ur"]);
  assert.equal(textDirection("ar-SA"), "rtl");
  assert.equal(textDirection("not a tag"), "ltr");
});

Deno.test("SUPPORTED_LOCALES holds English and at least the 25 locales the issue names, each matching itself", () => {
  const named =
    "ar he fa ur de es fr it ja ko nl pl pt pt-BR ru sv tr uk zh-CN zh-TW hi id vi th cs da"
      .split(" ");
  for (const locale of ["en", ...named]) {
    assert.ok(
      (SUPPORTED_LOCALES as readonly string[]).includes(locale),
      `${locale} is supported`,
    );
  }
  for (const locale of SUPPORTED_LOCALES) {
    assert.equal(matchLocale(locale), locale);
  }
});
