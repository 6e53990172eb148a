import assert from "node:assert/strict";
import { securityErrors, widgetParts } from "./browser.ts";
import { openWidgetFixture } from "./widget_fixture.ts";

Deno.test("an unknown organization gets ORGANIZATION_NOT_FOUND and no widget", async () => {
  await using fixture = await openWidgetFixture();
  const { page, watch } = await fixture.visit({
    boot: { organizationId: "no-such-org" },
  });
  const [error] = await securityErrors(page);
  assert.equal(error?.code, "ORGANIZATION_NOT_FOUND");
  assert.equal(await widgetParts(page).host.count(), 0);
  assert.deepEqual(watch.pageErrors, []);
});
