import assert from "node:assert/strict";
import { languageLabel } from "./inbox_labels.ts";

const ROWS: readonly (readonly [string, string])[] = [
  ["de", "German (de)"],
  ["ar", "Arabic (ar)"],
  ["pt-BR", "Brazilian Portuguese (pt-BR)"],
  ["zh-TW", "Chinese (Taiwan) (zh-TW)"],
  ["not a tag", "not a tag"],
];

for (const [tag, label] of ROWS) {
  Deno.test(`languageLabel() names ${JSON.stringify(tag)} as ${JSON.stringify(label)}`, () => {
    assert.equal(languageLabel(tag), label);
  });
}
