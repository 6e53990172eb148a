import assert from "node:assert/strict";
import { securityErrors, widgetParts, widgetReady } from "./browser.ts";
import { openWidgetFixture } from "./widget_fixture.ts";

Deno.test("a spent limit reaches onSecurityError as RATE_LIMITED with retryAfter, and no widget", async () => {
  await using fixture = await openWidgetFixture();
  await fixture.spendBudget("tight", 10);
  const { page, watch } = await fixture.visit({
    boot: { organizationId: "tight" },
  });
  const [error] = await securityErrors(page);
  assert.equal(error?.code, "RATE_LIMITED");
  assert.equal(typeof error?.retryAfter, "number");
  // The rest of the 60 s window, plus up to 5 s of jitter (rate_limit_headers.ts).
  assert.ok(error!.retryAfter! > 0 && error!.retryAfter! <= 60 + 5);
  assert.equal(await widgetParts(page).host.count(), 0);
  assert.deepEqual(watch.pageErrors, []);
});

Deno.test("the widget waits retryAfter, retries and boots once the window resets", async () => {
  await using fixture = await openWidgetFixture();
  await fixture.spendBudget("burst", 3);
  const { page, watch } = await fixture.visit({
    boot: { organizationId: "burst" },
  });
  const [error] = await securityErrors(page);
  assert.equal(error?.code, "RATE_LIMITED");
  await widgetReady(page);
  await widgetParts(page).launcher.waitFor({ state: "visible" });
  assert.deepEqual(watch.pageErrors, []);
});
