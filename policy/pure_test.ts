/**
 * `policy/` is pure: it takes text and an environment lookup and returns
 * values, so a server, a worker and the command line share it as it is,
 * and only `policy_io/` reads files. Held here by reading the sources of
 * `policy/` (tests aside), one row per way in which I/O could creep back.
 */

import assert from "node:assert/strict";

const POLICY = new URL("./", import.meta.url);

/** Every product file of policy/ (not tests), with its text. */
async function productSources(): Promise<Map<string, string>> {
  const sources = new Map<string, string>();
  const walk = async (directory: URL, prefix: string) => {
    for await (const entry of Deno.readDir(directory)) {
      if (entry.isDirectory) {
        await walk(
          new URL(`${entry.name}/`, directory),
          `${prefix}${entry.name}/`,
        );
      } else if (/\.ts$/.test(entry.name) && !/_test\.ts$/.test(entry.name)) {
        sources.set(
          `${prefix}${entry.name}`,
          await Deno.readTextFile(new URL(entry.name, directory)),
        );
      }
    }
  };
  await walk(POLICY, "");
  return sources;
}

/** The module specifiers a source imports or re-exports. */
function specifiers(source: string): string[] {
  return [
    ...source.matchAll(
      /\b(?:import|export)\b[^;"'`]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']|\bimport\s+["']([^"']+)["']/g,
    ),
  ].map((match) => (match[1] ?? match[2] ?? match[3])!);
}

const ROWS: ReadonlyArray<
  readonly [string, (file: string, source: string) => string[]]
> = [
  [
    "calls no Deno API",
    (_file, source) =>
      [...source.matchAll(/\bDeno\.\w+/g)].map((match) => match[0]),
  ],
  [
    "imports no Node module but node:crypto",
    (_file, source) =>
      specifiers(source).filter((specifier) =>
        specifier.startsWith("node:") && specifier !== "node:crypto"
      ),
  ],
  [
    "imports no file outside policy/",
    (file, source) =>
      specifiers(source).filter((specifier) =>
        specifier.startsWith(".") &&
        !new URL(specifier, new URL(file, POLICY)).href.startsWith(POLICY.href)
      ),
  ],
];

for (const [name, offences] of ROWS) {
  Deno.test(`policy/ ${name}`, async () => {
    const sources = await productSources();
    assert.ok(sources.has("compile.ts"), "policy/ was not read");
    const found = [...sources].flatMap(([file, source]) =>
      offences(file, source).map((offence) => `${file}: ${offence}`)
    );
    assert.deepEqual(found, []);
  });
}
