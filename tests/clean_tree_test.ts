/**
 * `deno task test` leaves the tree as it found it: screenshots go to an
 * ignored folder, and only `deno task screenshots` rewrites
 * `docs/screenshots/`.
 *
 * CI proves it on the whole run, in its fresh clone: `.ci/run` runs
 * `deno task test` under `.ci/tree_unchanged`, which fails when
 * `git status --porcelain` reads differently afterwards or any tracked file
 * was rewritten, even with the same bytes. (This file used to clone the repo
 * and run the browser tests that write files a second time, minutes of every
 * run; the guard covers every test, not only those.) The tests here hold the
 * guard to that in throwaway repositories, and `.ci/run` to using it.
 *
 * @module
 */

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const E2E = new URL("tests/e2e/", ROOT);
const GUARD = new URL(".ci/tree_unchanged", ROOT).pathname;

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

async function run(
  cwd: string,
  command: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(command, {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

const hasGit = await run(".", "git", "--version").then(
  ({ code }) => code === 0,
  () => false,
);

/**
 * A committed repository with a tracked file, an ignored folder and no
 * untracked file; `.ci/tree_unchanged sh -c <script>` run in it.
 */
async function guarded(
  script: string,
): Promise<{ code: number; stderr: string }> {
  const dir = await Deno.makeTempDir({ prefix: "parley-tree-" });
  try {
    await Deno.writeTextFile(`${dir}/.gitignore`, "screenshots/\n");
    await Deno.writeTextFile(`${dir}/tracked.txt`, "tracked\n");
    await Deno.writeTextFile(`${dir}/same.txt`, "same bytes\n");
    for (
      const args of [
        ["init", "--quiet"],
        ["add", "."],
        [
          "-c",
          "user.name=Parley CI",
          "-c",
          "user.email=ci@parley.test",
          "commit",
          "--quiet",
          "-m",
          "fixture",
        ],
      ]
    ) {
      assert.equal((await run(dir, "git", ...args)).code, 0, args.join(" "));
    }
    // A rewrite in the same clock tick as the checkout could keep its time.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const { code, stderr } = await run(dir, GUARD, "sh", "-c", script);
    return { code, stderr };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("deno task screenshots runs every browser test that writes a screenshot", async () => {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  );
  const task: string = config.tasks.screenshots;
  assert.match(task, /^PARLEY_SCREENSHOTS=docs deno test -A /);
  const listed = task.split(" ").filter((word) => word.endsWith("_test.ts"));
  assert.deepEqual(listed.sort(), await testsCalling(/\.screenshot\(/));
});

Deno.test(".ci/run runs deno task test under .ci/tree_unchanged, then finds the screenshots in the ignored folder", async () => {
  const ci = await Deno.readTextFile(new URL(".ci/run", ROOT));
  const commands = ci.split("\n").filter((line) => /^[^#\s]/.test(line));
  assert.ok(
    commands.includes(".ci/tree_unchanged deno task test"),
    "deno task test is not run under the guard",
  );
  assert.ok(
    !commands.some((line) => /^deno task test\b/.test(line)),
    "deno task test also runs unguarded",
  );
  assert.match(ci, /tests\/e2e\/screenshots\/inbox-assigned\.png -nt/);
});

Deno.test({
  name: "the guard passes a command that writes only ignored files",
  ignore: !hasGit,
  async fn() {
    const { code, stderr } = await guarded(
      "mkdir -p screenshots && echo png > screenshots/inbox.png",
    );
    assert.equal(code, 0, stderr);
  },
});

Deno.test({
  name:
    "the guard fails a command that rewrites a tracked file with the same bytes, naming it",
  ignore: !hasGit,
  async fn() {
    const { code, stderr } = await guarded("echo 'same bytes' > same.txt");
    assert.equal(code, 1);
    assert.match(stderr, /rewrote tracked files:\nsame\.txt\n/);
  },
});

for (
  const [change, script, shown] of [
    ["changes a tracked file", "echo changed > tracked.txt", " M tracked.txt"],
    ["deletes a tracked file", "rm tracked.txt", " D tracked.txt"],
    ["adds an untracked file", "echo new > new.txt", "?? new.txt"],
  ] as const
) {
  Deno.test({
    name: `the guard fails a command that ${change}, showing git status`,
    ignore: !hasGit,
    async fn() {
      const { code, stderr } = await guarded(script);
      assert.equal(code, 1);
      assert.match(stderr, /changed git status:/);
      assert.ok(stderr.includes(`> ${shown}`), stderr);
    },
  });
}

Deno.test({
  name: "the guard fails with the command's own exit code when it fails",
  ignore: !hasGit,
  async fn() {
    const { code } = await guarded("exit 3");
    assert.equal(code, 3);
  },
});
