import assert from "node:assert/strict";
import {
  MIN_OPEN_FILES,
  openFileLimitWarning,
  parseSoftOpenFileLimit,
  readSoftOpenFileLimit,
} from "./open_file_limit.ts";

/** `/proc/self/limits` as Linux writes it, with the open-file row given. */
function limitsText(openFiles: string): string {
  return [
    "Limit                     Soft Limit           Hard Limit           Units     ",
    "Max cpu time              unlimited            unlimited            seconds   ",
    "Max processes             63448                63448                processes ",
    `Max open files            ${openFiles}                files     `,
    "Max locked memory         8388608              8388608              bytes     ",
    "",
  ].join("\n");
}

Deno.test("parseSoftOpenFileLimit() reads the soft column, not the hard one", () => {
  assert.equal(
    parseSoftOpenFileLimit(limitsText("1024                 524288")),
    1024,
  );
});

Deno.test("parseSoftOpenFileLimit() is undefined for unlimited or a missing row", () => {
  assert.equal(
    parseSoftOpenFileLimit(limitsText("unlimited            unlimited")),
    undefined,
  );
  assert.equal(parseSoftOpenFileLimit("Limit  Soft Limit\n"), undefined);
  assert.equal(parseSoftOpenFileLimit(""), undefined);
});

Deno.test("openFileLimitWarning() warns below the minimum, names the limit and both fixes", () => {
  const warning = openFileLimitWarning(MIN_OPEN_FILES - 1);
  assert.ok(warning !== undefined);
  assert.ok(warning.includes(String(MIN_OPEN_FILES - 1)));
  assert.ok(warning.includes("ulimit -n"));
  assert.ok(warning.includes("LimitNOFILE="));
  assert.ok(!warning.includes("\n"), "one line");
});

Deno.test("openFileLimitWarning() says nothing at the minimum, above it, or when unknown", () => {
  assert.equal(openFileLimitWarning(MIN_OPEN_FILES), undefined);
  assert.equal(openFileLimitWarning(1_048_576), undefined);
  assert.equal(openFileLimitWarning(undefined), undefined);
});

Deno.test("readSoftOpenFileLimit() is undefined without the limits file (no /proc, as on macOS)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-no-proc-" });
  try {
    assert.equal(await readSoftOpenFileLimit(`${dir}/limits`), undefined);
  } finally {
    await Deno.remove(dir);
  }
});

Deno.test({
  name:
    "readSoftOpenFileLimit() reads the limit in force: prlimit's, raised to the hard limit by Deno",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const module = new URL("./open_file_limit.ts", import.meta.url).href;
    const limitUnder = async (nofile: string) => {
      const { code, stdout } = await new Deno.Command("prlimit", {
        args: [
          `--nofile=${nofile}`,
          Deno.execPath(),
          "eval",
          `import { readSoftOpenFileLimit } from ${JSON.stringify(module)};` +
          "console.log(await readSoftOpenFileLimit());",
        ],
        stdin: "null",
        stderr: "inherit",
      }).output();
      assert.equal(code, 0);
      return new TextDecoder().decode(stdout).trim();
    };
    assert.equal(await limitUnder("777"), "777");
    // Deno lifts its soft limit to the hard one at start: that is the limit in force.
    assert.equal(await limitUnder("777:4096"), "4096");
  },
});
