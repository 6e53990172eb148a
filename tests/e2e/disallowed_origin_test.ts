import assert from "node:assert/strict";
import { securityErrors, widgetParts } from "./browser.ts";
import { EVIL_HOST, openWidgetFixture } from "./widget_fixture.ts";

Deno.test("a disallowed origin gets DOMAIN_NOT_ALLOWED and no widget at all", async () => {
  await using fixture = await openWidgetFixture();
  const { page, watch } = await fixture.visit({
    host: EVIL_HOST,
    boot: { organizationId: "acme" },
  });
  const [error] = await securityErrors(page);
  assert.equal(error?.code, "DOMAIN_NOT_ALLOWED");
  assert.equal(error?.errorCode, "DOMAIN_NOT_ALLOWED");
  assert.equal(error?.isError, true);
  assert.equal(await widgetParts(page).host.count(), 0);
  assert.deepEqual(watch.pageErrors, []);
});

Deno.test("without onSecurityError a refused boot warns once on the console", async () => {
  await using fixture = await openWidgetFixture();
  fixture.site.serve(
    "/no-handler.js",
    `window.ChatWidget.boot({ organizationId: "acme", apiBaseUrl: ${
      JSON.stringify(fixture.server.baseUrl)
    } });`,
  );
  const { page, watch } = await fixture.visit({ host: EVIL_HOST, boot: null });
  await page.addScriptTag({ url: "/no-handler.js" });
  const deadline = Date.now() + 10_000;
  while (
    !watch.warnings.some((line) => line.includes("DOMAIN_NOT_ALLOWED")) &&
    Date.now() < deadline
  ) {
    await page.waitForTimeout(100);
  }
  await page.waitForTimeout(500); // room for a second warning, which must not come
  assert.equal(
    watch.warnings.filter((line) => line.startsWith("Parley chat:")).length,
    1,
  );
  assert.ok(watch.warnings.some((line) => line.includes("DOMAIN_NOT_ALLOWED")));
  assert.equal(await widgetParts(page).host.count(), 0);
  assert.deepEqual(watch.pageErrors, []);
});
