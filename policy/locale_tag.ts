/**
 * Whether a policy's locale tag (`widget.language`, a key of a text per
 * locale) is a language tag: what `Intl.Locale` accepts, in either case and
 * with `-` or `_`, as the widget reads it. A well-formed tag of a language
 * Parley has no catalogue for is allowed: its visitors read the controls in
 * another language and the organization's own text in theirs.
 *
 * @module
 */

/**
 * @param text The tag as written, e.g. `de`, `pt-BR`, `zh_TW`.
 * @returns `true` when it is a BCP 47 language tag of at most 64 characters
 *   whose language has two or three letters.
 */
export function isLocaleTag(text: string): boolean {
  // The bound matches the widget's: no tag a visitor sends is longer.
  if (text.length === 0 || text.length > 64) return false;
  try {
    // BCP 47 keeps 5–8 letter languages for registration, and none is: a
    // word like "german" parses, but names no language.
    return /^[a-z]{2,3}$/.test(
      new Intl.Locale(text.replace(/_/g, "-")).language,
    );
  } catch {
    return false;
  }
}
