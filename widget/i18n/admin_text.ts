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
  if (typeof text === "string") return text;
  if (typeof text !== "object" || text === null) return "";
  const byTag = new Map<string, string>();
  for (const [tag, value] of Object.entries(text)) {
    const key = canonicalTag(tag) ?? tag;
    if (typeof value === "string" && !byTag.has(key)) byTag.set(key, value);
  }
  const wanted = [
    language.tag,
    language.locale,
    baseLanguage(language.tag),
    organizationLanguage,
    baseLanguage(organizationLanguage),
  ];
  for (const tag of wanted) {
    const key = canonicalTag(tag);
    const found = key === undefined ? undefined : byTag.get(key);
    if (found !== undefined) return found;
  }
  return byTag.values().next().value ?? "";
}
