import assert from "node:assert/strict";
import { verifyWebhookSignature } from "../../chat/webhook.ts";
import { waitFor } from "../server_process.ts";
import { widgetParts, widgetReady } from "./browser.ts";
import { screenshotPath } from "./screenshot_folder.ts";
import {
  ACME_ADMIN_KEY,
  ACME_WEBHOOK_SECRET,
  openWidgetFixture,
  UNANSWERED_AFTER_S,
} from "./widget_fixture.ts";

const AWAY_TEXT = "We're away — leave your email and we'll answer there";

Deno.test("with no agent online the away form takes an email (a malformed one is answered inline), agents see the contact and the page, and conversation.unanswered reaches the webhook once, signed", async () => {
  await using fixture = await openWidgetFixture();
  const visitor = await fixture.visit({
    page: { reducedMotion: "reduce" },
  });
  await widgetReady(visitor.page);
  const { host, launcher, log, input, away } = widgetParts(visitor.page);
  await launcher.click();
  await away.getByText(AWAY_TEXT).waitFor();
  const setContactCalls: string[] = [];
  let typingCalls = 0;
  visitor.page.on("request", (request) => {
    if (request.url().endsWith("/rpc/chat.setContact")) {
      setContactCalls.push(request.postDataJSON().email);
    }
    if (request.url().endsWith("/rpc/chat.typing")) typingCalls++;
  });

  const email = host.getByRole("textbox", { name: "Email" });
  await email.fill("pat@example");
  await host.getByRole("button", { name: "Save" }).click();
  await away.locator(".error").filter({ hasText: "email address" }).waitFor();
  assert.equal(await email.getAttribute("aria-invalid"), "true");
  assert.deepEqual(setContactCalls, [], "a malformed address is not sent");

  await email.fill("pat@example.com");
  assert.equal(await email.getAttribute("aria-invalid"), null, "edited");
  assert.equal(await away.locator(".error").textContent(), "");
  await visitor.page.screenshot({
    path: await screenshotPath("widget-away.png"),
  });
  await host.getByRole("button", { name: "Save" }).click();
  await away.getByRole("status").filter({
    hasText: "We'll answer at pat@example.com.",
  }).waitFor();
  assert.deepEqual(setContactCalls, ["pat@example.com"]);

  await input.pressSequentially("Do you ship to Norway?");
  await input.press("Enter");
  await log.locator('li.visitor:not([data-key^="local:"])').waitFor();
  assert.equal(typingCalls, 0, "nobody online watches the visitor type");

  // Nobody answers within unansweredAfter: the site's receiver hears of it once.
  const unanswered = () =>
    fixture.webhooks.filter(({ body }) =>
      body.type === "conversation.unanswered"
    );
  await waitFor(() => Promise.resolve(unanswered().length === 1));
  const [delivery] = unanswered();
  assert.equal(delivery!.body.organizationId, "acme");
  assert.deepEqual(delivery!.body.contact, { email: "pat@example.com" });
  assert.equal(delivery!.body.message.text, "Do you ship to Norway?");
  assert.equal(
    await verifyWebhookSignature(
      ACME_WEBHOOK_SECRET,
      delivery!.signature,
      delivery!.text,
    ),
    true,
  );
  await new Promise((resolve) =>
    setTimeout(resolve, 2 * UNANSWERED_AFTER_S * 1000)
  );
  assert.equal(unanswered().length, 1, "once per unanswered stretch");

  // The inbox shows where to answer and where the visitor is.
  const ada = (await fixture.openInbox(ACME_ADMIN_KEY)).page;
  await ada.locator("#conversations button", {
    hasText: "Do you ship to Norway?",
  }).click();
  assert.equal(
    delivery!.body.conversationId,
    await ada.locator("#conversations button[aria-current=true]")
      .getAttribute("data-id"),
  );
  const contact = ada.locator("#visitor-fields a", {
    hasText: "pat@example.com",
  });
  assert.equal(await contact.getAttribute("href"), "mailto:pat@example.com");
  const page = ada.locator("#visitor-fields a", { hasText: "Acme shop" });
  assert.equal(await page.getAttribute("href"), visitor.page.url());

  // An agent answering live is there: the away form goes.
  await ada.locator("#reply-text").fill("Yes, in 3 days.");
  await ada.locator("#reply-text").press("Enter");
  await log.locator("li.agent", { hasText: "Yes, in 3 days." }).waitFor();
  await away.waitFor({ state: "hidden" });
  await input.pressSequentially("Great");
  await ada.locator("#typing", { hasText: "is typing" }).waitFor();
  assert.equal(typingCalls, 1, "with an agent answering, typing is sent");
  assert.deepEqual(visitor.watch.pageErrors, []);
});

Deno.test("the away form follows availability: hidden with an agent online, shown outside business hours even then", async () => {
  await using fixture = await openWidgetFixture();
  await fixture.openInbox(ACME_ADMIN_KEY);
  await fixture.openInbox(ACME_ADMIN_KEY, { organizationId: "acme-closed" });

  const open = await fixture.visit({});
  await widgetReady(open.page);
  const openWidget = widgetParts(open.page);
  await openWidget.launcher.click();
  await openWidget.input.waitFor();
  assert.equal(await openWidget.away.isVisible(), false);

  const closed = await fixture.visit({
    boot: { organizationId: "acme-closed" },
  });
  await widgetReady(closed.page);
  const closedWidget = widgetParts(closed.page);
  await closedWidget.launcher.click();
  await closedWidget.away.getByText(AWAY_TEXT).waitFor();
  assert.deepEqual(open.watch.pageErrors, []);
  assert.deepEqual(closed.watch.pageErrors, []);
});
