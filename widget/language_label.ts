/**
 * How the agent inbox names the language a visitor reads the widget in:
 * the language's English name and its tag, `German (de)`, `Brazilian Portuguese
 * (pt-BR)`, so an agent knows which language to answer in. The
 * inbox is English this round; the names come from `Intl.DisplayNames`.
 *
 * @module
 */

/**
 * @param tag A locale tag as the conversation stores it (`de`, `pt-BR`).
 * @returns The label; the tag alone when the browser has no name for it.
 */
export function languageLabel(tag: string): string {
  try {
    const name = new Intl.DisplayNames(["en"], { type: "language" }).of(tag);
    return name && name !== tag ? `${name} (${tag})` : tag;
  } catch {
    return tag;
  }
}
