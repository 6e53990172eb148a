import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { MAX_POLICY_FILE_BYTES } from "../policy/policy_budget.ts";
import { readPolicyFile } from "./policy_file_reader.ts";

async function withDirectories(
  run: (policy: string, outside: string) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "parley-reader-" });
  try {
    await Deno.mkdir(`${root}/policy.d`);
    await Deno.mkdir(`${root}/outside`);
    await run(await Deno.realPath(`${root}/policy.d`), `${root}/outside`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("readPolicyFile() reads a file with its modification time and size", async () => {
  await withDirectories(async (policy) => {
    await Deno.writeTextFile(`${policy}/acme.yaml`, "version: 1\n");
    const read = await readPolicyFile(`${policy}/acme.yaml`, {
      within: policy,
    });
    strictEqual(read.kind, "text");
    if (read.kind !== "text") return;
    strictEqual(read.text, "version: 1\n");
    strictEqual(read.size, 11);
    strictEqual(typeof read.mtime, "number");
  });
});

Deno.test("readPolicyFile() refuses a 2 MiB file (file-too-large)", async () => {
  await withDirectories(async (policy) => {
    await Deno.writeTextFile(
      `${policy}/beta.yaml`,
      "x: 1\n".repeat(2 * MAX_POLICY_FILE_BYTES / 5),
    );
    const read = await readPolicyFile(`${policy}/beta.yaml`, {
      within: policy,
    });
    strictEqual(read.kind === "refused" && read.refused.code, "file-too-large");
  });
});

Deno.test("readPolicyFile() reads a file of exactly 1 MiB", async () => {
  await withDirectories(async (policy) => {
    await Deno.writeTextFile(
      `${policy}/beta.yaml`,
      "x".repeat(MAX_POLICY_FILE_BYTES),
    );
    const read = await readPolicyFile(`${policy}/beta.yaml`);
    strictEqual(
      read.kind === "text" && read.text.length,
      MAX_POLICY_FILE_BYTES,
    );
  });
});

Deno.test("readPolicyFile() does not follow a symlink out of the directory (symlink-outside)", async () => {
  await withDirectories(async (policy, outside) => {
    await Deno.writeTextFile(`${outside}/secret.yaml`, "version: 1\n");
    await Deno.symlink(`${outside}/secret.yaml`, `${policy}/beta.yaml`);
    await Deno.symlink("../outside/secret.yaml", `${policy}/gamma.yaml`);
    for (const name of ["beta.yaml", "gamma.yaml"]) {
      const read = await readPolicyFile(`${policy}/${name}`, {
        within: policy,
      });
      strictEqual(
        read.kind === "refused" && read.refused.code,
        "symlink-outside",
        name,
      );
    }
    const operator = await readPolicyFile(`${policy}/beta.yaml`);
    strictEqual(operator.kind, "text", "a single policy file may be a link");
  });
});

Deno.test("readPolicyFile() follows a symlink within the directory", async () => {
  await withDirectories(async (policy) => {
    await Deno.mkdir(`${policy}/shared`);
    await Deno.writeTextFile(`${policy}/shared/acme.yaml`, "version: 1\n");
    await Deno.symlink("shared/acme.yaml", `${policy}/acme.yaml`);
    const read = await readPolicyFile(`${policy}/acme.yaml`, {
      within: policy,
    });
    strictEqual(read.kind === "text" && read.text, "version: 1\n");
  });
});

const MISSING: ReadonlyArray<
  readonly [string, (policy: string) => Promise<void>]
> = [
  ["no file", async () => {}],
  ["a directory", (policy) => Deno.mkdir(`${policy}/acme.yaml`)],
  [
    "a dangling link",
    (policy) => Deno.symlink("nowhere.yaml", `${policy}/acme.yaml`),
  ],
];

for (const [name, make] of MISSING) {
  Deno.test(`readPolicyFile() reads ${name} as missing`, async () => {
    await withDirectories(async (policy) => {
      await make(policy);
      deepStrictEqual(
        await readPolicyFile(`${policy}/acme.yaml`, { within: policy }),
        { kind: "missing" },
      );
    });
  });
}
