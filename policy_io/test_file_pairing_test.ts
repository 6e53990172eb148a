import assert from "node:assert/strict";
import { UnreadableFileError } from "./read_failure.ts";
import { pairTestFiles } from "./test_file_pairing.ts";

async function withFiles(
  names: readonly string[],
  run: (root: string) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "parley-test-pairing-" });
  try {
    for (const name of names) {
      const slash = name.lastIndexOf("/");
      if (slash > 0) {
        await Deno.mkdir(`${root}/${name.slice(0, slash)}`, {
          recursive: true,
        });
      }
      await Deno.writeTextFile(`${root}/${name}`, "");
    }
    await run(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

const PAIRS: ReadonlyArray<
  readonly [string, readonly string[], string, readonly string[][]]
> = [
  [
    "a test file with its .yaml policy",
    ["p.yaml", "p.test.yaml"],
    "p.test.yaml",
    [["p.test.yaml", "p.yaml"]],
  ],
  [
    "a test file with its .json policy",
    ["p.json", "p.test.yaml"],
    "p.test.yaml",
    [["p.test.yaml", "p.json"]],
  ],
  [
    "a .test.yml file with its .yml policy",
    ["p.yml", "p.test.yml"],
    "p.test.yml",
    [["p.test.yml", "p.yml"]],
  ],
  ["a policy file with its test file", ["p.yaml", "p.test.yaml"], "p.yaml", [[
    "p.test.yaml",
    "p.yaml",
  ]]],
  [
    "a policy file with its .test.yml file",
    ["p.json", "p.test.yml"],
    "p.json",
    [["p.test.yml", "p.json"]],
  ],
];

for (const [name, files, path, expected] of PAIRS) {
  Deno.test(`pairTestFiles() pairs ${name}`, async () => {
    await withFiles(files, async (root) => {
      const pairs = await pairTestFiles(`${root}/${path}`);
      assert.deepEqual(
        pairs.map((pair) => [
          pair.file.slice(root.length + 1),
          pair.policy.slice(root.length + 1),
        ]),
        expected,
      );
    });
  });
}

Deno.test("pairTestFiles() pairs each test file of a directory with the directory and its organization", async () => {
  await withFiles(
    ["d/acme.yaml", "d/acme.test.yaml", "d/globex.test.yaml", "d/_parley.yaml"],
    async (root) => {
      assert.deepEqual(await pairTestFiles(`${root}/d/`), [
        {
          file: `${root}/d/acme.test.yaml`,
          policy: `${root}/d`,
          organizationId: "acme",
        },
        {
          file: `${root}/d/globex.test.yaml`,
          policy: `${root}/d`,
          organizationId: "globex",
        },
      ]);
    },
  );
});

const UNPAIRED: ReadonlyArray<readonly [string, readonly string[], string]> = [
  ["a test file without its policy", ["p.test.yaml"], "p.test.yaml"],
  ["a policy without its test file", ["p.yaml"], "p.yaml"],
  ["a path that does not exist", [], "nope"],
];

for (const [name, files, path] of UNPAIRED) {
  Deno.test(`pairTestFiles() refuses ${name} as an unreadable file`, async () => {
    await withFiles(files, async (root) => {
      await assert.rejects(
        pairTestFiles(`${root}/${path}`),
        (error: unknown) =>
          error instanceof UnreadableFileError &&
          error.code === "unreadable-file",
      );
    });
  });
}
