/**
 * Real Chromium for the widget's browser tests, and the host website the
 * widget is embedded in: a Deno.serve on 127.0.0.1 port 0 whose pages are
 * reached as `http://shop.acme.test:<port>/…` or `http://evil.test:<port>/…`
 * (Chromium maps `*.test` to loopback), so they are distinct origins.
 *
 * @module
 */

import {
  type Browser,
  type BrowserContext,
  chromium,
  type Locator,
  type Page,
} from "playwright-core";
import { statFields } from "../proc_stat.ts";

/** Where CI installs Chromium (apt `chromium`). */
export const CHROMIUM_PATH = Deno.env.get("PARLEY_CHROMIUM") ??
  "/usr/bin/chromium";

/**
 * Launches headless Chromium. Fails loudly when it is missing: a browser test
 * that skips silently would prove nothing.
 *
 * @returns the browser; close it with `await browser.close()`
 * @throws {Error} when Chromium is not installed at `CHROMIUM_PATH`
 */
export async function launchChromium(
  extraArgs: readonly string[] = [],
): Promise<Browser> {
  try {
    await Deno.stat(CHROMIUM_PATH);
  } catch {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: install it (apt-get install chromium) or set PARLEY_CHROMIUM`,
    );
  }
  return await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--host-resolver-rules=MAP *.test 127.0.0.1",
      ...extraArgs,
    ],
  });
}

/**
 * Names this worker's shared browser among the machine's processes (Chromium
 * ignores switches it does not know), so `unload` can find and end it.
 */
const SHARED_MARK = `--parley-shared-chromium=${crypto.randomUUID()}`;

let shared: Promise<Browser> | undefined;

/**
 * This test file's Chromium: launched on first use, ended when the file's
 * worker ends. Launching is the slow part of a browser test; a context per
 * test ({@linkcode openPage}) isolates as a browser would (its own cookies,
 * storage, cache and permissions), so tests share the browser and never a
 * context. Do not close it: other tests of the file use it after yours.
 *
 * @returns the browser
 * @throws {Error} when Chromium is not installed at `CHROMIUM_PATH`
 */
export function sharedChromium(): Promise<Browser> {
  shared ??= launchChromium([SHARED_MARK]).then((browser) => {
    browser.on("disconnected", () => shared = undefined);
    return browser;
  }, (error) => {
    shared = undefined;
    throw error;
  });
  return shared;
}

// `unload` cannot wait for `browser.close()`, and the file's worker ends
// while `deno test` goes on with the next file: without this, each file would
// leave a browser running until the whole run ends.
globalThis.addEventListener("unload", () => {
  if (shared !== undefined) endMarkedChromium(SHARED_MARK);
});

/**
 * Kills the browser started with `mark` and every process of its profile
 * (renderers, GPU, network), then removes the profile directory.
 */
function endMarkedChromium(mark: string): void {
  const commandLines = new Map<number, string[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const args = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`)
        .split("\0");
      commandLines.set(Number(entry.name), args);
    } catch {
      // Exited while listed, or not ours to read.
    }
  }
  const main = [...commandLines].find(([, args]) => args.includes(mark));
  if (main === undefined) return;
  const profileArg = main[1].find((arg) => arg.startsWith("--user-data-dir="));
  const members = [...commandLines]
    .filter(([, args]) =>
      args.includes(mark) ||
      (profileArg !== undefined && args.includes(profileArg))
    )
    .map(([pid]) => pid);
  for (const pid of members) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  if (profileArg === undefined) return;
  // Wait (boundedly) for the processes to go before removing their profile.
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let round = 0; round < 100 && members.some(alive); round++) {
    Atomics.wait(pause, 0, 0, 20);
  }
  try {
    Deno.removeSync(profileArg.slice("--user-data-dir=".length), {
      recursive: true,
    });
  } catch {
    // Best effort: it is a temp dir.
  }
}

/** Whether `pid` runs (a zombie awaiting its parent counts as gone). */
function alive(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state !== undefined && state !== "Z";
}

