import assert from "node:assert/strict";
import { widgetParts, widgetReady } from "./browser.ts";
import { ACME_ADMIN_KEY, openWidgetFixture } from "./widget_fixture.ts";

Deno.test("a visitor and an agent in the /agent inbox exchange messages live both ways", async () => {
  await using fixture = await openWidgetFixture();

  const agent = await fixture.newPage();
  await agent.page.goto(`${fixture.server.baseUrl}/agent`);
  await agent.page.getByLabel("Organization id").fill("acme");
  await agent.page.getByLabel("Admin key").fill(ACME_ADMIN_KEY);
  await agent.page.getByRole("button", { name: "Open inbox" }).click();
  await agent.page.getByRole("status").filter({ hasText: "Live" }).waitFor();
  assert.equal(
    await agent.page.locator("#login").isVisible(),
    false,
    "the sign-in form stays on screen",
  );

  const visitor = await fixture.visit({});
  await widgetReady(visitor.page);
  const { launcher, log, input } = widgetParts(visitor.page);
  await launcher.click();
  await input.fill("Hello from the shop");
  await input.press("Enter");

  // The inbox learns of the new conversation from its live stream.
  const conversation = agent.page.locator("#conversations button", {
    hasText: "Hello from the shop",
  });
  await conversation.waitFor();
  assert.match(await conversation.innerText(), /unverified/);
  await conversation.click();
  const thread = agent.page.locator("#messages");
  await thread.locator("li.visitor", { hasText: "Hello from the shop" })
    .waitFor();

  await agent.page.locator("#reply-text").fill("Hi! How can I help?");
  await agent.page.locator("#reply-text").press("Enter");
  await log.locator("li.agent", { hasText: "Hi! How can I help?" }).waitFor();

  await input.fill("Where is my parcel?");
  await input.press("Enter");
  await thread.locator("li.visitor", { hasText: "Where is my parcel?" })
    .waitFor();

  // Another agent closes it: this inbox and the visitor both learn live.
  const closeButton = agent.page.locator("#close-conversation");
  assert.equal(await closeButton.isVisible(), true);
  const { id } = (await fixture.server.rpc("agent.listConversations", {
    organizationId: "acme",
  }, { token: ACME_ADMIN_KEY })).body.data.conversations[0];
  await fixture.server.rpc("agent.close", {
    organizationId: "acme",
    conversationId: id,
  }, { token: ACME_ADMIN_KEY });
  await closeButton.waitFor({ state: "hidden" });
  await agent.page.locator("#conversations button.closed", {
    hasText: "Where is my parcel?",
  }).waitFor();
  await log.locator("li.notice").waitFor();

  assert.deepEqual(visitor.watch.pageErrors, []);
  assert.deepEqual(agent.watch.pageErrors, []);
  const violations = await agent.page.evaluate(() =>
    (globalThis as unknown as { parleyCspViolations: string[] })
      .parleyCspViolations
  );
  assert.deepEqual(violations, [], "the inbox breaks its own strict CSP");
});

Deno.test("the /agent inbox refuses a wrong admin key", async () => {
  await using fixture = await openWidgetFixture();
  const agent = await fixture.newPage();
  await agent.page.goto(`${fixture.server.baseUrl}/agent`);
  await agent.page.getByLabel("Organization id").fill("acme");
  await agent.page.getByLabel("Admin key").fill(
    "not-the-key-0123456789abcdef0123456789",
  );
  await agent.page.getByRole("button", { name: "Open inbox" }).click();
  await agent.page.getByRole("alert").and(
    agent.page.locator('[data-code="SESSION_INVALID"]'),
  ).waitFor();
  assert.equal(await agent.page.locator("#inbox").isVisible(), false);
});
