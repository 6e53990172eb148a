import assert from "node:assert/strict";
import { bootScript, hostPage, openPage, widgetReady } from "./browser.ts";
import { openWidgetFixture, SHOP_HOST } from "./widget_fixture.ts";

Deno.test("an allowed origin boots the widget and shows the launcher", async () => {
  await using fixture = await openWidgetFixture();
  const { site } = fixture;
  site.serve(
    "/boot.js",
    bootScript({ organizationId: "acme", apiBaseUrl: fixture.server.baseUrl }),
  );
  site.serve("/", hostPage([fixture.widgetUrl, "/boot.js"]));
  const { page, context, watch } = await openPage(fixture.browser);
  try {
    await page.goto(site.url(SHOP_HOST, "/"));
    await widgetReady(page);
    const launcher = page.locator("parley-chat").getByRole("button", {
      name: "Acme Support",
    });
    await launcher.waitFor({ state: "visible" });
    assert.equal(await launcher.getAttribute("aria-expanded"), "false");
    assert.deepEqual(
      await page.evaluate(() =>
        (globalThis as unknown as { parleyErrors: unknown[] }).parleyErrors
      ),
      [],
    );
    assert.deepEqual(watch.pageErrors, []);
  } finally {
    await context.close();
  }
});
