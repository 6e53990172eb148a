import assert from "node:assert/strict";
import { widgetParts, widgetReady } from "./browser.ts";
import { ACME_ADMIN_KEY, openWidgetFixture } from "./widget_fixture.ts";

Deno.test("a visitor sends a message, sees it confirmed, and gets the agent's replies live", async () => {
  await using fixture = await openWidgetFixture();
  const { page, watch } = await fixture.visit({});
  await widgetReady(page);
  const { launcher, badge, panel, log, input } = widgetParts(page);
  await launcher.click();
  await log.getByText("Hi! How can we help?").waitFor();

  await input.fill("  Where is my order?  ");
  await input.press("Enter");
  const sent = log.locator('li.visitor:not([data-key^="local:"])', {
    hasText: "Where is my order?",
  });
  await sent.waitFor();
  assert.equal(await sent.locator(".status").count(), 0);
  assert.equal(await input.inputValue(), "");

  const agent = (text: string, conversationId: string) =>
    fixture.server.rpc("agent.reply", {
      organizationId: "acme",
      conversationId,
      text,
    }, { token: ACME_ADMIN_KEY });
  const inbox = await fixture.server.rpc("agent.listConversations", {
    organizationId: "acme",
  }, {
    token: ACME_ADMIN_KEY,
  });
  const conversationId: string = inbox.body.data.conversations[0].id;
  assert.equal(
    inbox.body.data.conversations[0].lastMessage.text,
    "Where is my order?",
  );

  assert.equal((await agent("It ships today.", conversationId)).status, 200);
  await log.locator("li.agent", { hasText: "It ships today." }).waitFor();

  // Closed panel: a new reply shows as an unread badge.
  await page.keyboard.press("Escape");
  await panel.waitFor({ state: "hidden" });
  await agent("Tracking number: 123.", conversationId);
  await badge.waitFor({ state: "visible" });
  assert.equal(await badge.textContent(), "1");
  assert.equal(
    await launcher.getAttribute("aria-label"),
    "Acme Support (1 unread)",
  );
  await launcher.click();
  await badge.waitFor({ state: "hidden" });

  // A reload keeps the conversation: the visitor id is kept in localStorage.
  const stored = await page.evaluate(() =>
    localStorage.getItem("parley:visitor:acme")
  );
  assert.equal(typeof stored, "string");
  await page.reload();
  await widgetReady(page);
  await launcher.click();
  await log.locator("li", { hasText: "Tracking number: 123." }).waitFor();
  assert.equal(
    await log.locator("li.visitor", { hasText: "Where is my order?" }).count(),
    1,
  );
  assert.deepEqual(watch.pageErrors, []);
});

Deno.test("shutdown removes the widget and forgets the visitor", async () => {
  await using fixture = await openWidgetFixture();
  const { page } = await fixture.visit({});
  await widgetReady(page);
  assert.equal(
    typeof await page.evaluate(() =>
      localStorage.getItem("parley:visitor:acme")
    ),
    "string",
  );
  await page.evaluate(() =>
    (globalThis as unknown as { ChatWidget: { shutdown(): void } }).ChatWidget
      .shutdown()
  );
  assert.equal(await widgetParts(page).host.count(), 0);
  assert.equal(
    await page.evaluate(() => localStorage.getItem("parley:visitor:acme")),
    null,
  );
});
