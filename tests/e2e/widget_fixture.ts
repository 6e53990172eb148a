/**
 * Everything a widget browser test needs: the real Parley server (child
 * process, temp KV) with a policy for the host site's port, the host site,
 * and the file's headless Chromium (`sharedChromium`: one browser per test
 * file, a fresh context per page). Disposing the fixture ends its server,
 * its site and its contexts; the browser stays for the file's next test.
 *
 * @module
 */

import type { Browser, BrowserContext, Page } from "playwright-core";
import { type ServerProcess, startServer } from "../server_process.ts";
import {
  bootScript,
  emulateVisibility,
  hostPage,
  type HostSite,
  openPage,
  type PageWatch,
  sharedChromium,
  startHostSite,
} from "./browser.ts";

/** The host where the shop's pages live (allowed by the policy). */
export const SHOP_HOST = "shop.acme.test";
/** A host no policy allows. */
export const EVIL_HOST = "evil.test";

/** HS256 secret of `acme-secure`; the tests mint tokens with it. */
export const ACME_JWT_SECRET = "e2e-acme-jwt-secret-0123456789abcdef";
/** Admin key of `acme` (Ada's) and `acme-secure`, for replying as an agent. */
export const ACME_ADMIN_KEY = "e2e-acme-admin-key-0123456789abcdef";
/** Grace's admin key of `acme`: the second agent. */
export const ACME_GRACE_KEY = "e2e-acme-grace-key-0123456789abcdef";
/** Signs the webhook deliveries of `acme`. */
export const ACME_WEBHOOK_SECRET = "e2e-acme-webhook-secret-0123456789ab";
/** `acme`'s agents, as the policy names them. */
export const ADA = { id: "ada", name: "Ada Lovelace" } as const;
export const GRACE = { id: "grace", name: "Grace Hopper" } as const;
/** `widget.unansweredAfter` of `acme`, in seconds. */
export const UNANSWERED_AFTER_S = 2;

/** A webhook delivery the host site's receiver took. */
export interface WebhookDelivery {
  // deno-lint-ignore no-explicit-any -- tests read delivery JSON loosely
  readonly body: any;
  readonly text: string;
  readonly signature: string;
}

/** A running server, host site and browser. */
export interface WidgetFixture extends AsyncDisposable {
  readonly server: ServerProcess;
  readonly site: HostSite;
  readonly browser: Browser;
  /** `<server>/widget.js` */
  readonly widgetUrl: string;
  /** The policy the server started with (`e2ePolicy` for this site, unless told another). */
  readonly policy: string;
  /** Webhook deliveries to the host site's `/webhook`, in arrival order. */
  readonly webhooks: readonly WebhookDelivery[];
  /** Serves a host page that loads widget.js and boots it, and opens it in a fresh context. */
  visit(options?: VisitOptions): Promise<OpenedPage>;
  /** A fresh page (not navigated) that records CSP violations in `window.parleyCspViolations`. */
  newPage(options?: PageOptions): Promise<OpenedPage>;
  /**
   * Opens `/agent` in a fresh context and signs in with an admin key; resolves
   * once the inbox is live.
   */
  openInbox(
    key: string,
    options?: { organizationId?: string; page?: PageOptions },
  ): Promise<OpenedPage>;
  /**
   * Spends an organization's budget from the shop's origin, in a window with at
   * least `secondsLeft` to run (so a page opened next surely meets the spent
   * limit); returns the 429's `retryAfter`.
   */
  spendBudget(organizationId: string, secondsLeft: number): Promise<number>;
}

/** A page a fixture opened, in a context of its own. */
export interface OpenedPage {
  readonly page: Page;
  readonly context: BrowserContext;
  readonly watch: PageWatch;
}

/** Context settings of a page. */
export interface PageOptions {
  /** The page can be hidden and shown as a background tab (`setPageHidden`). */
  readonly hideable?: boolean;
  /** Scripts run before the page's own in every document of the context. */
  readonly initScripts?: readonly (() => void)[];
  readonly viewport?: { width: number; height: number };
  readonly colorScheme?: "light" | "dark";
  readonly reducedMotion?: "reduce" | "no-preference";
  /** The browser's language, e.g. `de-DE` (default `en-US`). */
  readonly locale?: string;
}

