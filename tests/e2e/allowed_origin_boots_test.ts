import assert from "node:assert/strict";
import { recordedErrors, widgetParts, widgetReady } from "./browser.ts";
import { openWidgetFixture } from "./widget_fixture.ts";

Deno.test("an allowed origin boots the widget and shows the launcher with the configured title", async () => {
  await using fixture = await openWidgetFixture();
  const { page, watch } = await fixture.visit({
    boot: { organizationId: "acme" },
  });
  await widgetReady(page);
  const { launcher, panel } = widgetParts(page);
  await launcher.waitFor({ state: "visible" });
  assert.equal(await launcher.getAttribute("aria-label"), "Acme Support");
  assert.equal(await launcher.getAttribute("aria-expanded"), "false");
  assert.equal(await panel.isVisible(), false);
  assert.deepEqual(await recordedErrors(page), []);
  assert.deepEqual(watch.pageErrors, []);
});

Deno.test("data attributes on the script tag boot the widget with no page script", async () => {
  await using fixture = await openWidgetFixture();
  fixture.site.serve("/tagged", {
    body:
      `<!doctype html><html><head><title>Tagged</title></head><body><p>Shop</p>
<script src="${fixture.widgetUrl}" data-organization-id="acme" async></script></body></html>`,
  });
  const { page, watch } = await fixture.visit({ boot: null });
  await page.goto(fixture.site.url("shop.acme.test", "/tagged"));
  await widgetParts(page).launcher.waitFor({
    state: "visible",
    timeout: 15_000,
  });
  assert.deepEqual(watch.pageErrors, []);
});
