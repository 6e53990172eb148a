/**
 * Builds widget.js with esbuild: one minified IIFE, with its Subresource
 * Integrity hash, ETag and sizes. The server calls `buildWidget()` to serve
 * `GET /widget.js`; run directly (`deno task build:widget`) it writes
 * `widget/dist/widget.js` and `widget/dist/widget.js.sri`.
 *
 * @module
 */

import * as esbuild from "esbuild";

/** A built widget bundle. */
export interface WidgetBuild {
  /** The JavaScript of widget.js. */
  readonly code: string;
  /** Subresource Integrity value, `sha384-…`. */
  readonly sri: string;
  /** A strong ETag (quoted) derived from the content. */
  readonly etag: string;
  /** Size in bytes (UTF-8). */
  readonly bytes: number;
  /** Size in bytes after gzip. */
  readonly gzipBytes: number;
}

/** Options of `buildWidget`. */
export interface WidgetBuildOptions {
  /** Minify the bundle (default `true`); `false` helps when debugging. */
  readonly minify?: boolean;
}

/** The gzip budget of widget.js, checked by the build test. */
export const WIDGET_GZIP_BUDGET_BYTES = 12 * 1024;

// esbuild runs one service per process and `stop()` ends it for every caller,
// so builds are serialised: a concurrent build must not be stopped mid-way.
let queue: Promise<unknown> = Promise.resolve();

/**
 * Bundles `widget/main.ts` (and the `rpc/wire.ts` it imports) for browsers.
 *
 * @param options `minify` (default `true`)
 * @returns the code, its SRI hash, ETag and sizes
 * @throws {Error} when esbuild reports an error
 * @example Serving the widget
 * ```ts
 * const widget = await buildWidget();
 * new Response(widget.code, { headers: { etag: widget.etag } });
 * ```
 */
export function buildWidget(
  options: WidgetBuildOptions = {},
): Promise<WidgetBuild> {
  return enqueue("./main.ts", options.minify ?? true);
}

/**
 * Bundles the agent inbox script (`widget/agent_inbox.ts`), served at
 * `GET /agent.js` for the `GET /agent` page.
 *
 * @param options `minify` (default `true`)
 * @returns the code, its SRI hash, ETag and sizes
 * @throws {Error} when esbuild reports an error
 */
export function buildAgentInbox(
  options: WidgetBuildOptions = {},
): Promise<WidgetBuild> {
  return enqueue("./agent_inbox.ts", options.minify ?? true);
}

function enqueue(entry: string, minify: boolean): Promise<WidgetBuild> {
  const build = queue.then(() => bundle(entry, minify));
  queue = build.catch(() => undefined);
  return build;
}

async function bundle(entry: string, minify: boolean): Promise<WidgetBuild> {
  let code: string;
  try {
    const result = await esbuild.build({
      entryPoints: [new URL(entry, import.meta.url).pathname],
      bundle: true,
      format: "iife",
      minify,
      write: false,
      metafile: true,
      target: "es2020",
      legalComments: "none",
      logLevel: "silent",
    });
    const output = result.outputFiles[0];
    if (!output) throw new Error("esbuild produced no output");
    code = output.text;
  } finally {
    await esbuild.stop();
  }
  const bytes = new TextEncoder().encode(code);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-384", bytes));
  const base64 = btoa(String.fromCharCode(...digest));
  return {
    code,
    sri: `sha384-${base64}`,
    etag: `"${base64.slice(0, 32).replace(/\+/g, "-").replace(/\//g, "_")}"`,
    bytes: bytes.byteLength,
    gzipBytes: await gzipSize(code),
  };
}

async function gzipSize(code: string): Promise<number> {
  const stream = new Blob([code]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return (await new Response(stream).arrayBuffer()).byteLength;
}

if (import.meta.main) {
  const widget = await buildWidget();
  const dist = new URL("./dist/", import.meta.url);
  await Deno.mkdir(dist, { recursive: true });
  await Deno.writeTextFile(new URL("widget.js", dist), widget.code);
  await Deno.writeTextFile(new URL("widget.js.sri", dist), `${widget.sri}\n`);
  console.log(
    `widget/dist/widget.js  ${widget.bytes} bytes, ${widget.gzipBytes} bytes gzip`,
  );
  console.log(`integrity="${widget.sri}"`);
}
