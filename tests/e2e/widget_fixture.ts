/**
 * Everything a widget browser test needs, started together and disposed
 * together: the real Parley server (child process, temp KV) with a policy for
 * the host site's port, the host site, and headless Chromium.
 *
 * @module
 */

import type { Browser } from "playwright-core";
import { type ServerProcess, startServer } from "../server_process.ts";
import { type HostSite, launchChromium, startHostSite } from "./browser.ts";

/** The host where the shop's pages live (allowed by the policy). */
export const SHOP_HOST = "shop.acme.test";
/** A host no policy allows. */
export const EVIL_HOST = "evil.test";

/** HS256 secret of `acme-secure`; the tests mint tokens with it. */
export const ACME_JWT_SECRET = "e2e-acme-jwt-secret-0123456789abcdef";
/** Admin key of `acme`, for replying as an agent. */
export const ACME_ADMIN_KEY = "e2e-acme-admin-key-0123456789abcdef";

/** A running server, host site and browser. */
export interface WidgetFixture extends AsyncDisposable {
  readonly server: ServerProcess;
  readonly site: HostSite;
  readonly browser: Browser;
  /** `<server>/widget.js` */
  readonly widgetUrl: string;
}

/**
 * The e2e policy: `acme` (open chat), `acme-secure` (JWT required) and
 * `tight` (3 requests a minute), all allowing only the shop's origin.
 *
 * @returns policy text
 */
export function e2ePolicy(shopOrigin: string): string {
  const allow = `{ mode: enforce, allow: ["${shopOrigin}"] }`;
  return `version: 1
defaults:
  limits: { organization: 1000/minute, ip: 1000/minute }
organizations:
  acme:
    name: Acme Inc.
    domains: ${allow}
    jwt: { mode: off }
    widget: { title: Acme Support, greeting: "Hi! How can we help?", color: "#0b5fff" }
    admin:
      keys: [{ secret: { env: ACME_ADMIN_KEY } }]
  acme-secure:
    name: Acme Secure
    domains: ${allow}
    jwt:
      mode: required
      keys: [{ id: "k1", secret: { env: ACME_JWT_SECRET } }]
    widget: { title: Acme Secure Support, greeting: "Signed in chat", color: "#00664d" }
  tight:
    name: Tight Budget
    domains: ${allow}
    jwt: { mode: off }
    limits: { organization: 3/minute }
`;
}

/**
 * Starts the host site, the server (with `e2ePolicy`) and Chromium.
 *
 * @returns the fixture; dispose it with `await using`
 */
export async function openWidgetFixture(): Promise<WidgetFixture> {
  const site = startHostSite();
  let server: ServerProcess | undefined;
  let browser: Browser | undefined;
  try {
    server = await startServer({
      policy: e2ePolicy(site.origin(SHOP_HOST)),
      env: { ACME_JWT_SECRET, ACME_ADMIN_KEY },
    });
    browser = await launchChromium();
  } catch (error) {
    await browser?.close();
    await server?.[Symbol.asyncDispose]();
    await site.close();
    throw error;
  }
  const running = server;
  const chromium = browser;
  return {
    server: running,
    site,
    browser: chromium,
    widgetUrl: `${running.baseUrl}/widget.js`,
    async [Symbol.asyncDispose]() {
      await chromium.close();
      await running[Symbol.asyncDispose]();
      await site.close();
    },
  };
}
