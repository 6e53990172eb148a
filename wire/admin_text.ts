/**
 * The organization's own texts (`widget.title`, `widget.greeting`,
 * `widget.awayMessage`) in the widget's language. An admin writes one string
 * for every visitor, or a map of locale tag to text; from a map the visitor
 * gets, in order, the text for:
 * 1. the tag that chose the widget's language (`de-AT`);
 * 2. the widget's locale (`zh-TW` for a `zh-HK` browser);
 * 3. that tag's base language (`de`);
 * 4. the organization's `widget.language`, then its base language;
 * 5. the map's first entry.
 *
 * So a Japanese browser meeting `{ en, de }` with `widget.language: de`
 * reads Japanese controls and the German greeting. Map keys match whatever
 * their case or separator (`pt_br` is `pt-BR`).
 *
 * @module
 */

import {
  baseLanguage,
  canonicalTag,
  type LanguageChoice,
} from "./locale_match.ts";

/** A text as the policy gives it: one string, or a text per locale tag. */
export type AdminText = string | { readonly [tag: string]: string };

/** An admin text chosen for a language, and the map entry it came from. */
export interface ChosenAdminText {
  /** The text to show, `""` when there is none. */
  readonly text: string;
  /** The locale tag of the map entry, as written; absent for one string or none. */
  readonly from?: string;
}

/**
 * An admin text for the widget's language.
 *
 * @param text the policy's value (`undefined` when it sets none)
 * @param language the widget's language (`chooseLanguage`)
 * @param organizationLanguage the organization's `widget.language`
 * @returns the text to show, `""` when there is none
 * @example A map without the visitor's language
 * ```ts
 * resolveAdminText(
 *   { en: "Hi!", de: "Hallo!" },
 *   { locale: "ja", tag: "ja-JP", dir: "ltr" },
 *   "de",
 * ); // "Hallo!"
 * ```
 */
export function resolveAdminText(
  text: AdminText | undefined,
  language: Pick<LanguageChoice, "locale" | "tag">,
  organizationLanguage?: string,
): string {
  return chooseAdminText(text, language, organizationLanguage).text;
}

/**
 * Like `resolveAdminText`, and says which entry of a map it chose, for
 * `policy explain --language`.
 *
 * @returns the text and the tag of its entry
 */
export function chooseAdminText(
  text: AdminText | undefined,
  language: Pick<LanguageChoice, "locale" | "tag">,
  organizationLanguage?: string,
): ChosenAdminText {
  if (typeof text !== "object" || text === null) {
    return { text: typeof text === "string" ? text : "" };
  }
  const entries = Object.entries(text).filter(([, value]) =>
    typeof value === "string"
  );
  const wanted = [
    language.tag,
    language.locale,
    baseLanguage(language.tag),
    organizationLanguage,
    baseLanguage(organizationLanguage),
  ];
  for (const tag of wanted) {
    const key = canonicalTag(tag);
    const found = key && entries.find(([entry]) => canonicalTag(entry) === key);
    if (found) return { text: found[1], from: found[0] };
  }
  const [first] = entries;
  return first ? { text: first[1], from: first[0] } : { text: "" };
}
