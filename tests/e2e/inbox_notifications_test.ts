import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { setPageHidden, widgetParts, widgetReady } from "./browser.ts";
import {
  ACME_ADMIN_KEY,
  openWidgetFixture,
  type WidgetFixture,
} from "./widget_fixture.ts";

/** What the inbox page asked of the browser: notifications shown, notes played. */
interface AlertRecord {
  notifications: { title: string; body?: string; tag?: string }[];
  notes: number;
}

/** Init script: records `new Notification(…)` and every oscillator started. */
function recordAlerts(): void {
  const record: AlertRecord = { notifications: [], notes: 0 };
  (globalThis as unknown as { parleyAlerts: AlertRecord }).parleyAlerts =
    record;
  const RealNotification = globalThis.Notification;
  globalThis.Notification = new Proxy(RealNotification, {
    construct(target, args: [string, NotificationOptions?]) {
      record.notifications.push({
        title: args[0],
        ...(args[1]?.body === undefined ? {} : { body: args[1].body }),
        ...(args[1]?.tag === undefined ? {} : { tag: args[1].tag }),
      });
      return Reflect.construct(target, args);
    },
    get: (target, name) => Reflect.get(target, name),
  });
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) {
    record.notes += 1;
    return start.apply(this, args);
  };
}

function alertsOf(page: Page): Promise<AlertRecord> {
  return page.evaluate(() =>
    (globalThis as unknown as { parleyAlerts: AlertRecord }).parleyAlerts
  );
}

/** A visitor who writes once the widget is ready; returns a way to write again. */
async function visitorWrites(
  fixture: WidgetFixture,
  name: string,
  text: string,
): Promise<(text: string) => Promise<void>> {
  const { page } = await fixture.visit({ boot: { name } });
  await widgetReady(page);
  const { launcher, log, input } = widgetParts(page);
  await launcher.click();
  const write = async (text: string) => {
    await input.fill(text);
    await input.press("Enter");
    await log.locator('li.visitor:not([data-key^="local:"])', {
      hasText: text,
    }).waitFor();
  };
  await write(text);
  return write;
}

async function titleIs(page: Page, title: string): Promise<void> {
  await page.waitForFunction((title) => document.title === title, title, {
    timeout: 10_000,
  });
}

Deno.test("the inbox title counts unread conversations, opening one reads it, and the count can be switched off, remembered", async () => {
  await using fixture = await openWidgetFixture();
  const { page: ada } = await fixture.openInbox(ACME_ADMIN_KEY);
  assert.equal(await ada.title(), "Parley inbox");

  await visitorWrites(fixture, "First Shopper", "Is this in stock?");
  const second = await visitorWrites(fixture, "Second Shopper", "Hello?");
  await titleIs(ada, "(2) Parley inbox");
  await second("Anyone there?");
  await ada.locator("#conversations button", { hasText: "Anyone there?" })
    .waitFor();
  assert.equal(await ada.title(), "(2) Parley inbox", "counted once each");

  await ada.locator("#conversations button", { hasText: "First Shopper" })
    .click();
  await titleIs(ada, "(1) Parley inbox");
  assert.deepEqual(
    await ada.locator("#conversations button.unread strong").allTextContents(),
    ["Second Shopper (unverified)"],
  );

  await ada.getByLabel("Count in tab title").uncheck();
  await titleIs(ada, "Parley inbox");
  await ada.reload();
  await ada.getByRole("status").filter({ hasText: "Live" }).waitFor();
  assert.equal(await ada.getByLabel("Count in tab title").isChecked(), false);
  await second("Still waiting");
  await ada.locator("#conversations button.unread", {
    hasText: "Still waiting",
  }).waitFor();
  assert.equal(await ada.title(), "Parley inbox");
});

Deno.test("desktop notifications: a button asks, Playwright grants, a visitor message in a hidden tab shows a Notification and plays the chime; both switched off stay off after a reload", async () => {
  await using fixture = await openWidgetFixture();
  const { page: ada, context } = await fixture.openInbox(ACME_ADMIN_KEY, {
    page: { hideable: true, initScripts: [recordAlerts] },
  });
  const allow = ada.getByRole("button", {
    name: "Allow desktop notifications",
  });
  const desktop = ada.getByLabel("Desktop notifications");
  await allow.waitFor();
  assert.equal(await desktop.isVisible(), false);

  await context.grantPermissions(["notifications"], {
    origin: fixture.server.baseUrl,
  });
  await allow.click();
  await allow.waitFor({ state: "hidden" });
  assert.equal(await desktop.isChecked(), true);

  await setPageHidden(ada, true);
  const write = await visitorWrites(fixture, "Pat Visitor", "Hello, anyone?");
  await ada.waitForFunction(() =>
    (globalThis as unknown as { parleyAlerts: AlertRecord }).parleyAlerts
      .notifications.length === 1
  );
  const conversationId = await ada.locator("#conversations button")
    .getAttribute("data-id");
  const alerts = await alertsOf(ada);
  assert.deepEqual(alerts.notifications, [
    {
      title: "Pat Visitor (unverified)",
      body: "Hello, anyone?",
      tag: conversationId!,
    },
  ]);
  assert.ok(alerts.notes >= 1, "the chime played");
  await titleIs(ada, "(1) Parley inbox");

  // Switched off: the next message neither notifies nor chimes.
  await setPageHidden(ada, false);
  await desktop.uncheck();
  await ada.getByLabel("Sound").uncheck();
  await setPageHidden(ada, true);
  await write("Hello again");
  await ada.locator("#conversations button", { hasText: "Hello again" })
    .waitFor();
  assert.deepEqual(await alertsOf(ada), alerts);

  await ada.reload();
  await ada.getByRole("status").filter({ hasText: "Live" }).waitFor();
  assert.equal(await desktop.isChecked(), false);
  assert.equal(await ada.getByLabel("Sound").isChecked(), false);
});
