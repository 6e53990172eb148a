import assert from "node:assert/strict";
import {
  directoryPath,
  isPolicyFileName,
  PolicyDirectoryReader,
  policyFileNames,
  testFileNames,
} from "./policy_directory_reader.ts";

async function withDirectory(
  files: Record<string, string>,
  run: (directory: string) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "parley-directory-reader-" });
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${root}/${name}`, text);
    }
    await run(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

const NAMES: ReadonlyArray<readonly [string, boolean]> = [
  ["_parley.yaml", true],
  ["acme.yaml", true],
  ["globex.json", true],
  ["beta.yml", true],
  ["_reserved.yaml", true],
  ["not an id.yaml", true],
  ["acme.test.yaml", false],
  [".acme.yaml.swp", false],
  ["README.md", false],
];

for (const [name, compiled] of NAMES) {
  Deno.test(`isPolicyFileName() ${compiled ? "takes" : "leaves out"} "${name}"`, () => {
    assert.equal(isPolicyFileName(name), compiled);
  });
}

Deno.test("directoryPath() drops trailing slashes and keeps the root", () => {
  assert.equal(directoryPath("policy.d/"), "policy.d");
  assert.equal(directoryPath("policy.d//"), "policy.d");
  assert.equal(directoryPath("policy.d"), "policy.d");
  assert.equal(directoryPath("/"), "/");
});

Deno.test("policyFileNames() and testFileNames() list a directory's files by what they are, sorted, without subdirectories", async () => {
  await withDirectory({
    "globex.yaml": "",
    "acme.yaml": "",
    "_parley.yaml": "",
    "acme.test.yaml": "",
    ".acme.yaml.swp": "",
    "notes.md": "",
  }, async (directory) => {
    await Deno.mkdir(`${directory}/sub.yaml`);
    assert.deepEqual(await policyFileNames(directory), [
      "_parley.yaml",
      "acme.yaml",
      "globex.yaml",
    ]);
    assert.deepEqual(await testFileNames(directory), ["acme.test.yaml"]);
  });
});

Deno.test("PolicyDirectoryReader.open() throws NotFound for a missing directory", async () => {
  await assert.rejects(
    PolicyDirectoryReader.open("/no/such/policy.d"),
    Deno.errors.NotFound,
  );
});

Deno.test("PolicyDirectoryReader reads a file by its name in the directory, confined to it", async () => {
  await withDirectory({ "acme.yaml": "version: 1\n" }, async (directory) => {
    const outside = await Deno.makeTempFile({ suffix: ".yaml" });
    try {
      await Deno.symlink(outside, `${directory}/linked.yaml`);
      const reader = await PolicyDirectoryReader.open(`${directory}/`);
      assert.equal(reader.path, directory);
      const read = await reader.read("acme.yaml");
      assert.equal(read.kind, "text");
      const linked = await reader.read("linked.yaml");
      assert.equal(
        linked.kind === "refused" ? linked.refused.code : linked.kind,
        "symlink-outside",
      );
      assert.equal((await reader.read("gone.yaml")).kind, "missing");
    } finally {
      await Deno.remove(outside);
    }
  });
});

Deno.test("PolicyDirectoryReader.stamp() gives a file's size and time, and missing for what is no file", async () => {
  await withDirectory({ "acme.yaml": "version: 1\n" }, async (directory) => {
    await Deno.mkdir(`${directory}/sub.yaml`);
    const reader = await PolicyDirectoryReader.open(directory);
    const stamp = await reader.stamp("acme.yaml");
    assert.ok(typeof stamp === "object" && "size" in stamp);
    assert.equal(stamp.size, 11);
    assert.equal(typeof stamp.mtime, "number");
    assert.equal(await reader.stamp("gone.yaml"), "missing");
    assert.equal(await reader.stamp("sub.yaml"), "missing");
  });
});
