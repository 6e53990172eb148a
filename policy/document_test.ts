import {
  deepStrictEqual as deepEqual,
  strictEqual as equal,
} from "node:assert/strict";
import { PolicyDocument } from "./document.ts";
import { parsePolicyText } from "./parse.ts";

function documentOf(text: string): PolicyDocument {
  return new PolicyDocument(parsePolicyText(text).root!);
}

const TEXT = `version: 1
organizations:
  acme:
    domains: { allow: [acme.com, "*.acme.com"] }
    name: Acme
    name: Acme Inc.
  __proto__: { name: Proto }
`;

Deno.test("PolicyDocument finds where each path is written, its key and its value", () => {
  const document = documentOf(TEXT);
  const allow = ["organizations", "acme", "domains", "allow", 1];
  deepEqual(
    { line: document.at(allow).line, column: document.at(allow).column },
    { line: 4, column: 34 },
  );
  const name = ["organizations", "acme", "name"];
  deepEqual(
    [document.keyAt(name).line, document.keyAt(name).column],
    [5, 5],
  );
  equal(document.written(name), true);
  equal(document.written(["organizations", "acme", "jwt"]), false);
  // A path not written points at its closest written parent.
  equal(document.at(["organizations", "acme", "jwt", "keys"]).line, 4);
});

Deno.test("PolicyDocument keeps the first of a key written twice and lists the repeat", () => {
  const document = documentOf(TEXT);
  const data = document.data as Record<
    string,
    Record<string, Record<string, unknown>>
  >;
  equal(data.organizations?.acme?.name, "Acme");
  deepEqual(
    document.repeats.map(({ parent, key, at }) => [parent, key, at.line]),
    [[["organizations", "acme"], "name", 6]],
  );
});

Deno.test("PolicyDocument reads __proto__ as a key like any other, and timestamps as ISO text", () => {
  const document = documentOf(TEXT);
  const organizations = (document.data as Record<string, unknown>)
    .organizations as Record<string, unknown>;
  deepEqual(Object.keys(organizations), ["acme", "__proto__"]);
  const dated = documentOf("%YAML 1.1\n---\nuntil: 2026-12-15T00:00:00Z\n");
  deepEqual(
    dated.data,
    Object.assign(Object.create(null), {
      until: "2026-12-15T00:00:00.000Z",
    }),
  );
});
