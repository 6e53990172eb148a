import assert from "node:assert/strict";
import { isLocaleTag } from "./locale_tag.ts";

const ROWS: readonly (readonly [string, boolean])[] = [
  ["de", true],
  ["de-AT", true],
  ["pt-BR", true],
  ["pt_br", true],
  ["zh-Hant-TW", true],
  ["ur", true],
  ["german", false],
  ["deutsch-AT", false],
  ["de-", false],
  ["", false],
  ["en US", false],
  ["x".repeat(65), false],
];

for (const [tag, valid] of ROWS) {
  Deno.test(`isLocaleTag() ${valid ? "accepts" : "rejects"} ${JSON.stringify(tag.slice(0, 12))}`, () => {
    assert.equal(isLocaleTag(tag), valid);
  });
}