/** One file the host site serves. */
export interface HostFile {
  readonly body: string;
  /** Defaults from the path's extension (`.js` → JavaScript, else HTML). */
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** The host website: serves the files it was given, on loopback. */
export interface HostSite {
  readonly port: number;
  /** `http://<host>:<port><path>`, e.g. `url("shop.acme.test", "/")`. */
  url(host: string, path: string): string;
  /** `http://<host>:<port>` */
  origin(host: string): string;
  /** Adds or replaces a file, or a handler computing the reply (a token endpoint). */
  serve(
    path: string,
    file:
      | HostFile
      | string
      | ((request: Request) => Response | Promise<Response>),
  ): void;
  /** CSP violation reports received at `/csp-report`. */
  readonly cspReports: readonly unknown[];
  close(): Promise<void>;
}

/**
 * Starts the host website on 127.0.0.1 port 0.
 *
 * @returns the running site
 */
export function startHostSite(): HostSite {
  const files = new Map<
    string,
    HostFile | ((request: Request) => Response | Promise<Response>)
  >();
  const cspReports: unknown[] = [];
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, async (request) => {
    const { pathname } = new URL(request.url);
    if (pathname === "/csp-report" && request.method === "POST") {
      cspReports.push(await request.json().catch(() => "unreadable report"));
      return new Response(null, { status: 204 });
    }
    const file = files.get(pathname);
    if (!file) return new Response("Not found\n", { status: 404 });
    if (typeof file === "function") return file(request);
    return new Response(file.body, {
      headers: {
        "Content-Type": file.contentType ??
          (pathname.endsWith(".js")
            ? "text/javascript; charset=utf-8"
            : "text/html; charset=utf-8"),
        "Cache-Control": "no-store",
        ...file.headers,
      },
    });
  });
  const port = server.addr.port;
  return {
    port,
    url: (host, path) => `http://${host}:${port}${path}`,
    origin: (host) => `http://${host}:${port}`,
    serve: (path, file) =>
      files.set(path, typeof file === "string" ? { body: file } : file),
    cspReports,
    close: () => server.shutdown(),
  };
}

/** What a test learns from a page: errors reported to the widget's handler and to the page. */
export interface PageWatch {
  /** Uncaught errors and unhandled rejections on the page. */
  readonly pageErrors: string[];
  /** `console.warn` and `console.error` lines. */
  readonly warnings: string[];
}

/**
 * Opens a page in a fresh context and records its errors and warnings.
 *
 * @param options viewport, color scheme, reduced motion and locale of the context
 * @returns the page, its context and the records
 */
export async function openPage(
  browser: Browser,
  options: {
    viewport?: { width: number; height: number };
    colorScheme?: "light" | "dark";
    reducedMotion?: "reduce" | "no-preference";
    locale?: string;
  } = {},
): Promise<{ page: Page; context: BrowserContext; watch: PageWatch }> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1024, height: 720 },
    colorScheme: options.colorScheme ?? "light",
    reducedMotion: options.reducedMotion ?? "no-preference",
    // The browser's language (navigator.languages, Accept-Language).
    locale: options.locale ?? "en-US",
  });
  const page = await context.newPage();
  const watch: PageWatch = { pageErrors: [], warnings: [] };
  page.on("pageerror", (error) => watch.pageErrors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "warning" || message.type() === "error") {
      watch.warnings.push(message.text());
    }
  });
  return { page, context, watch };
}

/**
 * The host page script that boots the widget and records what reaches
 * `onSecurityError` in `window.parleyErrors` and readiness in `window.parleyReady`.
 * Served as a file (never inline) so the same pages also run under strict CSPs.
 *
 * @param bootOptions JSON-safe boot options (callbacks are added here)
 * @returns JavaScript source
 */
export function bootScript(bootOptions: Record<string, unknown>): string {
  return `window.parleyErrors = [];
window.parleyReady = false;
var parleyOptions = ${JSON.stringify(bootOptions)};
// A page that fetches tokens from its own server defines window.parleyGetUserJWT first.
if (window.parleyGetUserJWT) parleyOptions.getUserJWT = window.parleyGetUserJWT;
window.ChatWidget.boot(Object.assign(parleyOptions, {
  onSecurityError: function (error, code) {
    window.parleyErrors.push({ code: code, errorCode: error.code, isError: error instanceof Error,
      retryAfter: error.retryAfter, reason: error.reason, message: error.message });
  },
  onReady: function () { window.parleyReady = true; }
}));
`;
}

