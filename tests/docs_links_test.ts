/**
 * README.md and docs/*.md link only to what exists: every relative link
 * resolves to a file of the repository, and every `#anchor` to a heading of
 * the page it names. The screenshots are all shown somewhere, and README
 * leads to every page of docs/.
 */

import assert from "node:assert/strict";
import {
  headingAnchors,
  links,
  type MarkdownDoc,
  readDocs,
  ROOT,
} from "./markdown_docs.ts";

const docs = await readDocs();
const byPath = new Map(docs.map((doc) => [doc.path, doc]));

/** A link's target relative to the repository root, and its anchor. */
function resolve(
  doc: MarkdownDoc,
  target: string,
): { path: string; anchor?: string } {
  const [file, anchor] = target.split("#", 2) as [string, string | undefined];
  const path = file === ""
    ? doc.path
    : new URL(file, new URL(doc.path, ROOT)).pathname.slice(
      ROOT.pathname.length,
    );
  return anchor === undefined ? { path } : { path, anchor };
}

function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target);
}

Deno.test("every relative link of README and docs/ names a file that exists", async () => {
  const checked: string[] = [];
  for (const doc of docs) {
    for (const link of links(doc)) {
      if (isExternal(link.target)) continue;
      const { path } = resolve(doc, decodeURI(link.target));
      assert.ok(
        !path.startsWith("../") && !path.startsWith("/"),
        `${link.doc}:${link.line}: ${link.target} leaves the repository`,
      );
      await Deno.stat(new URL(path, ROOT)).catch(() =>
        assert.fail(`${link.doc}:${link.line}: ${link.target} does not exist`)
      );
      checked.push(path);
    }
  }
  assert.ok(checked.length > 20, "the docs' links were not found");
});

Deno.test("every #anchor of README and docs/ names a heading of its page", () => {
  let anchors = 0;
  for (const doc of docs) {
    for (const link of links(doc)) {
      if (isExternal(link.target)) continue;
      const { path, anchor } = resolve(doc, link.target);
      if (anchor === undefined) continue;
      const target = byPath.get(path);
      assert.ok(
        target,
        `${link.doc}:${link.line}: ${link.target} has an anchor outside README and docs/`,
      );
      assert.ok(
        headingAnchors(target).has(anchor),
        `${link.doc}:${link.line}: ${path} has no heading #${anchor}`,
      );
      anchors++;
    }
  }
  assert.ok(anchors > 10, "the docs' anchors were not found");
});

Deno.test("every screenshot under docs/screenshots/ is shown in README or docs/", async () => {
  const shown = new Set(
    docs.flatMap((doc) =>
      links(doc).filter((link) => !isExternal(link.target)).map((link) =>
        resolve(doc, link.target).path
      )
    ),
  );
  for await (
    const entry of Deno.readDir(new URL("docs/screenshots/", ROOT))
  ) {
    if (!entry.isFile || !entry.name.endsWith(".png")) continue;
    assert.ok(
      shown.has(`docs/screenshots/${entry.name}`),
      `docs/screenshots/${entry.name} is linked from nowhere`,
    );
  }
});

Deno.test("README links every page of docs/", () => {
  const readme = byPath.get("README.md")!;
  const linked = new Set(
    links(readme).map((link) => resolve(readme, link.target).path),
  );
  for (const doc of docs) {
    if (doc.path === "README.md") continue;
    assert.ok(linked.has(doc.path), `README does not link ${doc.path}`);
  }
});

Deno.test("headingAnchors() follows GitHub's rule for punctuation and repeats", () => {
  const anchors = headingAnchors({
    path: "x.md",
    text:
      "# The security report's counts\n## `agent.securityReport` over RPC\n## Notes\n## Notes\n```\n# not a heading\n```\n",
  });
  assert.deepEqual([...anchors], [
    "the-security-reports-counts",
    "agentsecurityreport-over-rpc",
    "notes",
    "notes-1",
  ]);
});
