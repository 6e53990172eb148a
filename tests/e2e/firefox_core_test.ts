/**
 * The core of the widget suite in a second engine: Debian's Firefox ESR,
 * headless over WebDriver BiDi. One server, one host site and one Firefox for
 * every row; each row opens a fresh browser context (its own storage).
 *
 * Rows: a visitor's page views (the launcher on every page, one boot, no
 * stream), writing opens the stream and the agent's reply arrives live and is
 * there on the next page, and after `shutdown()` a reload starts empty;
 * storage that throws boots on every page; the shadow DOM under a strict CSP;
 * keyboard only; a narrow viewport; right to left.
 */

import assert from "node:assert/strict";
import type { ElementHandle, Page } from "puppeteer-core";
import { startServer } from "../server_process.ts";
import { bootScript, hostPage, startHostSite } from "./browser.ts";
import { launchFirefox, openFirefoxPage } from "./firefox.ts";
import {
  ACME_ADMIN_KEY,
  ACME_GRACE_KEY,
  ACME_JWT_SECRET,
  ACME_WEBHOOK_SECRET,
  e2ePolicy,
  SHOP_HOST,
} from "./widget_fixture.ts";

/** Waits until the page's boot script heard `onReady`. */
async function ready(page: Page): Promise<void> {
  await page.waitForFunction(
    () =>
      (globalThis as unknown as { parleyReady: boolean }).parleyReady === true,
    { timeout: 15_000 },
  );
}

/** An element inside the widget's shadow root, once it is visible. */
async function part(page: Page, selector: string): Promise<ElementHandle> {
  const found = await page.waitForSelector(`parley-chat >>> ${selector}`, {
    visible: true,
    timeout: 15_000,
  });
  assert.ok(found, selector);
  return found as ElementHandle;
}

/** Waits until the widget's log shows a message with this text. */
async function shown(page: Page, selector: string, text: string) {
  await page.waitForFunction(
    (selector, text) =>
      [
        ...document.querySelector("parley-chat")!.shadowRoot!
          .querySelectorAll(selector),
      ].some((item) => item.textContent?.includes(text)),
    { timeout: 15_000 },
    selector,
    text,
  );
}

/** The focused element inside the widget (or the page): `tag.class`. */
function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    let element = document.activeElement;
    while (element?.shadowRoot?.activeElement) {
      element = element.shadowRoot.activeElement;
    }
    return element
      ? `${element.tagName.toLowerCase()}.${element.className}`
      : "none";
  });
}

/** Waits until the panel's opening animation has finished. */
async function settled(page: Page): Promise<void> {
  await page.evaluate(() =>
    Promise.all(
      document.querySelector("parley-chat")!.shadowRoot!
        .querySelector(".panel")!.getAnimations().map((animation) =>
          animation.finished
        ),
    )
  );
}

