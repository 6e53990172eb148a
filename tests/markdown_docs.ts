/**
 * The project's documentation as the doc tests read it: README.md and every
 * `docs/*.md`, with their fenced code blocks, links and headings.
 *
 * @module
 */

/** The repository root, as a directory URL. */
export const ROOT: URL = new URL("../", import.meta.url);

/** One Markdown file of the documentation. */
export interface MarkdownDoc {
  /** Path from the repository root, e.g. `docs/policy.md`. */
  readonly path: string;
  readonly text: string;
}

/** One fenced code block. */
export interface CodeBlock {
  readonly doc: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The info string's first word (`yaml`, `sh`, …), or `""`. */
  readonly language: string;
  readonly code: string;
}

/** One inline link or image. */
export interface MarkdownLink {
  readonly doc: string;
  readonly line: number;
  readonly target: string;
}

/** README.md and every `docs/*.md`, README first, the rest by name. */
export async function readDocs(): Promise<MarkdownDoc[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(new URL("docs/", ROOT))) {
    if (entry.isFile && entry.name.endsWith(".md")) names.push(entry.name);
  }
  const paths = ["README.md", ...names.sort().map((name) => `docs/${name}`)];
  return await Promise.all(
    paths.map(async (path) => ({
      path,
      text: await Deno.readTextFile(new URL(path, ROOT)),
    })),
  );
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/;

/** The fenced code blocks of a document, in order. */
export function codeBlocks(doc: MarkdownDoc): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = doc.text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const open = FENCE.exec(lines[index]!);
    if (open === null) continue;
    const fence = open[2]!;
    const indent = open[1]!.length;
    const body: string[] = [];
    let end = index + 1;
    while (end < lines.length && !lines[end]!.trim().startsWith(fence)) {
      body.push(lines[end]!.slice(indent));
      end++;
    }
    blocks.push({
      doc: doc.path,
      line: index + 1,
      language: open[3]!.toLowerCase(),
      code: body.join("\n") + "\n",
    });
    index = end;
  }
  return blocks;
}

/** The document's lines outside fenced code blocks, with their numbers. */
function proseLines(doc: MarkdownDoc): { line: number; text: string }[] {
  const prose: { line: number; text: string }[] = [];
  let fence: string | undefined;
  doc.text.split("\n").forEach((text, index) => {
    const open = FENCE.exec(text);
    if (fence !== undefined) {
      if (text.trim().startsWith(fence)) fence = undefined;
    } else if (open !== null) {
      fence = open[2]!;
    } else {
      prose.push({ line: index + 1, text });
    }
  });
  return prose;
}

/** The inline links and images outside code, `[text](target)`. */
export function links(doc: MarkdownDoc): MarkdownLink[] {
  const found: MarkdownLink[] = [];
  for (const { line, text } of proseLines(doc)) {
    // Code spans may hold brackets and parentheses that are no links.
    const withoutCode = text.replace(/`+[^`]*`+/g, "``");
    for (const match of withoutCode.matchAll(/\]\(([^)\s]+)\)/g)) {
      found.push({ doc: doc.path, line, target: match[1]! });
    }
  }
  return found;
}

/**
 * The anchors GitHub gives a document's headings: lower-cased, punctuation
 * dropped, spaces turned into hyphens, repeats numbered `-1`, `-2`, ….
 */
export function headingAnchors(doc: MarkdownDoc): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text } of proseLines(doc)) {
    const heading = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(text);
    if (heading === null) continue;
    const slug = heading[1]!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}
