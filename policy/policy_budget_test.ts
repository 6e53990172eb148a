import { strictEqual } from "node:assert/strict";
import {
  exceedsPolicyFileSize,
  MAX_POLICY_FILE_BYTES,
  MIN_NODE_BUDGET,
  nodeBudget,
} from "./policy_budget.ts";

const SIZES: ReadonlyArray<readonly [string, string, boolean]> = [
  ["an empty text", "", false],
  ["exactly 1 MiB of ASCII", "a".repeat(MAX_POLICY_FILE_BYTES), false],
  ["1 MiB and one byte of ASCII", "a".repeat(MAX_POLICY_FILE_BYTES + 1), true],
  [
    "half a MiB of two-byte characters (1 MiB)",
    "é".repeat(MAX_POLICY_FILE_BYTES / 2),
    false,
  ],
  [
    "one two-byte character more",
    "é".repeat(MAX_POLICY_FILE_BYTES / 2 + 1),
    true,
  ],
  ["400,000 three-byte characters (1.2 MB)", "€".repeat(400_000), true],
  ["300,000 emoji (four bytes each, 1.2 MB)", "😀".repeat(300_000), true],
];

for (const [name, text, expected] of SIZES) {
  Deno.test(`exceedsPolicyFileSize() ${expected ? "refuses" : "takes"} ${name}`, () => {
    strictEqual(exceedsPolicyFileSize(text), expected);
  });
}

Deno.test("nodeBudget() is twice the nodes written, at least the minimum", () => {
  strictEqual(nodeBudget(10), MIN_NODE_BUDGET);
  strictEqual(nodeBudget(400_000), 800_000);
});
