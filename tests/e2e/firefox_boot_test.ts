import assert from "node:assert/strict";
import { startServer } from "../server_process.ts";
import { bootScript, hostPage, startHostSite } from "./browser.ts";
import { firefoxPrefs, launchFirefox, openFirefoxPage } from "./firefox.ts";
import {
  ACME_ADMIN_KEY,
  ACME_GRACE_KEY,
  ACME_JWT_SECRET,
  ACME_WEBHOOK_SECRET,
  e2ePolicy,
  SHOP_HOST,
} from "./widget_fixture.ts";

Deno.test("Firefox: an allowed origin boots the widget and shows the launcher inside its open shadow root", async () => {
  const site = startHostSite();
  try {
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
    site.serve(
      "/boot.js",
      bootScript({ apiBaseUrl: server.baseUrl, organizationId: "acme" }),
    );
    site.serve("/", hostPage([`${server.baseUrl}/widget.js`, "/boot.js"]));
    const browser = await launchFirefox();
    try {
      const { page, watch } = await openFirefoxPage(browser);
      await page.goto(site.url(SHOP_HOST, "/"));
      assert.equal(
        await page.evaluate(() => location.origin),
        site.origin(SHOP_HOST),
      );
      await page.waitForFunction(
        () =>
          (globalThis as unknown as { parleyReady: boolean }).parleyReady ===
            true,
        { timeout: 15_000 },
      );
      const launcher = await page.waitForSelector(
        "parley-chat >>> button.launcher",
        { visible: true, timeout: 15_000 },
      );
      assert.equal(
        await launcher?.evaluate((button) => button.getAttribute("aria-label")),
        "Acme Support",
      );
      assert.equal(
        await page.evaluate(() =>
          document.querySelector("parley-chat")?.shadowRoot?.mode
        ),
        "open",
      );
      assert.deepEqual(
        await page.evaluate(() =>
          (globalThis as unknown as { parleyErrors: unknown[] }).parleyErrors
        ),
        [],
      );
      assert.deepEqual(watch.pageErrors, []);
    } finally {
      await browser.close();
    }
  } finally {
    await site.close();
  }
});

Deno.test("Firefox: launch options give every page the dark scheme, reduced motion and the visitor's languages", async () => {
  const site = startHostSite();
  site.serve("/", hostPage([]));
  const browser = await launchFirefox({
    colorScheme: "dark",
    reducedMotion: "reduce",
    languages: ["de-AT", "de", "en"],
  });
  try {
    const { page } = await openFirefoxPage(browser);
    await page.goto(site.url(SHOP_HOST, "/"));
    assert.deepEqual(
      await page.evaluate(() => ({
        dark: matchMedia("(prefers-color-scheme: dark)").matches,
        reduce: matchMedia("(prefers-reduced-motion: reduce)").matches,
        languages: [...navigator.languages],
      })),
      { dark: true, reduce: true, languages: ["de-AT", "de", "en"] },
    );
  } finally {
    await browser.close();
    await site.close();
  }
});

Deno.test("firefoxPrefs() resolves only written-out host names", () => {
  assert.equal(
    firefoxPrefs({ hosts: ["shop.acme.test", "evil.test"] })[
      "network.dns.localDomains"
    ],
    "shop.acme.test,evil.test",
  );
  assert.throws(() => firefoxPrefs({ hosts: ["*.test"] }), TypeError);
});
