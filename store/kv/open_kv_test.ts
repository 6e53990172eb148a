import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { DEFAULT_STORE_PATH, openKv } from "./open_kv.ts";
import { StoreUnavailableError } from "../store_unavailable_error.ts";

Deno.test("openKv() creates the parent directory of a file path", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley_store_" });
  try {
    const path = `${dir}/nested/deeper/kv.sqlite`;
    const kv = await openKv(path);
    try {
      await kv.set(["probe"], 1);
      assert.equal((await kv.get(["probe"])).value, 1);
    } finally {
      kv.close();
    }
    assert.equal((await Deno.stat(path)).isFile, true);
    const again = await openKv(path);
    try {
      assert.equal((await again.get(["probe"])).value, 1, "the file persists");
    } finally {
      again.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test('openKv() opens an in-memory store for ":memory:"', async () => {
  const kv = await openKv(":memory:");
  try {
    await kv.set(["probe"], "in memory");
    assert.equal((await kv.get(["probe"])).value, "in memory");
  } finally {
    kv.close();
  }
});

Deno.test("openKv() defaults to .parley/kv.sqlite under the working directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley_store_" });
  try {
    // A child process, so the test never changes this process's directory.
    const script = `
      import { openKv } from ${
      JSON.stringify(import.meta.resolve("./open_kv.ts"))
    };
      for (const location of [undefined, ""]) (await openKv(location)).close();
    `;
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--unstable-kv", script],
      cwd: dir,
      stdout: "null",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    assert.equal(
      (await Deno.stat(`${dir}/${DEFAULT_STORE_PATH}`)).isFile,
      true,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openKv() throws StoreUnavailableError when the path cannot hold a store", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley_store_" });
  try {
    await Deno.writeTextFile(`${dir}/plain-file`, "not a directory");
    const cases: [string, string][] = [
      ["parent is a file", `${dir}/plain-file/kv.sqlite`],
      ["path is a directory", dir],
    ];
    for (const [name, location] of cases) {
      await assert.rejects(
        openKv(location),
        (error: unknown) =>
          error instanceof StoreUnavailableError &&
          error.code === "UNAVAILABLE" && error.message.includes(location),
        name,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openKv() waits while another process holds the file's write lock", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley_store_" });
  const path = `${dir}/kv.sqlite`;
  // Another worker creating the store: the lock that workers of
  // deno serve --parallel meet when they open one fresh file together.
  const rival = new DatabaseSync(path);
  try {
    rival.exec("BEGIN IMMEDIATE");
    const release = setTimeout(() => rival.exec("COMMIT"), 500);
    const module = new URL("./open_kv.ts", import.meta.url).href;
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        "--unstable-kv",
        `const { openKv } = await import(${JSON.stringify(module)});
         const kv = await openKv(Deno.args[0]);
         await kv.set(["opened"], true);
         kv.close();`,
        path,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    clearTimeout(release);
    if (rival.isTransaction) rival.exec("COMMIT");
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  } finally {
    rival.close();
  }
  const kv = await openKv(path);
  try {
    assert.equal((await kv.get(["opened"])).value, true);
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});
