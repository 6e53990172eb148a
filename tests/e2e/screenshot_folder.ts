/**
 * Where the browser tests write their screenshots. By default an ignored
 * folder, `tests/e2e/screenshots/`, so `deno task test` never changes a
 * tracked file; `deno task screenshots` sets `PARLEY_SCREENSHOTS=docs` to
 * rewrite `docs/screenshots/*.png`, the pictures the docs show, only when
 * asked.
 *
 * @module
 */

const FOLDERS = {
  ignored: new URL("./screenshots/", import.meta.url),
  docs: new URL("../../docs/screenshots/", import.meta.url),
} as const;

/**
 * The path to write one screenshot to, its folder created.
 *
 * @param name The file name, e.g. `widget-away.png`.
 * @returns An absolute path.
 */
export async function screenshotPath(name: string): Promise<string> {
  const folder = Deno.env.get("PARLEY_SCREENSHOTS") === "docs"
    ? FOLDERS.docs
    : FOLDERS.ignored;
  await Deno.mkdir(folder, { recursive: true });
  return new URL(name, folder).pathname;
}
