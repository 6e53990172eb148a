/**
 * Real Firefox for the widget's browser tests: Debian's `firefox-esr`, driven
 * headless by puppeteer-core over WebDriver BiDi (Playwright drives only its
 * own patched Firefox builds, never a distribution's).
 *
 * What the Chromium harness sets per context, Firefox takes as preferences
 * of the launched browser, so each launch fixes them for all its pages:
 * - host names: Firefox has no `--host-resolver-rules`;
 *   `network.dns.localDomains` resolves each listed name (no wildcards) to
 *   loopback, so `http://shop.acme.test:<port>` reaches the host site;
 * - dark scheme and reduced motion: `page.emulateMediaFeatures` needs CDP,
 *   so `layout.css.prefers-color-scheme.content-override` (0 dark, 1 light)
 *   and `ui.prefersReducedMotion` (1 reduce, 0 not) stand in;
 * - the visitor's languages: `intl.accept_languages` is what
 *   `navigator.languages` reads.
 *
 * Two differences from Chromium to expect in assertions: headless Firefox
 * keeps a 12 px scrollbar (compare layouts against
 * `document.documentElement.clientWidth`, not the viewport width), and the
 * panel's 0.18 s opening animation shows half-transparent in an early
 * screenshot (wait for `element.getAnimations()` to finish first).
 *
 * @module
 */

import puppeteer, { type Browser, type Page } from "puppeteer-core";
import type { PageWatch } from "./browser.ts";
import { EVIL_HOST, SHOP_HOST } from "./widget_fixture.ts";

/** Where CI installs Firefox (apt `firefox-esr`). */
export const FIREFOX_PATH = Deno.env.get("PARLEY_FIREFOX") ??
  "/usr/bin/firefox-esr";

/** What a launched Firefox shows its pages. */
export interface FirefoxOptions {
  /**
   * Host names that resolve to 127.0.0.1, each written out (default: the
   * shop's and the evil host of the widget fixture).
   */
  readonly hosts?: readonly string[];
  /** `prefers-color-scheme` of every page (default `light`). */
  readonly colorScheme?: "light" | "dark";
  /** `prefers-reduced-motion` of every page (default `no-preference`). */
  readonly reducedMotion?: "reduce" | "no-preference";
  /** `navigator.languages`, most preferred first (default `["en-US", "en"]`). */
  readonly languages?: readonly string[];
}

/**
 * Launches headless Firefox. Fails loudly when it is missing: a browser test
 * that skips silently would prove nothing.
 *
 * @returns the browser; close it with `await browser.close()`
 * @throws {Error} when Firefox is not installed at `FIREFOX_PATH`
 */
export async function launchFirefox(
  options: FirefoxOptions = {},
): Promise<Browser> {
  try {
    await Deno.stat(FIREFOX_PATH);
  } catch {
    throw new Error(
      `Firefox not found at ${FIREFOX_PATH}: install it (apt-get install firefox-esr) or set PARLEY_FIREFOX`,
    );
  }
  return await puppeteer.launch({
    browser: "firefox",
    executablePath: FIREFOX_PATH,
    headless: true,
    extraPrefsFirefox: firefoxPrefs(options),
  });
}

/**
 * The preferences that stand in for Chromium's flags and context options.
 *
 * @returns preference names and values
 */
export function firefoxPrefs(
  options: FirefoxOptions,
): Record<string, string | number | boolean> {
  const hosts = options.hosts ?? [SHOP_HOST, EVIL_HOST];
  if (hosts.some((host) => host.includes("*") || host.includes(","))) {
    throw new TypeError(
      `Firefox resolves listed host names only, no patterns: ${
        hosts.join(" ")
      }`,
    );
  }
  return {
    "network.dns.localDomains": hosts.join(","),
    "layout.css.prefers-color-scheme.content-override":
      options.colorScheme === "dark" ? 0 : 1,
    "ui.prefersReducedMotion": options.reducedMotion === "reduce" ? 1 : 0,
    "intl.accept_languages": (options.languages ?? ["en-US", "en"]).join(","),
  };
}

/**
 * Opens a page in a fresh browser context and records its errors and
 * warnings, like the Chromium harness's `openPage`.
 *
 * @param options the viewport (default 1024×720)
 * @returns the page and the records; closing the browser closes both
 */
export async function openFirefoxPage(
  browser: Browser,
  options: { viewport?: { width: number; height: number } } = {},
): Promise<{ page: Page; watch: PageWatch }> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport(options.viewport ?? { width: 1024, height: 720 });
  const watch: PageWatch = { pageErrors: [], warnings: [] };
  page.on("pageerror", (error) => watch.pageErrors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "warn" || message.type() === "error") {
      watch.warnings.push(message.text());
    }
  });
  return { page, watch };
}