Deno.test("Firefox: the widget's core suite", async (t) => {
  const site = startHostSite();
  await using server = await startServer({
    policy: e2ePolicy(
      site.origin(SHOP_HOST),
      site.url("127.0.0.1", "/webhook"),
    ),
    env: {
      ACME_JWT_SECRET,
      ACME_ADMIN_KEY,
      ACME_GRACE_KEY,
      ACME_WEBHOOK_SECRET,
    },
  });
  const browser = await launchFirefox();
  const widgetUrl = `${server.baseUrl}/widget.js`;
  /** Serves a host page that boots the widget with these options. */
  const hostUrl = (name: string, boot: Record<string, unknown> = {}) => {
    site.serve(
      `/${name}/boot.js`,
      bootScript({
        apiBaseUrl: server.baseUrl,
        organizationId: "acme",
        ...boot,
      }),
    );
    site.serve(`/${name}`, hostPage([widgetUrl, `/${name}/boot.js`]));
    return site.url(SHOP_HOST, `/${name}`);
  };

  try {
    await t.step(
      "page views: the launcher on every page, one boot and no stream; writing opens one, the reply arrives live and is there on the next page",
      async () => {
        const { page, watch } = await openFirefoxPage(browser);
        const calls: string[] = [];
        page.on("request", (request) => {
          // CORS preflights (OPTIONS) are the browser's, not calls.
          const method = /\/rpc\/([\w.]+)$/.exec(request.url())?.[1];
          if (method && request.method() === "POST") calls.push(method);
        });
        const url = hostUrl("views");
        for (let view = 0; view < 5; view++) {
          await page.goto(url);
          await ready(page);
          await part(page, "button.launcher");
        }
        assert.deepEqual(calls, ["chat.boot"], "one boot for five page views");

        await (await part(page, "button.launcher")).click();
        const input = await part(page, "textarea");
        await input.type("Hello from Firefox");
        await page.keyboard.press("Enter");
        await shown(
          page,
          'li.visitor:not([data-key^="local:"])',
          "Hello from Firefox",
        );
        const inbox = await server.rpc("agent.listConversations", {
          organizationId: "acme",
        }, { token: ACME_ADMIN_KEY });
        const conversationId = inbox.body.data.conversations[0].id;
        const started = performance.now();
        const reply = await server.rpc("agent.reply", {
          organizationId: "acme",
          conversationId,
          text: "Answered live",
        }, { token: ACME_ADMIN_KEY });
        assert.equal(reply.status, 200);
        await shown(page, "li.agent", "Answered live");
        console.log(
          `Firefox: live reply shown ${
            Math.round(performance.now() - started)
          } ms after agent.reply`,
        );
        assert.ok(calls.includes("chat.stream"), calls.join(" "));

        await page.goto(url);
        await ready(page);
        await (await part(page, "button.launcher")).click();
        await shown(page, "li.agent", "Answered live");

        // After shutdown() and a reload, an anonymous visitor starts empty.
        await page.evaluate(() =>
          (globalThis as unknown as { ChatWidget: { shutdown(): void } })
            .ChatWidget.shutdown()
        );
        assert.equal(
          await page.evaluate(() =>
            localStorage.getItem("parley:visitor:acme")
          ),
          null,
        );
        await page.goto(url);
        await ready(page);
        await (await part(page, "button.launcher")).click();
        await shown(page, "li.greeting", "Hi! How can we help?");
        assert.equal(
          await page.evaluate(() =>
            document.querySelector("parley-chat")!.shadowRoot!
              .querySelectorAll("li.agent:not(.greeting), li.visitor").length
          ),
          0,
        );
        assert.deepEqual(watch.pageErrors, []);
        await page.browserContext().close();
      },
    );

    await t.step(
      "localStorage that throws (private mode, blocked storage): a boot per page, the launcher on each",
      async () => {
        const { page, watch } = await openFirefoxPage(browser);
        await page.evaluateOnNewDocument(() => {
          for (const name of ["getItem", "setItem", "removeItem"] as const) {
            Storage.prototype[name] = () => {
              throw new DOMException(
                "The operation is insecure.",
                "SecurityError",
              );
            };
          }
        });
        let boots = 0;
        page.on("request", (request) => {
          if (
            request.method() === "POST" &&
            request.url().endsWith("/rpc/chat.boot")
          ) boots++;
        });
        const url = hostUrl("no-storage");
        for (let view = 0; view < 3; view++) {
          await page.goto(url);
          await ready(page);
          await part(page, "button.launcher");
        }
        assert.equal(boots, 3);
        assert.deepEqual(
          await page.evaluate(() =>
            (globalThis as unknown as { parleyErrors: unknown[] }).parleyErrors
          ),
          [],
        );
        assert.deepEqual(watch.pageErrors, []);
        await page.browserContext().close();
      },
    );

    await t.step(
      "the shadow DOM under a strict CSP (style-src 'none'): styled, chatting, no violation",
      async () => {
        const csp = [
          "default-src 'none'",
          `script-src ${server.baseUrl}`,
          `connect-src ${server.baseUrl}`,
          "style-src 'none'",
          // Firefox fetches the page's /favicon.ico itself; the widget loads no image.
          "img-src 'self'",
          "base-uri 'none'",
        ].join("; ");
        site.serve("/favicon.ico", { body: "", contentType: "image/x-icon" });
        site.serve("/strict", {
          body:
            `<!doctype html><html><head><title>Strict</title></head><body><p>Shop</p>
<script src="${widgetUrl}" data-organization-id="acme" async></script></body></html>`,
          headers: { "Content-Security-Policy": csp },
        });
        const { page, watch } = await openFirefoxPage(browser);
        await page.evaluateOnNewDocument(() => {
          const record = globalThis as unknown as { violations: string[] };
          record.violations = [];
          document.addEventListener("securitypolicyviolation", (event) => {
            record.violations.push(
              `${event.violatedDirective} ${event.blockedURI}`,
            );
          });
        });
        await page.goto(site.url(SHOP_HOST, "/strict"));
        const launcher = await part(page, "button.launcher");
        assert.deepEqual(
          await launcher.evaluate((button) => {
            const style = getComputedStyle(button);
            return [style.borderRadius, style.backgroundColor];
          }),
          ["28px", "rgb(11, 95, 255)"],
        );
        assert.equal(
          await page.evaluate(() =>
            document.querySelector("parley-chat")?.shadowRoot?.mode
          ),
          "open",
        );
        await launcher.click();
        await (await part(page, "textarea")).type("Hello under CSP");
        await page.keyboard.press("Enter");
        await shown(
          page,
          'li.visitor:not([data-key^="local:"])',
          "Hello under CSP",
        );
        assert.deepEqual(
          await page.evaluate(() =>
            (globalThis as unknown as { violations: string[] }).violations
          ),
          [],
        );
        assert.deepEqual(watch.pageErrors, []);
        await page.browserContext().close();
      },
    );

    await t.step(
      "keyboard only: Tab to the launcher, Enter opens with focus in the field, Enter sends, Esc closes and focus returns",
      async () => {
        const { page } = await openFirefoxPage(browser);
        await page.goto(hostUrl("keyboard"));
        await ready(page);
        await part(page, "button.launcher");
        const path: string[] = [];
        for (let tab = 0; tab < 2; tab++) {
          await page.keyboard.press("Tab");
          path.push(await focused(page));
        }
        assert.deepEqual(path, ["button.", "button.launcher"]);
        await page.keyboard.press("Enter");
        await part(page, ".panel");
        assert.equal(await focused(page), "textarea.");
        await page.keyboard.type("Typed without a mouse");
        await page.keyboard.press("Enter");
        await shown(
          page,
          'li.visitor:not([data-key^="local:"])',
          "Typed without a mouse",
        );
        await page.keyboard.press("Escape");
        await page.waitForSelector("parley-chat >>> .panel", { hidden: true });
        assert.equal(await focused(page), "button.launcher");
        await page.browserContext().close();
      },
    );

    await t.step(
      "a 375 px viewport: the open panel fills the page beside the scrollbar Firefox keeps",
      async () => {
        const { page } = await openFirefoxPage(browser, {
          viewport: { width: 375, height: 667 },
        });
        await page.goto(hostUrl("narrow"));
        await ready(page);
        await (await part(page, "button.launcher")).click();
        await part(page, ".panel");
        await settled(page);
        const [box, width, height] = await page.evaluate(() => {
          const panel = document.querySelector("parley-chat")!.shadowRoot!
            .querySelector(".panel")!.getBoundingClientRect();
          return [
            {
              x: panel.x,
              y: panel.y,
              width: panel.width,
              height: panel.height,
            },
            document.documentElement.clientWidth,
            innerHeight,
          ] as const;
        });
        assert.equal(box.x, 0);
        assert.equal(box.y, 0);
        assert.ok(box.width >= width, `${box.width} < ${width}`);
        assert.equal(box.height, height);
        await page.browserContext().close();
      },
    );

    await t.step(
      "right to left: boot({ language: 'ar' }) gives dir=rtl, Arabic strings and a mirrored composer",
      async () => {
        const arabic = JSON.parse(
          await Deno.readTextFile(
            new URL("../../widget/locales/ar.json", import.meta.url),
          ),
        );
        const { page } = await openFirefoxPage(browser);
        await page.goto(hostUrl("rtl", { language: "ar" }));
        await ready(page);
        await page.waitForFunction(
          () =>
            document.querySelector("parley-chat")?.shadowRoot?.querySelector(
              ".root",
            )?.getAttribute("lang") === "ar",
          { timeout: 15_000 },
        );
        await (await part(page, "button.launcher")).click();
        await part(page, ".panel");
        await settled(page);
        const layout = await page.evaluate(() => {
          const root = document.querySelector("parley-chat")!.shadowRoot!;
          const box = (selector: string) =>
            root.querySelector(selector)!.getBoundingClientRect().x;
          return {
            dir: root.querySelector(".root")!.getAttribute("dir"),
            send: root.querySelector("form.composer button.send")!.textContent,
            sendX: box("form.composer button.send"),
            inputX: box("textarea"),
          };
        });
        assert.equal(layout.dir, "rtl");
        assert.equal(layout.send, arabic.send);
        assert.ok(layout.sendX < layout.inputX, JSON.stringify(layout));
        await page.browserContext().close();
      },
    );
  } finally {
    await browser.close();
    await site.close();
  }
});
