import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { widgetParts, widgetReady } from "./browser.ts";
import { mintChatToken } from "./chat_token.ts";
import {
  ACME_ADMIN_KEY,
  ACME_JWT_SECRET,
  openWidgetFixture,
  SHOP_HOST,
} from "./widget_fixture.ts";

/** The request bodies of an RPC method a page sends, from now on. */
function bodiesOf(page: Page, method: string): Record<string, unknown>[] {
  const bodies: Record<string, unknown>[] = [];
  page.on("request", (request) => {
    if (request.url().endsWith(`/rpc/${method}`)) {
      bodies.push(request.postDataJSON());
    }
  });
  return bodies;
}

async function writeOnce(page: Page, text: string): Promise<void> {
  await widgetReady(page);
  const { launcher, log, input } = widgetParts(page);
  await launcher.click();
  await input.fill(text);
  await input.press("Enter");
  await log.locator('li.visitor:not([data-key^="local:"])').waitFor();
}

Deno.test("the inbox shows the visitor's page and follows single-page navigations, one chat.setPage per settled burst; update() boots again with the page", async () => {
  await using fixture = await openWidgetFixture();
  const { page: ada } = await fixture.openInbox(ACME_ADMIN_KEY);
  const { page, watch } = await fixture.visit({});
  await writeOnce(page, "Which size should I take?");
  await ada.locator("#conversations button", { hasText: "Which size" })
    .click();
  const pageLink = ada.locator("#visitor-fields a").filter({
    hasNot: ada.locator('[href^="mailto:"]'),
  }).first();
  await pageLink.filter({ hasText: "Acme shop" }).waitFor();
  assert.equal(await pageLink.getAttribute("href"), page.url());

  // A router's burst: push, a title, two replaces; the #fragment stays home.
  const setPages = bodiesOf(page, "chat.setPage");
  await page.evaluate(() => {
    history.pushState({}, "", "/jackets?size=m");
    document.title = "Jackets — Acme shop";
    history.replaceState({ scroll: 1 }, "", "/jackets?size=m#reviews");
    history.replaceState({ scroll: 2 }, "", "/jackets?size=m#reviews");
  });
  const jackets = fixture.site.url(SHOP_HOST, "/jackets?size=m");
  await pageLink.filter({ hasText: "Jackets — Acme shop" }).waitFor();
  assert.equal(await pageLink.getAttribute("href"), jackets);
  assert.deepEqual(setPages, [{ url: jackets, title: "Jackets — Acme shop" }]);

  // Back to the first page, whose title the router puts back: popstate reports it.
  await page.evaluate(() => {
    addEventListener("popstate", () => document.title = "Acme shop", {
      once: true,
    });
    history.back();
  });
  await pageLink.filter({ hasText: "Acme shop" }).filter({
    hasNotText: "Jackets",
  }).waitFor();
  assert.equal(setPages.length, 2);

  const boots = bodiesOf(page, "chat.boot");
  await page.evaluate(() =>
    (globalThis as unknown as {
      ChatWidget: { update(options: object): Promise<void> };
    }).ChatWidget.update({ name: "Pat Visitor" })
  );
  assert.equal(boots.length, 1);
  assert.deepEqual(boots[0]!.page, { url: page.url(), title: "Acme shop" });
  assert.deepEqual(watch.pageErrors, []);
});

Deno.test("a verified visitor's custom fields (the token's user_data) and language show beside the thread", async () => {
  await using fixture = await openWidgetFixture();
  const { page: agent } = await fixture.openInbox(ACME_ADMIN_KEY, {
    organizationId: "acme-secure",
  });
  const userJWT = mintChatToken(ACME_JWT_SECRET, {
    iss: fixture.site.origin(SHOP_HOST),
    sub: "user-42",
    org_id: "acme-secure",
    user_data: {
      name: "Ada Customer",
      email: "ada.customer@example.com",
      plan: "pro",
      seats: 12,
    },
  });
  const { page } = await fixture.visit({
    boot: { organizationId: "acme-secure", userJWT },
  });
  await writeOnce(page, "Can I add seats?");
  await agent.locator("#conversations button", { hasText: "Ada Customer ✓" })
    .click();
  const fields = agent.locator("#visitor-fields");
  await fields.locator("dt", { hasText: "plan" }).waitFor();
  const pairs = await fields.evaluate((list) => {
    const terms = [...list.querySelectorAll("dt")];
    return terms.map((term) => [
      term.textContent,
      term.nextElementSibling?.textContent,
    ]);
  });
  assert.deepEqual(pairs.filter(([term]) => term !== "Page"), [
    ["Name", "Ada Customer"],
    ["Email", "ada.customer@example.com"],
    ["User id", "user-42"],
    ["Identity", "Verified ✓"],
    // The widget's language (this browser's en-US), sent with the message.
    ["Language", "English (en)"],
    ["plan", "pro"],
    ["seats", "12"],
  ]);
});
