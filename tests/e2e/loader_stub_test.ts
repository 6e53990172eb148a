import assert from "node:assert/strict";
import { LOADER_SNIPPET } from "../../widget/loader_snippet.ts";
import { bootScript, widgetParts, widgetReady } from "./browser.ts";
import { openWidgetFixture, SHOP_HOST } from "./widget_fixture.ts";

Deno.test("calls made on the loader stub before widget.js loads are replayed in order", async () => {
  await using fixture = await openWidgetFixture();
  const { site } = fixture;
  site.serve("/stub.js", LOADER_SNIPPET);
  site.serve(
    "/early-boot.js",
    `${
      bootScript({ organizationId: "acme", apiBaseUrl: fixture.server.baseUrl })
    }
window.parleyStubbed = Array.isArray(window.ChatWidget.q) && !window.ChatWidget.version;
window.ChatWidget.show();
`,
  );
  // widget.js comes last and async, as the embed instructions say.
  site.serve("/stubbed", {
    body: `<!doctype html><html><head><title>Stubbed</title>
<script src="/stub.js"></script><script src="/early-boot.js"></script></head>
<body><p>Shop</p><script src="${fixture.widgetUrl}" async></script></body></html>`,
  });
  const { page, watch } = await fixture.newPage();
  await page.goto(site.url(SHOP_HOST, "/stubbed"));
  await widgetReady(page);
  assert.equal(
    await page.evaluate(() =>
      (globalThis as unknown as { parleyStubbed: boolean }).parleyStubbed
    ),
    true,
  );
  const { launcher, panel } = widgetParts(page);
  await panel.waitFor({ state: "visible" }); // the queued show() opened it
  assert.equal(await launcher.getAttribute("aria-expanded"), "true");
  assert.equal(
    await page.evaluate(() =>
      typeof (globalThis as unknown as { ChatWidget: { version?: string } })
        .ChatWidget.version
    ),
    "string",
  );
  assert.deepEqual(watch.pageErrors, []);
});
