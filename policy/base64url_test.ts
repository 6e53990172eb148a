import assert from "node:assert/strict";
import { decodeBase64url, encodeBase64url } from "./base64url.ts";

// One row per spelling: the text and the bytes it decodes to, or undefined.
const ROWS: readonly [
  name: string,
  text: string,
  bytes: number[] | undefined,
][] = [
  ["empty", "", []],
  ["one byte", "YQ", [97]],
  ["two bytes", "YWI", [97, 98]],
  ["three bytes", "YWJj", [97, 98, 99]],
  ["the url-safe characters", "-_8", [251, 255]],
  ["padding", "YQ==", undefined],
  ["unused bits set after one byte", "YR", undefined],
  ["unused bits set after two bytes", "YWJ", undefined],
  ["a lone character", "Y", undefined],
  ["standard base64's +", "a+b", undefined],
  ["standard base64's /", "a/b", undefined],
  ["whitespace", "YW Jj", undefined],
];

for (const [name, text, bytes] of ROWS) {
  Deno.test(`decodeBase64url() ${name}: ${JSON.stringify(text)}`, () => {
    const decoded = decodeBase64url(text);
    assert.deepEqual(decoded === undefined ? undefined : [...decoded], bytes);
  });
}

Deno.test("encodeBase64url() writes the one text decodeBase64url() accepts", () => {
  for (let length = 0; length < 40; length++) {
    const bytes = crypto.getRandomValues(new Uint8Array(length));
    const text = encodeBase64url(bytes);
    assert.doesNotMatch(text, /[=+/]/);
    assert.deepEqual(decodeBase64url(text), bytes);
  }
});
