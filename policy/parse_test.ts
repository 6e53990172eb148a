import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { parsePolicyText, type PolicyNode } from "./parse.ts";

function entry(node: PolicyNode | undefined, key: string): PolicyNode {
  ok(node?.kind === "map");
  const found = node.entries.find((candidate) => candidate.key === key);
  ok(found, `no key ${key}`);
  return found.value;
}

Deno.test("parsePolicyText() gives every node its line and column", () => {
  const { root, problems } = parsePolicyText(
    'version: 1\norganizations:\n  acme:\n    allow: [a.com, "*.b.com"]\n',
  );
  deepStrictEqual(problems, []);
  const allow = entry(entry(entry(root, "organizations"), "acme"), "allow");
  ok(allow.kind === "list");
  deepStrictEqual(
    allow.items.map((item) => [item.line, item.column]),
    [[4, 13], [4, 20]],
  );
  const version = entry(root, "version");
  deepStrictEqual(version, { kind: "scalar", value: 1, line: 1, column: 10 });
});

Deno.test("parsePolicyText() reads JSON with positions", () => {
  const { root } = parsePolicyText('{\n  "version": 1,\n  "server": {}\n}');
  const server = entry(root, "server");
  deepStrictEqual([server.kind, server.line, server.column], ["map", 3, 13]);
});

Deno.test("parsePolicyText() places an empty value at its key", () => {
  const { root } = parsePolicyText("a: 1\nname:\n");
  deepStrictEqual(entry(root, "name"), {
    kind: "scalar",
    value: null,
    line: 2,
    column: 1,
  });
});

Deno.test("parsePolicyText() keeps duplicate keys for the validator to report", () => {
  const { root, problems } = parsePolicyText("a: 1\na: 2\n");
  deepStrictEqual(problems, []);
  ok(root?.kind === "map");
  deepStrictEqual(root.entries.map((found) => found.at.line), [1, 2]);
});

const SYNTAX_ERRORS: ReadonlyArray<readonly [string, string, number]> = [
  ["unclosed flow list", "a: [1, 2\nb: 3\n", 2],
  ["tab indentation", "a:\n\tb: 1\n", 2],
  ["two documents", "a: 1\n---\nb: 2\n", 2],
  ["unclosed quote", 'a: "x\n', 2],
  ["bad JSON", '{"a": 1,,}', 1],
];

for (const [name, text, line] of SYNTAX_ERRORS) {
  Deno.test(`parsePolicyText() reports syntax for ${name}`, () => {
    const { problems } = parsePolicyText(text);
    const first = problems[0];
    strictEqual(first?.code, "syntax");
    strictEqual(first?.severity, "error");
    strictEqual(first?.line, line);
  });
}

Deno.test("parsePolicyText() refuses non-string keys", () => {
  const { problems } = parsePolicyText("? [a, b]\n: 1\n");
  deepStrictEqual(problems.map((problem) => problem.code), ["wrong-type"]);
});

Deno.test("parsePolicyText() returns no root for an empty text", () => {
  const { root, problems } = parsePolicyText("# only a comment\n");
  strictEqual(root, undefined);
  deepStrictEqual(problems, []);
});

Deno.test("parsePolicyText() bounds alias expansion (billion laughs)", () => {
  const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
  for (let level = 1; level < 9; level++) {
    const previous = String.fromCharCode(96 + level);
    const name = String.fromCharCode(97 + level);
    lines.push(
      `${name}: &${name} [${Array(10).fill(`*${previous}`).join(", ")}]`,
    );
  }
  const { problems } = parsePolicyText(lines.join("\n"));
  ok(problems.some((problem) => problem.code === "too-large"));
});

Deno.test("parsePolicyText() converts an anchor once and shares it with every alias", () => {
  const { root, problems } = parsePolicyText(
    "shared: &allow [a.com, b.com]\none: *allow\ntwo: *allow\n",
  );
  deepStrictEqual(problems, []);
  const shared = entry(root, "shared");
  strictEqual(entry(root, "one"), shared);
  strictEqual(entry(root, "two"), shared);
});

Deno.test("parsePolicyText() reads 16,000 aliases of one small anchor", () => {
  const text = `version: 1\nname: &n Beta\nappIds: [${
    Array(16_000).fill("*n").join(", ")
  }]\n`;
  const { root, problems } = parsePolicyText(text);
  deepStrictEqual(problems, []);
  const appIds = entry(root, "appIds");
  ok(appIds.kind === "list");
  strictEqual(appIds.items.length, 16_000);
  deepStrictEqual(appIds.items[15_999], entry(root, "name"));
});

Deno.test("parsePolicyText() charges each alias its anchor's size", () => {
  // 10 nodes × 12,000 aliases expand past the 100,000-node budget of a
  // file that writes about 12,000 nodes, though each alias is one node.
  const text = `a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]\nb: [${
    Array(12_000).fill("*a").join(", ")
  }]\n`;
  const { problems } = parsePolicyText(text);
  deepStrictEqual(problems.map((problem) => problem.code), ["too-large"]);
});

Deno.test("parsePolicyText() budgets by the nodes written, so a comment cannot raise it (billion laughs padded to 1 MB)", () => {
  const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
  for (let level = 1; level < 9; level++) {
    const previous = String.fromCharCode(96 + level);
    const name = String.fromCharCode(97 + level);
    lines.push(
      `${name}: &${name} [${Array(10).fill(`*${previous}`).join(", ")}]`,
    );
  }
  lines.push(`# ${"padding ".repeat(125_000)}`);
  const text = lines.join("\n");
  ok(text.length > 1_000_000);
  const { problems } = parsePolicyText(text);
  deepStrictEqual(problems.map((problem) => problem.code), ["too-large"]);
  ok(problems[0]?.message.includes("100000"), problems[0]?.message);
});

Deno.test("parsePolicyText() leaves an alias inside its own anchor unexpanded", () => {
  const { root } = parsePolicyText("a: &a [1, *a]\n");
  const list = entry(root, "a");
  ok(list.kind === "list");
  deepStrictEqual(list.items[1], {
    kind: "scalar",
    value: null,
    line: 1,
    column: 11,
  });
});

Deno.test("parsePolicyText() expands an alias whose anchor sits under a refused key", () => {
  const { root, problems } = parsePolicyText("? [&k key]\n: 1\nb: *k\n");
  deepStrictEqual(problems.map((problem) => problem.code), ["wrong-type"]);
  deepStrictEqual(entry(root, "b"), {
    kind: "scalar",
    value: "key",
    line: 1,
    column: 7,
  });
});

const OVERSIZE: ReadonlyArray<readonly [string, string]> = [
  ["1 MiB and one byte of ASCII", "a".repeat(1_048_577)],
  ["600,000 two-byte characters (1.2 MB of UTF-8)", "é".repeat(600_000)],
];

for (const [name, text] of OVERSIZE) {
  Deno.test(`parsePolicyText() refuses ${name} unread (file-too-large)`, () => {
    const parsed = parsePolicyText(text);
    deepStrictEqual(parsed.problems.map((problem) => problem.code), [
      "file-too-large",
    ]);
    strictEqual(parsed.root, undefined);
    strictEqual(parsed.refused, true);
  });
}

Deno.test("parsePolicyText() reads a text of exactly 1 MiB", () => {
  const text = `a: 1\n#${"x".repeat(1_048_576 - 6)}`;
  strictEqual(text.length, 1_048_576);
  deepStrictEqual(parsePolicyText(text).problems, []);
});
