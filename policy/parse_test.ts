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
