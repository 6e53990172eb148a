/**
 * The inbox shows what visitors wrote as data, in Chromium: a referrer off
 * the session's origin is text while the page on it is a link; an address
 * hiding a `mailto:` query is refused by the away form and at the wire; and
 * a 200-character unbroken name (with a long title and message) leaves the
 * inbox within the viewport.
 */

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { widgetParts, widgetReady } from "./browser.ts";
import {
  ACME_ADMIN_KEY,
  openWidgetFixture,
  SHOP_HOST,
  type WidgetFixture,
} from "./widget_fixture.ts";

const ATTACK_ADDRESS = "billing?cc=attacker%40evil.example&subject=re@acme.com";

/**
 * A visitor of the shop over the wire: boots, and writes once with the page
 * it is on (as the widget does: a boot stores nothing, the first message
 * creates the conversation and records the page).
 */
async function visitorWrites(
  fixture: WidgetFixture,
  { page, ...body }: Record<string, unknown>,
  text: string,
): Promise<string> {
  const origin = fixture.site.origin(SHOP_HOST);
  const boot = await fixture.server.rpc("chat.boot", {
    organizationId: "acme",
    ...body,
  }, { origin });
  assert.equal(boot.status, 200, JSON.stringify(boot.body));
  const token = boot.body.data.session.token;
  const sent = await fixture.server.rpc("chat.sendMessage", {
    text,
    ...(page === undefined ? {} : { page }),
  }, {
    origin,
    token,
  });
  assert.equal(sent.status, 200);
  return token;
}

/** The visitor's fields beside the thread, as term → [text, href or null]. */
function visitorFields(inbox: Page) {
  return inbox.locator("#visitor-fields").evaluate((list) =>
    Object.fromEntries(
      [...list.querySelectorAll("dt")].map((term) => {
        const detail = term.nextElementSibling!;
        return [term.textContent, [
          detail.textContent,
          detail.querySelector("a")?.getAttribute("href") ?? null,
        ]];
      }),
    )
  );
}

Deno.test("the inbox links the visitor's page on the session's origin, shows an off-origin referrer as text, and never offers a mailto: that copies someone", async () => {
  await using fixture = await openWidgetFixture();

  // The away form (nobody online yet) refuses the address inline.
  const visitor = await fixture.visit({});
  await widgetReady(visitor.page);
  const { host, launcher, away } = widgetParts(visitor.page);
  const setContactCalls: string[] = [];
  visitor.page.on("request", (request) => {
    if (request.url().endsWith("/rpc/chat.setContact")) {
      setContactCalls.push(request.postDataJSON().email);
    }
  });
  await launcher.click();
  await host.getByRole("textbox", { name: "Email" }).fill(ATTACK_ADDRESS);
  await host.getByRole("button", { name: "Save" }).click();
  await away.locator(".error").filter({ hasText: "email address" }).waitFor();
  assert.deepEqual(setContactCalls, [], "the widget sent it");

  // And the wire refuses it from any client.
  const shop = fixture.site.url(SHOP_HOST, "/jackets");
  const phished = await visitorWrites(fixture, {
    name: "Referred",
    page: {
      url: shop,
      title: "Jackets",
      referrer: "https://acme-support.evil.example/sso/login",
    },
  }, "Came from a link");
  const contact = await fixture.server.rpc("chat.setContact", {
    email: ATTACK_ADDRESS,
  }, { origin: fixture.site.origin(SHOP_HOST), token: phished });
  assert.equal(contact.status, 400);
  assert.equal(contact.body.error.code, "BAD_REQUEST");
  assert.equal(contact.body.error.reason, "param.email.invalid");
  await visitorWrites(fixture, {
    name: "Browsing",
    page: {
      url: shop,
      title: "Jackets",
      referrer: fixture.site.url(SHOP_HOST, "/"),
    },
  }, "Came from the shop");

  const { page: inbox, watch } = await fixture.openInbox(ACME_ADMIN_KEY);
  await inbox.locator("#conversations button", { hasText: "Came from a link" })
    .click();
  await inbox.locator("#visitor-fields dt", { hasText: "Came from" })
    .waitFor();
  const offOrigin = await visitorFields(inbox);
  assert.deepEqual(offOrigin["Page"], ["Jackets", shop]);
  assert.deepEqual(offOrigin["Came from"], [
    "https://acme-support.evil.example/sso/login",
    null,
  ]);

  await inbox.locator("#conversations button", {
    hasText: "Came from the shop",
  }).click();
  await inbox.locator("#conversation-title", { hasText: "Browsing" }).waitFor();
  await inbox.locator("#visitor-fields a", {
    hasText: fixture.site.url(SHOP_HOST, "/"),
  }).waitFor();
  const onOrigin = await visitorFields(inbox);
  assert.deepEqual(onOrigin["Came from"], [
    fixture.site.url(SHOP_HOST, "/"),
    fixture.site.url(SHOP_HOST, "/"),
  ]);
  assert.deepEqual(watch.pageErrors, []);
});

Deno.test("a 200-character unbroken name, title and message leave the inbox within the viewport", async () => {
  await using fixture = await openWidgetFixture();
  const name = "W".repeat(200);
  await visitorWrites(fixture, {
    name,
    page: {
      url: fixture.site.url(SHOP_HOST, `/${"p".repeat(1_000)}`),
      title: "T".repeat(300),
      referrer: `https://${"r".repeat(200)}.example/`,
    },
  }, "M".repeat(2_000));
  const { page: inbox } = await fixture.openInbox(ACME_ADMIN_KEY, {
    page: { viewport: { width: 1280, height: 800 } },
  });
  await inbox.locator("#conversations button", { hasText: name }).click();
  await inbox.locator("#messages li.visitor").waitFor();
  await inbox.locator("#visitor-fields dt", { hasText: "Came from" })
    .waitFor();
  const widths = await inbox.evaluate(() => ({
    viewport: innerWidth,
    page: document.documentElement.scrollWidth,
    inbox: document.getElementById("inbox")!.getBoundingClientRect().width,
  }));
  assert.ok(
    widths.page <= widths.viewport && widths.inbox <= widths.viewport,
    `the inbox is ${widths.inbox} px and the page ${widths.page} px wide in a ${widths.viewport} px viewport`,
  );
  const violations = await inbox.evaluate(() =>
    (globalThis as unknown as { parleyCspViolations: string[] })
      .parleyCspViolations
  );
  assert.deepEqual(violations, [], "the inbox breaks its own strict CSP");
});
