/**
 * `deno task test` leaves the tree as it found it. In a fresh clone of the
 * commit under test, the browser tests that write files run, and
 * `git status --porcelain` must stay empty, with no tracked file even
 * rewritten alike: screenshots go to an ignored folder, and only
 * `deno task screenshots` rewrites `docs/screenshots/`.
 *
 * Only the tests that write files run in the clone: the whole browser suite
 * takes minutes on a shared machine, and the others write only to temp
 * directories (their servers' stores and logs). "Those that write" is read
 * from the sources — a call of `.screenshot(` or of a `Deno.write…` function
 * — so a new test that writes is covered without being listed here. The
 * clone holds committed files only, so this checks what a newcomer clones,
 * not an uncommitted change.
 *
 * @module
 */

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const E2E = new URL("tests/e2e/", ROOT);
/** Bounds the clone's run; the writing tests take well under a minute each. */
const RUN_WITHIN_MS = 5 * 60_000;

/** The browser test files whose source matches `calls`. */
async function testsCalling(calls: RegExp): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(E2E)) {
    if (!entry.isFile || !entry.name.endsWith("_test.ts")) continue;
    const source = await Deno.readTextFile(new URL(entry.name, E2E));
    if (calls.test(source)) files.push(`tests/e2e/${entry.name}`);
  }
  return files.sort();
}

const SCREENSHOT = /\.screenshot\(/;
const WRITE = /\.screenshot\(|Deno\.write\w*\(/;

async function git(
  cwd: string | URL,
  ...args: string[]
): Promise<{ code: number; stdout: string }> {
  const output = await new Deno.Command("git", {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
  };
}

const checkout = await git(ROOT, "rev-parse", "HEAD").catch(() => undefined);

Deno.test("deno task screenshots runs every browser test that writes a screenshot", async () => {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  );
  const task: string = config.tasks.screenshots;
  assert.match(task, /^PARLEY_SCREENSHOTS=docs deno test -A /);
  const listed = task.split(" ").filter((word) => word.endsWith("_test.ts"));
  assert.deepEqual(listed.sort(), await testsCalling(SCREENSHOT));
});

Deno.test({
  name:
    "the browser tests that write files leave a fresh clone's git status empty",
  ignore: checkout?.code !== 0,
  async fn() {
    const files = await testsCalling(WRITE);
    assert.ok(files.length >= 3, `only ${files.join(", ")}`);
    const dir = await Deno.makeTempDir({ prefix: "parley-clone-" });
    try {
      const clone = `${dir}/parley`;
      assert.equal(
        (await git(dir, "clone", "--quiet", ROOT.pathname, clone)).code,
        0,
      );
      assert.equal(
        (await git(clone, "checkout", "--quiet", checkout!.stdout.trim()))
          .code,
        0,
      );
      // Byte-identical rewrites (screenshots render alike on one machine)
      // leave git status clean, so modification times are compared too.
      const tracked = (await git(clone, "ls-files", "-z")).stdout.split("\0")
        .filter((path) => path !== "");
      const modified = async () =>
        Object.fromEntries(
          await Promise.all(
            tracked.map(async (path) => [
              path,
              (await Deno.lstat(`${clone}/${path}`)).mtime?.getTime(),
            ]),
          ),
        );
      const before = await modified();
      const passThrough: Record<string, string> = {};
      for (const name of ["HOME", "PATH", "DENO_DIR", "XDG_CACHE_HOME"]) {
        const value = Deno.env.get(name);
        if (value !== undefined) passThrough[name] = value;
      }
      const run = await new Deno.Command(Deno.execPath(), {
        args: ["test", "-A", ...files],
        cwd: clone,
        // No PARLEY_SCREENSHOTS: the tests as `deno task test` runs them.
        clearEnv: true,
        env: { ...passThrough, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(RUN_WITHIN_MS),
      }).output();
      const decoder = new TextDecoder();
      assert.equal(
        run.code,
        0,
        decoder.decode(run.stdout).slice(-4000) +
          decoder.decode(run.stderr).slice(-4000),
      );
      const status = await git(clone, "status", "--porcelain");
      assert.equal(status.code, 0);
      assert.equal(status.stdout, "", "the tests changed the tree");
      const after = await modified();
      assert.deepEqual(
        tracked.filter((path) => after[path] !== before[path]),
        [],
        "the tests rewrote tracked files",
      );
      // They did write: into the ignored folder.
      const written = [
        ...Deno.readDirSync(`${clone}/tests/e2e/screenshots`),
      ].map((entry) => entry.name);
      assert.ok(written.includes("inbox-assigned.png"), written.join(", "));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
