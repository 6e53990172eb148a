/**
 * Which of Parley's locales a visitor gets, and which way it is written.
 *
 * The widget's language is the first of these that Parley has:
 * `boot({ language })` (the site knows its page's language), then each of
 * `navigator.languages` in the visitor's order, then the organization's
 * `widget.language`, then English. A tag matches a locale exactly (`pt-BR`)
 * or by its language (`de-AT` → `de`, `pt-PT` → `pt`); case and `_` do not
 * matter. Chinese goes by script: Traditional (`zh-Hant`, `zh-TW`, `zh-HK`,
 * `zh-MO`) → `zh-TW`, Simplified (`zh`, `zh-Hans`, `zh-CN`, `zh-SG`) →
 * `zh-CN`, reading the script a region implies from `Intl.Locale`'s likely
 * subtags. Norwegian (`no`, `nn`) reads Bokmål (`nb`).
 *
 * Pure and browser-safe: the widget, the server and `policy` tooling can all
 * ask it the same question.
 *
 * @module
 */

/** Every locale Parley ships: English built in, the others as JSON files. */
export const SUPPORTED_LOCALES = [
  "en",
  "ar",
  "cs",
  "da",
  "de",
  "el",
  "es",
  "fa",
  "fi",
  "fr",
  "he",
  "hi",
  "hu",
  "id",
  "it",
  "ja",
  "ko",
  "nb",
  "nl",
  "pl",
  "pt",
  "pt-BR",
  "ro",
  "ru",
  "sv",
  "th",
  "tr",
  "uk",
  "ur",
  "vi",
  "zh-CN",
  "zh-TW",
] as const;

/** A locale Parley ships. */
export type SupportedLocale = typeof SUPPORTED_LOCALES[number];

/** Languages written right to left. */
const RIGHT_TO_LEFT = ["ar", "he", "fa", "ur"];

/** Languages whose speakers read another's locale. */
const READS_AS: Readonly<Record<string, SupportedLocale>> = {
  no: "nb",
  nn: "nb",
};

/** The widget's language, and where it came from. */
export interface LanguageChoice {
  /** The catalogue to read, and the root element's `lang`. */
  readonly locale: SupportedLocale;
  /**
   * The tag that chose it, canonical and without extensions (`de-AT`), which
   * admin texts are matched against before the locale; `en` for the default.
   */
  readonly tag: string;
  /** The root element's `dir`. */
  readonly dir: "ltr" | "rtl";
}

/** Where the widget's language can come from, most specific first. */
export interface LanguageSources {
  /** `boot({ language })`. */
  readonly requested?: unknown;
  /** `navigator.languages`. */
  readonly browser?: readonly unknown[];
  /** The organization's `widget.language`. */
  readonly organization?: unknown;
}

/**
 * The locale Parley has for a language tag.
 *
 * @param tag a BCP 47 tag, any case, `_` or `-`
 * @returns the matching locale, or `undefined` for a language Parley lacks
 *   and for anything that is not a tag
 */
export function matchLocale(tag: unknown): SupportedLocale | undefined {
  const locale = parseTag(tag);
  if (!locale) return undefined;
  const language = locale.language;
  if (language === "zh") {
    return locale.maximize().script === "Hant" ? "zh-TW" : "zh-CN";
  }
  const regional = locale.region && supported(`${language}-${locale.region}`);
  return regional || supported(language) || READS_AS[language];
}

/**
 * The widget's language: the first source Parley has a locale for.
 *
 * @returns the locale, the tag it came from and its direction (`en` when
 *   none matches)
 * @example A German browser in Austria
 * ```ts
 * chooseLanguage({ browser: ["de-AT", "en"] });
 * // { locale: "de", tag: "de-AT", dir: "ltr" }
 * ```
 */
export function chooseLanguage(sources: LanguageSources): LanguageChoice {
  const candidates = [
    sources.requested,
    ...(Array.isArray(sources.browser) ? sources.browser : []),
    sources.organization,
  ];
  for (const candidate of candidates) {
    const locale = matchLocale(candidate);
    if (locale) {
      return {
        locale,
        tag: parseTag(candidate)!.baseName,
        dir: textDirection(locale),
      };
    }
  }
  return { locale: "en", tag: "en", dir: "ltr" };
}

/**
 * The direction a locale is written in.
 *
 * @returns `rtl` for Arabic, Hebrew, Persian and Urdu, else `ltr`
 */
export function textDirection(locale: string): "ltr" | "rtl" {
  const language = parseTag(locale)?.language;
  return language && RIGHT_TO_LEFT.includes(language) ? "rtl" : "ltr";
}

/**
 * A tag's base language (`de-AT` → `de`).
 *
 * @returns the language subtag, or `undefined` for anything that is not a tag
 */
export function baseLanguage(tag: unknown): string | undefined {
  return parseTag(tag)?.language;
}

/**
 * A tag in canonical form without extensions (`pt_br` → `pt-BR`).
 *
 * @returns the tag, or `undefined` for anything that is not a tag
 */
export function canonicalTag(tag: unknown): string | undefined {
  return parseTag(tag)?.baseName;
}

function parseTag(tag: unknown): Intl.Locale | undefined {
  // The bound keeps a hostile page from handing the parser megabytes.
  if (typeof tag !== "string" || tag.length === 0 || tag.length > 64) {
    return undefined;
  }
  try {
    return new Intl.Locale(tag.replace(/_/g, "-"));
  } catch {
    return undefined;
  }
}

function supported(tag: string): SupportedLocale | undefined {
  return SUPPORTED_LOCALES.find((locale) => locale === tag);
}
