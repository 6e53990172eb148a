/**
 * Builds widget.js with esbuild: one minified IIFE, with its Subresource
 * Integrity hash, ETag and sizes; likewise the inbox's script and the
 * pages' stylesheets. The server calls `buildWidget()` to serve
 * `GET /widget.js`; run directly (`deno task build:widget`) it writes
 * `widget/dist/widget.js` and `widget/dist/widget.js.sri`, and reports the
 * largest locale file.
 *
 * `buildLocales()` reads the locale files (`widget/locales/<locale>.json`)
 * the widget fetches for a language other than its built-in English: each
 * is checked against the English catalogue (a broken translation fails the
 * build, not a visitor's widget) and minified, with its ETag and sizes.
 *
 * @module
 */

import * as esbuild from "esbuild";
import { catalogueProblems } from "./i18n/catalogue_check.ts";
import { SUPPORTED_LOCALES } from "../wire/locale_match.ts";
import { PANEL_CSS } from "./panel_styles.ts";

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

/** One built locale file. */
export interface LocaleBuild extends WidgetBuild {
  /** The locale, e.g. `pt-BR`. */
  readonly locale: string;
}

/** Options of `buildWidget`. */
export interface WidgetBuildOptions {
  /** Minify the bundle (default `true`); `false` helps when debugging. */
  readonly minify?: boolean;
}

/** The gzip budget of widget.js, checked by the build test. */
export const WIDGET_GZIP_BUDGET_BYTES = 12 * 1024;

/** The gzip budget of one locale file, checked by the build test. */
export const LOCALE_GZIP_BUDGET_BYTES = 2 * 1024;

// esbuild runs one service per process and `stop()` ends it for every caller:
// builds running at once share one service, which stops when the last is done,
// and a build that comes while it stops waits for a new one.
let running = 0;
let stopping: Promise<void> | undefined;

async function withEsbuild<T>(build: () => Promise<T>): Promise<T> {
  while (stopping !== undefined) await stopping;
  running += 1;
  try {
    return await build();
  } finally {
    running -= 1;
    if (running === 0) {
      stopping = esbuild.stop().finally(() => stopping = undefined);
    }
  }
}

/**
 * Ends esbuild's service now: the builds under way fail. For a server that
 * stops before its files are built, so that it does not wait for them.
 */
export async function stopBuilds(): Promise<void> {
  await esbuild.stop();
}

/**
 * Bundles `widget/main.ts` (and the `wire/mod.ts` it imports) for browsers.
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
  return bundle("./main.ts", options.minify ?? true);
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
  return bundle("./agent_inbox.ts", options.minify ?? true);
}

/**
 * Minifies a page's stylesheet (`INBOX_CSS`, `DEMO_CSS`) for serving as a
 * file: `/agent.css`, `/demo.css`.
 *
 * @param css The stylesheet's text.
 * @returns the minified CSS, its SRI hash, ETag and sizes
 * @throws {Error} when esbuild cannot parse it
 */
export function buildStylesheet(css: string): Promise<WidgetBuild> {
  return withEsbuild(async () => {
    const result = await esbuild.transform(css, {
      loader: "css",
      minify: true,
      logLevel: "silent",
    });
    return await describe(result.code);
  });
}

/**
 * The widget's stylesheet is computed from the design tokens when widget.js
 * is built, not in the visitor's browser: the bundle carries the finished
 * CSS text instead of both themes' token objects (about 300 bytes gzip).
 */
const BUILT_STYLES: esbuild.Plugin = {
  name: "parley-built-styles",
  setup(build) {
    build.onLoad({ filter: /[\\/]widget[\\/]panel_styles\.ts$/ }, () => ({
      contents: `export const PANEL_CSS = ${JSON.stringify(PANEL_CSS)};`,
      loader: "ts",
    }));
  },
};

function bundle(entry: string, minify: boolean): Promise<WidgetBuild> {
  return withEsbuild(async () => {
    const result = await esbuild.build({
      entryPoints: [new URL(entry, import.meta.url).pathname],
      bundle: true,
      format: "iife",
      minify,
      write: false,
      metafile: true,
      // ES2022 keeps `#private` members native (browsers since 2021: Chrome
      // 84, Firefox 90, Safari 15) instead of WeakMap helpers: 1.1 KB gzip.
      target: "es2022",
      legalComments: "none",
      logLevel: "silent",
      plugins: [BUILT_STYLES],
    });
    const output = result.outputFiles[0];
    if (!output) throw new Error("esbuild produced no output");
    return await describe(output.text);
  });
}

/**
 * Reads, checks and minifies every locale file but English (which is built
 * into widget.js).
 *
 * @returns one build per locale, in `SUPPORTED_LOCALES` order
 * @throws {Error} naming each locale file that is missing, unexpected,
 *   unreadable or has a problem against the English catalogue
 */
export async function buildLocales(): Promise<LocaleBuild[]> {
  const directory = new URL("./locales/", import.meta.url);
  const wanted = SUPPORTED_LOCALES.filter((locale) => locale !== "en");
  const problems: string[] = [];
  for await (const entry of Deno.readDir(directory)) {
    const locale = entry.name.replace(/\.json$/, "");
    if (!(wanted as readonly string[]).includes(locale)) {
      problems.push(`${entry.name}: not a locale in SUPPORTED_LOCALES`);
    }
  }
  const builds: LocaleBuild[] = [];
  for (const locale of wanted) {
    const name = `${locale}.json`;
    let json: unknown;
    try {
      json = JSON.parse(await Deno.readTextFile(new URL(name, directory)));
    } catch (error) {
      problems.push(
        `${name}: ${error instanceof Error ? error.message : error}`,
      );
      continue;
    }
    for (const problem of catalogueProblems(locale, json)) {
      problems.push(`${name}: ${problem.code}: ${problem.message}`);
    }
    builds.push({ locale, ...await describe(JSON.stringify(json)) });
  }
  if (problems.length > 0) {
    throw new Error(`widget/locales has problems:\n${problems.join("\n")}`);
  }
  return builds;
}

/**
 * One line naming the largest locale file, raw and gzip (and the largest by
 * gzip when that is another).
 *
 * @returns the line, e.g. `largest locale: ar.json 2158 bytes, 805 bytes gzip`
 */
export function largestLocaleReport(locales: readonly LocaleBuild[]): string {
  const byBytes = [...locales].sort((a, b) => b.bytes - a.bytes)[0];
  const byGzip = [...locales].sort((a, b) => b.gzipBytes - a.gzipBytes)[0];
  if (!byBytes || !byGzip) return "no locale files";
  const line =
    `largest locale: ${byBytes.locale}.json ${byBytes.bytes} bytes, ${byBytes.gzipBytes} bytes gzip`;
  return byGzip === byBytes
    ? line
    : `${line} (largest gzip: ${byGzip.locale}.json ${byGzip.gzipBytes} bytes)`;
}

/** The SRI hash, ETag and sizes of a built file. */
async function describe(code: string): Promise<WidgetBuild> {
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
  console.log(largestLocaleReport(await buildLocales()));
}
