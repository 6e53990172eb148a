/**
 * Every text a visitor reads comes from the catalogue (`i18n/`), in their
 * language: the widget's view code writes none of its own. Held by scanning
 * the view files' string literals (comments and developer-facing lines set
 * aside) for prose, and for literals put where a visitor reads them: a
 * node's text, a child of an element, an attribute a screen reader or the
 * browser shows.
 */

import assert from "node:assert/strict";

/** The widget's files that put text on the page or in the title. */
const VIEW_SOURCES = [
  "chat_panel.ts",
  "chat_widget.ts",
  "title_flash.ts",
  "typing_signal.ts",
  "main.ts",
];

/** What a literal shown to visitors looks like, each rule named. */
const RULES: readonly (readonly [string, RegExp])[] = [
  // "Write a message…", `We'll answer at ${email}`
  ["prose", /(["'`])[A-Z][a-z']+ [a-z][^"'`\n]*\1/],
  // textContent = "Send"
  [
    "text of a node",
    /\b(?:textContent|innerText|title)\s*=\s*["'`][^"'`]*\p{L}/u,
  ],
  // element("button", {}, ["Send"]) or ["sending…", …]
  // (an array, not an index: `Options["onError"]`)
  [
    "child of an element",
    /(?<![\w\]])\[\s*["'`][^"'`]*\p{L}[^"'`]*["'`]\s*[,\]]/u,
  ],
  // placeholder: "you@example.com", "aria-label": "Close chat"
  [
    "attribute read by people",
    /["']?(?:placeholder|aria-label|title|alt|aria-description)["']?\s*:\s*["'`][^"'`]*\p{L}/u,
  ],
];

/** The lines of a source a visitor could read, comments and developer lines aside. */
function viewLines(source: string): string[] {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .split("\n")
    .map((line) =>
      line.replace(/^\s*\/\/.*$/, "").replace(/\s\/\/ .*$/, "")
        // An escaped symbol (× is "\u00d7") is no word.
        .replace(/\\u[0-9a-fA-F]{4}/g, "·")
    )
    // For developers: thrown errors, console lines and WidgetError messages.
    .filter((line) => !/\bError\(|console\.\w+\(|^\s*message:/.test(line));
}

/** Each line that breaks a rule, with the rule's name. */
function visibleLiterals(source: string): string[] {
  return viewLines(source).flatMap((line) =>
    RULES.filter(([, rule]) => rule.test(line)).map(([name]) =>
      `${name}: ${line.trim()}`
    )
  );
}

for (const file of VIEW_SOURCES) {
  Deno.test(`${file} shows visitors no text of its own: every text comes from the catalogue`, async () => {
    const source = await Deno.readTextFile(new URL(file, import.meta.url));
    assert.deepEqual(visibleLiterals(source), []);
  });
}

/** Lines as the widget had them before the catalogue: each must be caught. */
const CAUGHT: readonly string[] = [
  `      placeholder: "Write a message…",`,
  `      "aria-label": "Close chat",`,
  `      element("button", { type: "submit", class: "send" }, ["Send"]),`,
  `      item.append(element("span", { class: "status" }, ["sending…"]));`,
  `            \`We'll answer at \${contact}. You can keep writing here.\`,`,
  `    this.#title.textContent = "Chat";`,
  `    const label = unread === 0 ? title : \`\${title} (\${unread} unread)\`;`,
];

for (const line of CAUGHT) {
  Deno.test(`the scan catches a literal shown to visitors: ${line.trim()}`, () => {
    assert.notDeepEqual(visibleLiterals(line), [], line);
  });
}
