import { strictEqual } from "node:assert/strict";
import { createAdminKeyIndex } from "./admin_key_index.ts";

const KEYS = Array.from(
  { length: 1_000 },
  (_, i) => `admin-key-${i}-0123456789abcdef0123456789abcdef`,
);

Deno.test("createAdminKeyIndex() finds every one of 1,000 keys at its position", () => {
  const index = createAdminKeyIndex(KEYS);
  KEYS.forEach((key, position) => strictEqual(index.indexOf(key), position));
});

const WRONG: ReadonlyArray<readonly [string, string]> = [
  ["an empty key", ""],
  ["a key one character short", KEYS[7]!.slice(0, -1)],
  ["a key one character longer", `${KEYS[7]}x`],
  ["a key differing in its last byte", `${KEYS[7]!.slice(0, -1)}g`],
  ["another organization's key", "other-org-key-0123456789abcdef0123456789"],
];

for (const [name, key] of WRONG) {
  Deno.test(`createAdminKeyIndex() finds no key for ${name}`, () => {
    strictEqual(createAdminKeyIndex(KEYS).indexOf(key), -1);
  });
}

Deno.test("createAdminKeyIndex() finds a secret written twice at its first place", () => {
  const index = createAdminKeyIndex([
    "same-0123456789abcdef0123456789abcdef",
    "other",
    "same-0123456789abcdef0123456789abcdef",
  ]);
  strictEqual(index.indexOf("same-0123456789abcdef0123456789abcdef"), 0);
});

Deno.test("createAdminKeyIndex() of no keys finds none", () => {
  strictEqual(createAdminKeyIndex([]).indexOf("anything"), -1);
});

Deno.test("createAdminKeyIndex() compares UTF-8 bytes", () => {
  const index = createAdminKeyIndex(["clé-0123456789abcdef0123456789abcdef"]);
  strictEqual(index.indexOf("clé-0123456789abcdef0123456789abcdef"), 0);
  strictEqual(index.indexOf("cle-0123456789abcdef0123456789abcdef"), -1);
});
