import assert from "node:assert/strict";
import {
  ACME_ADMIN_KEY,
  e2ePolicy,
  openWidgetFixture,
} from "./widget_fixture.ts";

/** The e2e policy with acme keeping only its newest 3 messages. */
function boundedPolicy(shopOrigin: string, webhookUrl: string): string {
  return e2ePolicy(shopOrigin, webhookUrl).replace(
    "    webhook: {",
    "    retention: { conversations: 90d, messages: 3 }\n    webhook: {",
  );
}

Deno.test("the inbox says how many older messages a conversation's bound removed", async () => {
  await using fixture = await openWidgetFixture({ policy: boundedPolicy });
  const boot = await fixture.server.rpc("chat.boot", {
    organizationId: "acme",
  }, { origin: fixture.site.origin("shop.acme.test") });
  assert.equal(boot.status, 200, JSON.stringify(boot.body));
  for (const text of ["one", "two", "three", "four", "five"]) {
    const sent = await fixture.server.rpc("chat.sendMessage", { text }, {
      origin: fixture.site.origin("shop.acme.test"),
      token: boot.body.data.session.token,
    });
    assert.equal(sent.status, 200);
  }
  const { page, watch } = await fixture.openInbox(ACME_ADMIN_KEY);
  await page.locator("#conversations button", { hasText: "five" }).click();
  await page.locator("#messages li.notice", {
    hasText: "2 older messages were removed",
  }).waitFor();
  const shown = await page.locator("#messages li.visitor").allInnerTexts();
  assert.deepEqual(
    shown.map((text) => text.split("\n")[0]),
    ["three", "four", "five"],
  );
  assert.deepEqual(watch.pageErrors, []);
});