/**
 * A host page: some content, then the given scripts in order (by `src`).
 *
 * @returns HTML
 */
export function hostPage(
  scripts: readonly string[],
  body = "<h1>Acme shop</h1>",
): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="color-scheme" content="light dark"><title>Acme shop</title></head>
<body><main>${body}<p>Welcome to the shop.</p><button id="page-button">A page button</button></main>
${scripts.map((src) => `<script src="${src}"></script>`).join("\n")}
</body></html>`;
}

/**
 * Waits until the page's `onSecurityError` received at least `count` errors.
 *
 * @returns the recorded errors
 */
export async function securityErrors(
  page: Page,
  count = 1,
): Promise<RecordedError[]> {
  await page.waitForFunction(
    (n) =>
      (globalThis as unknown as { parleyErrors: unknown[] }).parleyErrors
        ?.length >= n,
    count,
    {
      timeout: 15_000,
    },
  );
  return await page.evaluate(() =>
    (globalThis as unknown as { parleyErrors: RecordedError[] }).parleyErrors
  );
}

/** An error as recorded by `bootScript`'s handler. */
export interface RecordedError {
  readonly code: string;
  readonly errorCode: string;
  readonly isError: boolean;
  readonly retryAfter?: number;
  readonly reason?: string;
  readonly message: string;
}

/**
 * Waits until the widget called `onReady`.
 *
 * @returns nothing
 */
export async function widgetReady(page: Page): Promise<void> {
  await page.waitForFunction(
    () =>
      (globalThis as unknown as { parleyReady: boolean }).parleyReady === true,
    null,
    {
      timeout: 15_000,
    },
  );
}

/**
 * The widget's parts on a page, found through its open shadow root.
 *
 * @returns locators of the host element, launcher, badge, panel, message log,
 *   input, typing line and away form
 */
export function widgetParts(page: Page): {
  host: Locator;
  launcher: Locator;
  badge: Locator;
  panel: Locator;
  log: Locator;
  input: Locator;
  typing: Locator;
  away: Locator;
} {
  const host = page.locator("parley-chat");
  return {
    host,
    launcher: host.locator("button.launcher"),
    badge: host.locator(".badge"),
    panel: host.getByRole("dialog"),
    log: host.getByRole("log"),
    input: host.getByRole("textbox", { name: "Message", exact: true }),
    typing: host.locator(".typing"),
    away: host.locator("form.away"),
  };
}

/** The errors the page's `onSecurityError` received so far. */
export async function recordedErrors(page: Page): Promise<RecordedError[]> {
  return await page.evaluate(() =>
    (globalThis as unknown as { parleyErrors?: RecordedError[] })
      .parleyErrors ?? []
  );
}

/**
 * Lets a test hide and show pages of a context as a background tab would be:
 * `document.hidden` and `document.visibilityState` follow `setPageHidden`,
 * which also fires `visibilitychange`. Headless Chromium keeps every page
 * visible, so the override is injected before any page script runs.
 *
 * @returns nothing
 */
export async function emulateVisibility(
  context: BrowserContext,
): Promise<void> {
  await context.addInitScript(() => {
    let hidden = false;
    Object.defineProperty(Document.prototype, "hidden", {
      configurable: true,
      get: () => hidden,
    });
    Object.defineProperty(Document.prototype, "visibilityState", {
      configurable: true,
      get: () => hidden ? "hidden" : "visible",
    });
    (globalThis as unknown as { parleySetHidden: (value: boolean) => void })
      .parleySetHidden = (value) => {
        hidden = value;
        document.dispatchEvent(new Event("visibilitychange"));
      };
  });
}

/**
 * Hides or shows a page of a context prepared with `emulateVisibility`.
 *
 * @returns nothing
 */
export async function setPageHidden(
  page: Page,
  hidden: boolean,
): Promise<void> {
  await page.evaluate(
    (value) =>
      (globalThis as unknown as { parleySetHidden: (value: boolean) => void })
        .parleySetHidden(value),
    hidden,
  );
}

/**
 * Waits until an element's animations (the panel's opening) have finished, so
 * its box can be measured.
 *
 * @returns nothing
 */
export async function animationsFinished(locator: Locator): Promise<void> {
  await locator.evaluate((element) =>
    Promise.all(element.getAnimations().map((animation) => animation.finished))
  );
}
