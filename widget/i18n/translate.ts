/**
 * Reads a text out of a catalogue and fills in its `{placeholder}`s. A
 * counted text picks its plural form with `Intl.PluralRules` for `count`;
 * numbers are written with `Intl.NumberFormat` (so Persian gets ۳, not 3). A
 * key the catalogue lacks, or a form it lacks, reads in English: a visitor
 * sees English rather than nothing.
 *
 * The parameters a key takes are read off its English text by the type
 * checker, so `translate(catalogue, "agentTyping", { agent })` is checked
 * and a missing `{agent}` is a compile error, not a visible `{agent}`.
 *
 * @module
 */

import {
  type Catalogue,
  ENGLISH_CATALOGUE,
  type MessageText,
} from "./catalogue.ts";
import type { ENGLISH, MessageKey } from "./english.ts";

/** The placeholder names in a text: `"{agent} is typing…"` → `"agent"`. */
type Placeholders<Text> = Text extends `${string}{${infer Name}}${infer Rest}`
  ? Name | Placeholders<Rest>
  : never;

/** The English text of a key (a counted one's `other` form). */
type EnglishText<Key extends MessageKey> = (typeof ENGLISH)[Key] extends
  { readonly other: infer Other } ? Other : (typeof ENGLISH)[Key];

/**
 * The values a key fills in: `count` is a number, the others text or numbers,
 * or (with `translateParts`) DOM nodes.
 */
export type MessageParams<Key extends MessageKey, Part = never> = {
  readonly [Name in Placeholders<EnglishText<Key>>]: Name extends "count"
    ? number
    : string | number | Part;
};

/** No argument for a key without placeholders, the parameters otherwise. */
type ParamsArgument<Key extends MessageKey, Part = never> =
  [Placeholders<EnglishText<Key>>] extends [never] ? []
    : [params: MessageParams<Key, Part>];

/**
 * A key's text in a catalogue's locale, its placeholders filled.
 *
 * @param catalogue the visitor's locale (English when it lacks the key)
 * @param key the text to read
 * @param params the placeholders' values (`count` picks a plural form)
 * @returns the text to show
 * @example Reading a counted text
 * ```ts
 * translate(ENGLISH_CATALOGUE, "launcherUnread", { title: "Acme", count: 2 });
 * // "Acme (2 unread)"
 * ```
 */
export function translate<Key extends MessageKey>(
  catalogue: Catalogue,
  key: Key,
  ...params: ParamsArgument<Key>
): string {
  return translateParts(catalogue, key, ...params).join("");
}

/**
 * A key's text as parts, so a placeholder can be filled with a DOM node,
 * such as the retry button inside "Not sent — {retry}".
 *
 * @returns the text's literal pieces and the given nodes, in reading order,
 *   ready for `element.append(...parts)`
 */
export function translateParts<Key extends MessageKey>(
  catalogue: Catalogue,
  key: Key,
  ...params: ParamsArgument<Key, Node>
): (string | Node)[] {
  const values: Readonly<Record<string, string | number | Node>> = params[0] ??
    {};
  const count = values.count;
  const chosen = chooseText(catalogue, key, count) ??
    chooseText(ENGLISH_CATALOGUE, key, count)!;
  const [locale, text] = chosen;
  // Odd positions of the split are placeholder names.
  return text.split(/\{(\w+)\}/).map((piece, index) => {
    if (index % 2 === 0) return piece;
    const value = values[piece];
    if (value === undefined) return `{${piece}}`;
    return typeof value === "number"
      ? new Intl.NumberFormat(locale).format(value)
      : value;
  }).filter((part) => part !== "");
}

/** The text a catalogue has for a key and count, with the locale it is in. */
function chooseText(
  catalogue: Catalogue,
  key: MessageKey,
  count: unknown,
): [locale: string, text: string] | undefined {
  const message: MessageText | undefined = catalogue.messages[key];
  if (message === undefined) return undefined;
  if (typeof message === "string") return [catalogue.locale, message];
  const category = typeof count === "number"
    ? new Intl.PluralRules(catalogue.locale).select(count)
    : "other";
  return [catalogue.locale, message[category] ?? message.other];
}
