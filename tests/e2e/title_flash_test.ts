import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { setPageHidden, widgetParts, widgetReady } from "./browser.ts";
import { ACME_ADMIN_KEY, openWidgetFixture } from "./widget_fixture.ts";

const PAGE_TITLE = "Jackets & coats — Acme shop (2)";

async function titleIs(page: Page, title: string): Promise<void> {
  await page.waitForFunction((title) => document.title === title, title, {
    timeout: 10_000,
  });
}

Deno.test("an agent's message while the tab is hidden flashes 'New message' in the title and counts on the badge though the panel is open; coming back restores the title exactly and clears the badge", async () => {
  await using fixture = await openWidgetFixture();
  const { page, watch } = await fixture.visit({ page: { hideable: true } });
  await widgetReady(page);
  await page.evaluate((title) => document.title = title, PAGE_TITLE);
  const { launcher, badge, log, input } = widgetParts(page);
  await launcher.click();
  await input.fill("Is the green one waterproof?");
  await input.press("Enter");
  await log.locator('li.visitor:not([data-key^="local:"])').waitFor();
  const { id } = (await fixture.server.rpc("agent.listConversations", {
    organizationId: "acme",
  }, { token: ACME_ADMIN_KEY })).body.data.conversations[0];
  const reply = (text: string) =>
    fixture.server.rpc("agent.reply", {
      organizationId: "acme",
      conversationId: id,
      text,
    }, { token: ACME_ADMIN_KEY });

  // Visible: a reply changes no title.
  await reply("Let me check.");
  await log.locator("li.agent", { hasText: "Let me check." }).waitFor();
  await page.waitForTimeout(1_500);
  assert.equal(await page.title(), PAGE_TITLE);

  await setPageHidden(page, true);
  await reply("Yes, fully waterproof.");
  await titleIs(page, "New message");
  await titleIs(page, PAGE_TITLE);
  await titleIs(page, "New message");
  assert.equal(await badge.textContent(), "1");
  assert.equal(
    await launcher.getAttribute("aria-label"),
    "Acme Support (1 unread)",
  );

  await setPageHidden(page, false);
  assert.equal(await page.title(), PAGE_TITLE, "restored at once");
  await badge.waitFor({ state: "hidden" });
  await page.waitForTimeout(2_500);
  assert.equal(await page.title(), PAGE_TITLE, "and the flashing stopped");
  assert.deepEqual(watch.pageErrors, []);
});
