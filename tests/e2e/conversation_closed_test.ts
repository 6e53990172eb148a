import assert from "node:assert/strict";
import { recordedErrors, widgetParts, widgetReady } from "./browser.ts";
import { ACME_ADMIN_KEY, openWidgetFixture } from "./widget_fixture.ts";

Deno.test("an agent closing the conversation shows a notice, and the visitor's next message starts a new one that stays live", async () => {
  await using fixture = await openWidgetFixture();
  const { page, watch } = await fixture.visit({});
  await widgetReady(page);
  const { launcher, log, input } = widgetParts(page);
  await launcher.click();

  const agent = (method: string, params: Record<string, unknown>) =>
    fixture.server.rpc(method, { organizationId: "acme", ...params }, {
      token: ACME_ADMIN_KEY,
    });
  const newestConversation = async () =>
    (await agent("agent.listConversations", {})).body.data.conversations[0];
  /** Sends as the visitor and waits until the server has confirmed it. */
  const say = async (text: string) => {
    await input.fill(text);
    await input.press("Enter");
    await log.locator('li.visitor:not([data-key^="local:"])', { hasText: text })
      .waitFor();
  };

  await say("First question");
  const first = await newestConversation();
  assert.equal(first.lastMessage.text, "First question");

  assert.equal(
    (await agent("agent.close", { conversationId: first.id })).status,
    200,
  );
  await log.locator("li.notice", {
    hasText: "This conversation was closed.",
  }).waitFor();

  await say("Second question");
  const second = await newestConversation();
  assert.notEqual(second.id, first.id);
  assert.equal(second.lastMessage.text, "Second question");
  assert.equal(
    (await agent("agent.getConversation", { conversationId: first.id })).body
      .data.conversation.status,
    "closed",
  );

  // The live stream follows the new conversation.
  assert.equal(
    (await agent("agent.reply", { conversationId: second.id, text: "Hello!" }))
      .status,
    200,
  );
  await log.locator("li.agent", { hasText: "Hello!" }).waitFor();
  // Moving to the new conversation is not an error the page hears about.
  assert.deepEqual(await recordedErrors(page), []);
  assert.deepEqual(watch.pageErrors, []);
});
