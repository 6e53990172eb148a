/**
 * A catalogue: one locale's texts by key, as the widget holds it. English is
 * built in; another locale arrives as JSON (`widget/locales/<locale>.json`)
 * and is read with `readCatalogue`, which keeps what it can use and drops
 * the rest, so a newer or older server never breaks the widget: a key it
 * drops reads in English.
 *
 * @module
 */

import { ENGLISH, type MessageKey } from "./english.ts";

/** A counted text: one form per CLDR plural category the locale uses. */
export type PluralForms =
  & { readonly [category in Intl.LDMLPluralRule]?: string }
  & { readonly other: string };

/** A text, or the plural forms of a counted one. */
export type MessageText = string | PluralForms;

/** One locale's texts. */
export interface Catalogue {
  /** The locale whose plural rules and number formats apply, e.g. `pt-BR`. */
  readonly locale: string;
  /** The texts; a key left out reads in English. */
  readonly messages: { readonly [key in MessageKey]?: MessageText };
}

/** The built-in English catalogue. */
export const ENGLISH_CATALOGUE: Catalogue = {
  locale: "en",
  messages: ENGLISH,
};

/**
 * Reads a locale file's JSON into a catalogue: keys the widget knows, with a
 * string or an object of strings that has `other`, where English has the same
 * kind; everything else is left out (and reads in English).
 *
 * @param locale the locale the file is for
 * @param json the parsed file
 * @returns the catalogue
 */
export function readCatalogue(locale: string, json: unknown): Catalogue {
  const messages: { [key in MessageKey]?: MessageText } = {};
  if (typeof json === "object" && json !== null && !Array.isArray(json)) {
    for (const key of Object.keys(ENGLISH) as MessageKey[]) {
      const value = (json as Record<string, unknown>)[key];
      const counted = typeof ENGLISH[key] === "object";
      if (counted ? isPluralForms(value) : typeof value === "string") {
        messages[key] = value as MessageText;
      }
    }
  }
  return { locale, messages };
}

function isPluralForms(value: unknown): value is PluralForms {
  return typeof value === "object" && value !== null &&
    typeof (value as { other?: unknown }).other === "string" &&
    Object.values(value).every((form) => typeof form === "string");
}