/** A host page to open. */
export interface VisitOptions {
  /** Boot options (without callbacks; `apiBaseUrl` defaults to the server); `null` boots nothing. */
  readonly boot?: Record<string, unknown> | null;
  /** Defaults to the shop's host. */
  readonly host?: string;
  /** Scripts before widget.js (e.g. a token fetcher). */
  readonly scriptsBefore?: readonly string[];
  /** Page content. */
  readonly body?: string;
  /** Response headers of the page (e.g. a CSP). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Context settings. */
  readonly page?: PageOptions;
}

/**
 * The e2e policy: `acme` (open chat, agents Ada and Grace, a webhook, 2 s to
 * `conversation.unanswered`), `acme-secure` (JWT required), `acme-optional`
 * (JWT optional), `acme-closed` (never within business hours), `tight`
 * (3 requests a minute) and `burst` (4 per 4 s windows), all allowing only the
 * shop's origin.
 *
 * @param webhookUrl where `acme` posts its webhook (the host site's receiver)
 * @returns policy text
 */
export function e2ePolicy(shopOrigin: string, webhookUrl: string): string {
  const allow = `{ mode: enforce, allow: ["${shopOrigin}"] }`;
  return `version: 1
defaults:
  limits: { organization: 1000/minute, ip: 1000/minute }
# The shop's webhook receiver listens on loopback, which the operator allows.
server: { allowWebhookHosts: [127.0.0.1] }
organizations:
  acme:
    name: Acme Inc.
    domains: ${allow}
    jwt: { mode: off }
    widget:
      title: Acme Support
      greeting: "Hi! How can we help?"
      color: "#0b5fff"
      unansweredAfter: ${UNANSWERED_AFTER_S}s
    admin:
      keys:
        - { id: ${ADA.id}, name: "${ADA.name}", secret: { env: ACME_ADMIN_KEY } }
        - { id: ${GRACE.id}, name: "${GRACE.name}", secret: { env: ACME_GRACE_KEY } }
    webhook: { url: "${webhookUrl}", secret: { env: ACME_WEBHOOK_SECRET } }
  acme-secure:
    name: Acme Secure
    domains: ${allow}
    jwt:
      mode: required
      keys: [{ id: "k1", secret: { env: ACME_JWT_SECRET } }]
    widget: { title: Acme Secure Support, greeting: "Signed in chat", color: "#00664d" }
    admin:
      keys: [{ secret: { env: ACME_ADMIN_KEY } }]
  acme-optional:
    name: Acme Optional
    domains: ${allow}
    jwt:
      mode: optional
      keys: [{ id: "k1", secret: { env: ACME_JWT_SECRET } }]
    widget: { title: Acme Help, greeting: "Hello!", color: "#0b5fff" }
  acme-closed:
    name: Acme Closed
    domains: ${allow}
    jwt: { mode: off }
    widget:
      title: Acme After Hours
      hours: { timezone: UTC, weekly: { mon-sun: [] } }
    admin:
      keys: [{ id: ${ADA.id}, name: "${ADA.name}", secret: { env: ACME_ADMIN_KEY } }]
  tight:
    name: Tight Budget
    domains: ${allow}
    jwt: { mode: off }
    limits: { organization: 3/minute }
  burst:
    name: Short Windows
    domains: ${allow}
    jwt: { mode: off }
    limits: { organization: 4/4s }
`;
}

/** What a fixture's server runs with, when not the e2e policy. */
export interface FixtureOptions {
  /** The policy for the shop's origin and webhook URL (default {@linkcode e2ePolicy}). */
  readonly policy?: (shopOrigin: string, webhookUrl: string) => string;
  /** Environment besides the e2e secrets. */
  readonly env?: Readonly<Record<string, string>>;
  /** The server's `PARLEY_STORE` (default: a KV file in its temp dir). */
  readonly store?: string;
}

/**
 * Starts the host site, the server (with `e2ePolicy`, unless told another)
 * and Chromium.
 *
 * @returns the fixture; dispose it with `await using`
 */
