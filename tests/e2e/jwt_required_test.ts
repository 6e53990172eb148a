import assert from "node:assert/strict";
import { securityErrors, widgetParts } from "./browser.ts";
import { openWidgetFixture } from "./widget_fixture.ts";

Deno.test("JWT required and no token: JWT_REQUIRED and no widget", async () => {
  await using fixture = await openWidgetFixture();
  const { page, watch } = await fixture.visit({
    boot: { organizationId: "acme-secure" },
  });
  const [error] = await securityErrors(page);
  assert.equal(error?.code, "JWT_REQUIRED");
  assert.equal(await widgetParts(page).host.count(), 0);
  assert.deepEqual(watch.pageErrors, []);
});
