/**
 * What is wrong with a locale file, judged against the English catalogue, so
 * a broken translation fails the build (and the server's start) instead of
 * reaching a visitor. Not part of widget.js: the widget reads locale files
 * leniently (`readCatalogue`), this is the strict reading.
 *
 * A file must have exactly the English keys, each of the same kind (a
 * string, or plural forms); a counted text has exactly the plural categories
 * its locale's `Intl.PluralRules` selects; every form names the same
 * placeholders as English, except that a form may spell out its number
 * instead of `{count}` when its category holds one number only (Arabic
 * "one" is 1, "two" is 2). Typography: `…` not `...`, no bidirectional
 * control marks, French spacing before `? ! : ;` non-breaking, Persian and
 * Urdu letters rather than their Arabic look-alikes, full-width punctuation
 * in Chinese and Japanese.
 *
 * @module
 */

import { ENGLISH, type MessageKey } from "./english.ts";
import { baseLanguage } from "../../wire/locale_match.ts";

/** One problem of a locale file. */
export interface CatalogueProblem {
  /**
   * `not-an-object`, `missing-key`, `unknown-key`, `wrong-kind`,
   * `plural-categories`, `placeholders` or `typography`.
   */
  readonly code: string;
  /** The key it is about, when it is about one. */
  readonly key?: string;
  /** What is wrong, for a person. */
  readonly message: string;
}

/** Characters that change text direction; RTL text needs none of them here. */
const BIDI_CONTROLS = /[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]/;

/** Per language: what its texts must not contain, and why. */
const TYPOGRAPHY: Readonly<
  Record<string, readonly (readonly [RegExp, string])[]>
> = {
  fr: [[
    /(?:^|[^\u00a0\u202f])[?!:;]/,
    "French puts a non-breaking space before ? ! : ;",
  ]],
  fa: [[/[\u064a\u0643]/, "Persian writes ی and ک, not Arabic ي and ك"]],
  ur: [[
    /[\u064a\u0643\u0647]/,
    "Urdu writes ی, ک and ہ, not Arabic ي, ك and ه",
  ]],
  ja: [[/[(),!?;:]/, "Japanese uses full-width punctuation"]],
  zh: [[/[(),!?;:]/, "Chinese uses full-width punctuation"]],
};

/**
 * Every problem of one locale file.
 *
 * @param locale the file's locale (`pt-BR`)
 * @param json the parsed file
 * @returns the problems, none for a good file
 */
export function catalogueProblems(
  locale: string,
  json: unknown,
): CatalogueProblem[] {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return [{ code: "not-an-object", message: "A locale file is an object" }];
  }
  const file = json as Record<string, unknown>;
  const problems: CatalogueProblem[] = [];
  for (const key of Object.keys(file)) {
    if (!Object.hasOwn(ENGLISH, key)) {
      problems.push({
        code: "unknown-key",
        key,
        message: `"${key}" is not a key of the English catalogue`,
      });
    }
  }
  const rules = new Intl.PluralRules(locale);
  const categories = rules.resolvedOptions().pluralCategories;
  for (const key of Object.keys(ENGLISH) as MessageKey[]) {
    if (!Object.hasOwn(file, key)) {
      problems.push({
        code: "missing-key",
        key,
        message: `"${key}" is missing`,
      });
      continue;
    }
    const english = ENGLISH[key];
    const value = file[key];
    const at = (code: string, message: string): void => {
      problems.push({ code, key, message: `"${key}": ${message}` });
    };
    if (typeof english === "string") {
      if (typeof value !== "string") {
        at("wrong-kind", "English has one text here, not plural forms");
        continue;
      }
      checkText(value, placeholders(english), new Set(), at, locale);
      continue;
    }
    if (
      typeof value !== "object" || value === null || Array.isArray(value) ||
      !Object.values(value).every((form) => typeof form === "string")
    ) {
      at("wrong-kind", "English has plural forms here (an object of texts)");
      continue;
    }
    const forms = value as Record<string, string>;
    const given = Object.keys(forms).sort().join(",");
    const needed = [...categories].sort().join(",");
    if (given !== needed) {
      at(
        "plural-categories",
        `${locale} needs the forms ${needed}, the file has ${given || "none"}`,
      );
    }
    const expected = placeholders(english.other);
    for (const [category, form] of Object.entries(forms)) {
      const optional = holdsOneNumber(rules, category)
        ? new Set(["count"])
        : new Set<string>();
      checkText(form, expected, optional, at, locale);
    }
  }
  return problems;
}

/** Checks one text's placeholders and typography. */
function checkText(
  text: string,
  expected: ReadonlySet<string>,
  optional: ReadonlySet<string>,
  at: (code: string, message: string) => void,
  locale: string,
): void {
  const found = placeholders(text);
  const missing = [...expected].filter((name) =>
    !found.has(name) && !optional.has(name)
  );
  const unknown = [...found].filter((name) => !expected.has(name));
  if (missing.length > 0 || unknown.length > 0) {
    at(
      "placeholders",
      `"${text}" must name {${[...expected].join("}, {")}}` +
        (missing.length ? `, lacks {${missing.join("}, {")}}` : "") +
        (unknown.length ? `, has unknown {${unknown.join("}, {")}}` : ""),
    );
  }
  const literal = text.replace(/\{\w+\}/g, "");
  if (/[{}]/.test(literal)) at("placeholders", `"${text}" has a stray brace`);
  if (text.trim() !== text || text === "" || /\s{2}/.test(text)) {
    at("typography", `"${text}" has stray or doubled spaces, or is empty`);
  }
  if (text.includes("...")) at("typography", `"${text}" writes ... for …`);
  if (BIDI_CONTROLS.test(text)) {
    at("typography", `"${text}" has a bidirectional control mark`);
  }
  for (const [pattern, rule] of TYPOGRAPHY[baseLanguage(locale) ?? ""] ?? []) {
    if (pattern.test(literal)) at("typography", `"${text}": ${rule}`);
  }
}

function placeholders(text: string): Set<string> {
  return new Set([...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!));
}

/** Whether a plural category holds exactly one whole number (0–1000). */
function holdsOneNumber(rules: Intl.PluralRules, category: string): boolean {
  let numbers = 0;
  for (let n = 0; n <= 1000 && numbers < 2; n++) {
    if (rules.select(n) === category) numbers++;
  }
  return numbers === 1;
}
