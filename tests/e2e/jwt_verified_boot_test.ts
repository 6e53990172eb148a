import assert from "node:assert/strict";
import { recordedErrors, widgetParts, widgetReady } from "./browser.ts";
import { mintChatToken } from "./chat_token.ts";
import {
  ACME_ADMIN_KEY,
  ACME_JWT_SECRET,
  openWidgetFixture,
  SHOP_HOST,
} from "./widget_fixture.ts";

Deno.test("a token minted by jsonwebtoken boots a verified visitor", async () => {
  await using fixture = await openWidgetFixture();
  const userJWT = mintChatToken(ACME_JWT_SECRET, {
    iss: fixture.site.origin(SHOP_HOST),
    sub: "user-42",
    org_id: "acme-secure",
  });
  const { page, watch } = await fixture.visit({
    boot: { organizationId: "acme-secure", userJWT, user_id: "user-42" },
  });
  await widgetReady(page);
  const { launcher, input, log } = widgetParts(page);
  assert.equal(
    await launcher.getAttribute("aria-label"),
    "Acme Secure Support",
  );
  assert.deepEqual(await recordedErrors(page), []);
  // The conversation is stored with its first message; its identity is the token's.
  await launcher.click();
  await input.fill("Hello from a signed-in user");
  await input.press("Enter");
  await log.locator('li.visitor:not([data-key^="local:"])').waitFor();

  const inbox = await fixture.server.rpc("agent.listConversations", {
    organizationId: "acme-secure",
  }, {
    token: ACME_ADMIN_KEY,
  });
  assert.equal(inbox.status, 200);
  const [conversation] = inbox.body.data.conversations;
  assert.equal(conversation.verified, true);
  assert.equal(conversation.visitor.id, "user-42");
  assert.deepEqual(watch.pageErrors, []);
});
