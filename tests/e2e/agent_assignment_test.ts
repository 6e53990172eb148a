import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { widgetParts, widgetReady } from "./browser.ts";
import { screenshotPath } from "./screenshot_folder.ts";
import {
  ACME_ADMIN_KEY,
  ACME_GRACE_KEY,
  ADA,
  openWidgetFixture,
} from "./widget_fixture.ts";

const WIDE = { viewport: { width: 1280, height: 720 } };

/**
 * Picks a list filter and waits until the list shows what it was read with.
 * Its reply arriving is not enough: the page renders it a moment later, and
 * a read a stream event started before the change may answer after it (the
 * inbox drops such a reply; `data-filter` names the filter of the rows shown).
 */
async function filterList(inbox: Page, filter: string): Promise<void> {
  const fetched = inbox.waitForResponse((response) =>
    response.url().endsWith("/rpc/agent.listConversations") &&
    response.request().postDataJSON()?.filter === filter
  );
  await inbox.locator("#filter").selectOption(filter);
  await fetched;
  await inbox.locator(`#conversations[data-filter="${filter}"]`).waitFor({
    state: "attached",
  });
}

async function reply(inbox: Page, text: string): Promise<void> {
  await inbox.locator("#reply-text").fill(text);
  await inbox.locator("#reply-text").press("Enter");
}

Deno.test("two agents: signed in by name, the first to reply is assigned, then the conversation is handed over, unassigned and taken, live in both inboxes", async () => {
  await using fixture = await openWidgetFixture();
  const ada = (await fixture.openInbox(ACME_ADMIN_KEY, { page: WIDE })).page;
  const grace = (await fixture.openInbox(ACME_GRACE_KEY, { page: WIDE })).page;
  await ada.locator("#signed-in-as", { hasText: "Signed in as Ada Lovelace" })
    .waitFor();
  await grace.locator("#signed-in-as", {
    hasText: "Signed in as Grace Hopper",
  }).waitFor();

  const visitor = await fixture.visit({ boot: { name: "Pat Visitor" } });
  await widgetReady(visitor.page);
  const widget = widgetParts(visitor.page);
  await widget.launcher.click();
  await widget.input.fill("My parcel never came");
  await widget.input.press("Enter");

  const row = (inbox: Page) =>
    inbox.locator("#conversations button", { hasText: "Pat Visitor" });
  await row(ada).filter({ hasText: "Unassigned" }).waitFor();
  await row(ada).click();
  const adaAssignee = ada.locator("#assignee");
  await adaAssignee.filter({ hasText: "Unassigned" }).waitFor();
  assert.equal(await ada.locator("#unassign").isVisible(), false);

  // Ada answers first, so the conversation is hers; the visitor sees her name.
  await reply(ada, "Sorry to hear that! Let me check.");
  const adaReply = widget.log.locator("li.agent", {
    hasText: "Let me check.",
  });
  await adaReply.waitFor();
  assert.equal(await adaReply.locator(".who").textContent(), "Ada Lovelace");
  await adaAssignee.filter({ hasText: "Ada Lovelace (you)" }).waitFor();
  assert.equal(await ada.locator("#assign-me").isVisible(), false);
  await row(grace).filter({ hasText: "Assigned to Ada Lovelace" }).waitFor();

  // Grace's filters: not hers, not unassigned, but among all.
  await filterList(grace, "mine");
  assert.equal(await row(grace).count(), 0);
  await filterList(grace, "unassigned");
  assert.equal(await row(grace).count(), 0);
  await filterList(grace, "all");
  assert.equal(await row(grace).count(), 1);

  // Ada hands it over to Grace, whose "mine" now holds it.
  assert.deepEqual(
    await ada.locator("#hand-over-to option").allTextContents(),
    ["Grace Hopper"],
  );
  await ada.locator("#hand-over-to").selectOption("grace");
  await ada.getByRole("button", { name: "Hand over" }).click();
  await adaAssignee.filter({ hasText: "Grace Hopper" }).waitFor();
  await filterList(grace, "mine");
  await row(grace).filter({ hasText: "Assigned to Grace Hopper (you)" })
    .waitFor();
  await row(grace).click();
  await grace.locator("#assignee", { hasText: "Grace Hopper (you)" }).waitFor();
  assert.equal(
    await grace.locator("#messages li.agent .who").textContent(),
    "Ada Lovelace",
    "Grace sees who wrote the earlier reply",
  );

  // Grace answers: the visitor and Ada's open thread show her name.
  await reply(grace, "I have it from here, Pat.");
  const graceReply = widget.log.locator("li.agent", {
    hasText: "I have it from here",
  });
  await graceReply.waitFor();
  assert.equal(await graceReply.locator(".who").textContent(), "Grace Hopper");
  await ada.locator("#messages li.agent", { hasText: "I have it from here" })
    .locator(".who", { hasText: "Grace Hopper" }).waitFor();

  // Grace lets it go; Ada's inbox hears it live, and Ada takes it back.
  await grace.getByRole("button", { name: "Unassign" }).click();
  await adaAssignee.filter({ hasText: "Unassigned" }).waitFor();
  await ada.getByRole("button", { name: "Assign to me" }).click();
  await adaAssignee.filter({ hasText: "Ada Lovelace (you)" }).waitFor();
  await grace.locator("#assignee", { hasText: "Ada Lovelace" }).waitFor();
  await row(grace).waitFor({ state: "detached" });

  const { id } = (await fixture.server.rpc("agent.listConversations", {
    organizationId: "acme",
  }, { token: ACME_ADMIN_KEY })).body.data.conversations[0];
  const stored = await fixture.server.rpc("agent.getConversation", {
    organizationId: "acme",
    conversationId: id,
  }, { token: ACME_GRACE_KEY });
  assert.deepEqual(stored.body.data.conversation.assignee, ADA);

  await ada.locator("#reply-text").fill("Your parcel is at the depot.");
  // Clock times would make every run's picture differ. Hidden through the
  // CSSOM: the page's CSP refuses the <style> a screenshot's `style` adds.
  await ada.locator("#messages time, #conversations time").evaluateAll(
    (times) =>
      times.forEach((time) =>
        (time as HTMLElement).style.visibility = "hidden"
      ),
  );
  await ada.screenshot({ path: await screenshotPath("inbox-assigned.png") });
  for (const page of [ada, grace]) {
    assert.deepEqual(
      await page.evaluate(() =>
        (globalThis as unknown as { parleyCspViolations: string[] })
          .parleyCspViolations
      ),
      [],
      "the inbox breaks its own strict CSP",
    );
  }
  assert.deepEqual(visitor.watch.pageErrors, []);
});
