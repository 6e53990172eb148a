import assert from "node:assert/strict";
import { widgetParts, widgetReady } from "./browser.ts";
import { mintChatToken } from "./chat_token.ts";
import {
  ACME_JWT_SECRET,
  openWidgetFixture,
  SHOP_HOST,
} from "./widget_fixture.ts";

Deno.test("a verified user finds their conversation on another device; an unverified user_id finds nothing", async () => {
  await using fixture = await openWidgetFixture();
  const token = () =>
    mintChatToken(ACME_JWT_SECRET, {
      iss: fixture.site.origin(SHOP_HOST),
      sub: "user-7",
      org_id: "acme-optional",
    });

  // First device: a signed-in user writes.
  const laptop = await fixture.visit({
    boot: { organizationId: "acme-optional", userJWT: token() },
  });
  await widgetReady(laptop.page);
  const first = widgetParts(laptop.page);
  await first.launcher.click();
  await first.input.fill("My order #1 never arrived");
  await first.input.press("Enter");
  await first.log.locator('li.visitor:not([data-key^="local:"])', {
    hasText: "My order #1",
  }).waitFor();

  // Second device (a fresh browser context, no shared storage), fresh token.
  const phone = await fixture.visit({
    boot: { organizationId: "acme-optional", userJWT: token() },
  });
  await widgetReady(phone.page);
  const second = widgetParts(phone.page);
  await second.launcher.click();
  await second.log.locator("li.visitor", {
    hasText: "My order #1 never arrived",
  }).waitFor();

  // An anonymous visitor claiming the same user_id, email and name sees none of it.
  const impostor = await fixture.visit({
    boot: {
      organizationId: "acme-optional",
      user_id: "user-7",
      email: "ada@example.com",
      name: "Ada Lovelace",
    },
  });
  await widgetReady(impostor.page);
  const third = widgetParts(impostor.page);
  await third.launcher.click();
  await third.log.getByText("Hello!").waitFor();
  assert.equal(await third.log.locator("li.visitor").count(), 0);
  assert.equal(await third.log.getByText("My order #1").count(), 0);
  for (const { watch } of [laptop, phone, impostor]) {
    assert.deepEqual(watch.pageErrors, []);
  }
});
