import assert from "node:assert/strict";
import { widgetParts } from "./browser.ts";
import { openWidgetFixture, SHOP_HOST } from "./widget_fixture.ts";

Deno.test("under a strict CSP the widget boots and chats with no violation", async () => {
  await using fixture = await openWidgetFixture();
  const { site, server } = fixture;
  const csp = [
    "default-src 'none'",
    `script-src ${server.baseUrl}`,
    `connect-src ${server.baseUrl}`,
    "style-src 'none'",
    "img-src 'none'",
    "base-uri 'none'",
    "report-uri /csp-report",
  ].join("; ");
  site.serve("/strict", {
    body:
      `<!doctype html><html><head><title>Strict</title></head><body><p>Shop</p>
<script src="${fixture.widgetUrl}" data-organization-id="acme" async></script></body></html>`,
    headers: { "Content-Security-Policy": csp },
  });
  const { page, watch } = await fixture.newPage();
  await page.goto(site.url(SHOP_HOST, "/strict"));
  const { launcher, panel, input, log } = widgetParts(page);
  await launcher.waitFor({ state: "visible", timeout: 15_000 });
  await launcher.click();
  await panel.waitFor({ state: "visible" });
  await input.fill("Hello under CSP");
  await input.press("Enter");
  await log.locator('li.visitor:not([data-key^="local:"])', {
    hasText: "Hello under CSP",
  }).waitFor();
  // Styles applied: the launcher is a 56px circle in the brand color.
  assert.equal(
    await launcher.evaluate((element) =>
      getComputedStyle(element).borderRadius
    ),
    "28px",
  );
  assert.equal(
    await launcher.evaluate((element) =>
      getComputedStyle(element).backgroundColor
    ),
    "rgb(11, 95, 255)",
  );
  await page.waitForTimeout(300); // let any report reach the site
  assert.deepEqual(
    await page.evaluate(() =>
      (globalThis as unknown as { parleyCspViolations: string[] })
        .parleyCspViolations
    ),
    [],
  );
  assert.deepEqual(site.cspReports, []);
  assert.deepEqual(
    watch.warnings.filter((line) => /Content Security Policy/i.test(line)),
    [],
  );
  assert.deepEqual(watch.pageErrors, []);
});

Deno.test("the strict CSP test would see a violation (the probe works)", async () => {
  await using fixture = await openWidgetFixture();
  fixture.site.serve("/probe", {
    body:
      `<!doctype html><html><body><p style="color: red">inline style</p></body></html>`,
    headers: {
      "Content-Security-Policy": "default-src 'none'; style-src 'none'",
    },
  });
  const { page } = await fixture.newPage();
  await page.goto(fixture.site.url(SHOP_HOST, "/probe"));
  await page.waitForFunction(() =>
    (globalThis as unknown as { parleyCspViolations: string[] })
      .parleyCspViolations.length > 0
  );
});