export async function openWidgetFixture(
  options: FixtureOptions = {},
): Promise<WidgetFixture> {
  const site = startHostSite();
  const webhooks: WebhookDelivery[] = [];
  site.serve("/webhook", async (request) => {
    const text = await request.text();
    webhooks.push({
      body: JSON.parse(text),
      text,
      signature: request.headers.get("parley-signature") ?? "",
    });
    return new Response(null, { status: 204 });
  });
  const policy = (options.policy ?? e2ePolicy)(
    site.origin(SHOP_HOST),
    site.url("127.0.0.1", "/webhook"),
  );
  let server: ServerProcess | undefined;
  let browser: Browser | undefined;
  try {
    server = await startServer({
      policy,
      env: {
        ACME_JWT_SECRET,
        ACME_ADMIN_KEY,
        ACME_GRACE_KEY,
        ACME_WEBHOOK_SECRET,
        ...options.env,
      },
      ...(options.store === undefined ? {} : { store: options.store }),
    });
    browser = await sharedChromium();
  } catch (error) {
    await server?.[Symbol.asyncDispose]();
    await site.close();
    throw error;
  }
  const running = server;
  const chromium = browser;
  const widgetUrl = `${running.baseUrl}/widget.js`;
  const contexts: BrowserContext[] = [];
  let pages = 0;
  const newPage = async (options: PageOptions = {}): Promise<OpenedPage> => {
    const { page, context, watch } = await openPage(chromium, options);
    contexts.push(context);
    if (options.hideable) await emulateVisibility(context);
    for (const script of options.initScripts ?? []) {
      await context.addInitScript(script);
    }
    // Injected by the browser, so it is not subject to the page's CSP.
    await context.addInitScript(() => {
      const page = globalThis as unknown as { parleyCspViolations: string[] };
      page.parleyCspViolations = [];
      document.addEventListener("securitypolicyviolation", (event) => {
        page.parleyCspViolations.push(
          `${event.violatedDirective} ${event.blockedURI}`,
        );
      });
    });
    return { page, context, watch };
  };
  return {
    server: running,
    site,
    browser: chromium,
    widgetUrl,
    policy,
    webhooks,
    async visit(options = {}) {
      const path = `/page-${++pages}`;
      const scripts = [...(options.scriptsBefore ?? []), widgetUrl];
      if (options.boot !== null) {
        site.serve(
          `${path}/boot.js`,
          bootScript({
            apiBaseUrl: running.baseUrl,
            organizationId: "acme",
            ...options.boot,
          }),
        );
        scripts.push(`${path}/boot.js`);
      }
      site.serve(path, {
        body: hostPage(scripts, options.body),
        ...(options.headers ? { headers: options.headers } : {}),
      });
      const opened = await newPage(options.page);
      await opened.page.goto(site.url(options.host ?? SHOP_HOST, path));
      return opened;
    },
    newPage,
    async openInbox(key, options = {}) {
      const opened = await newPage(options.page);
      const { page } = opened;
      await page.goto(`${running.baseUrl}/agent`);
      await page.getByLabel("Organization id").fill(
        options.organizationId ?? "acme",
      );
      await page.getByLabel("Admin key").fill(key);
      await page.getByRole("button", { name: "Open inbox" }).click();
      await page.getByRole("status").filter({ hasText: "Live" }).waitFor();
      return opened;
    },
    async spendBudget(organizationId, secondsLeft) {
      for (let window = 0; window < 3; window++) {
        const retryAfter = await spendWindow(running, site, organizationId);
        if (retryAfter >= secondsLeft) return retryAfter;
        // Too close to the window's end: wait for the next window.
        await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
      }
      throw new Error(
        `No window of ${organizationId} had ${secondsLeft} s left in 3 tries`,
      );
    },
    async [Symbol.asyncDispose]() {
      // The browser is the file's (sharedChromium); the contexts are this test's.
      for (const context of contexts) await context.close();
      await running[Symbol.asyncDispose]();
      await site.close();
    },
  };
}

/** Spends the current window of an organization's budget; returns `retryAfter`. */
async function spendWindow(
  running: ServerProcess,
  site: HostSite,
  organizationId: string,
): Promise<number> {
  for (let request = 0; request < 1000; request++) {
    const reply = await running.rpc("chat.getConfig", { organizationId }, {
      origin: site.origin(SHOP_HOST),
    });
    if (reply.status === 429) return reply.body.error.retryAfter;
  }
  throw new Error(
    `The budget of ${organizationId} did not run out in 1000 requests`,
  );
}
