/**
 * The widget's accessibility, measured in real Chromium: axe-core (WCAG 2.1 A
 * and AA, shadow DOM included) finds no serious or critical violation in any
 * state a visitor meets, every control is a touch target of at least 44 px,
 * and focus is visible on every stop of the keyboard path. One server and one
 * browser for every row. (The closed launcher's audit is in
 * `axe_launcher_test.ts`, the keyboard path itself in `keyboard_only_test.ts`.)
 */

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { expectAccessible } from "./axe.ts";
import { animationsFinished, widgetParts, widgetReady } from "./browser.ts";
import {
  ACME_ADMIN_KEY,
  openWidgetFixture,
  type PageOptions,
  type WidgetFixture,
} from "./widget_fixture.ts";

/** Opens a page of `organizationId` with the panel open and settled. */
async function openPanel(
  fixture: WidgetFixture,
  organizationId: string,
  page: PageOptions = {},
): Promise<Page> {
  const opened = await fixture.visit({ boot: { organizationId }, page });
  await widgetReady(opened.page);
  const { launcher, panel } = widgetParts(opened.page);
  await launcher.click();
  await panel.waitFor({ state: "visible" });
  await animationsFinished(panel);
  return opened.page;
}

/** The visitor writes, and an agent answers: both bubbles, and their times. */
async function exchange(fixture: WidgetFixture, page: Page): Promise<void> {
  const { log, input } = widgetParts(page);
  await input.fill("Where is my order?");
  await input.press("Enter");
  await log.locator('li.visitor:not([data-key^="local:"])').waitFor();
  const inbox = await fixture.server.rpc("agent.listConversations", {
    organizationId: "acme",
  }, { token: ACME_ADMIN_KEY });
  const reply = await fixture.server.rpc("agent.reply", {
    organizationId: "acme",
    conversationId: inbox.body.data.conversations[0].id,
    text: "It ships today.",
  }, { token: ACME_ADMIN_KEY });
  assert.equal(reply.status, 200);
  await log.locator("li.agent", { hasText: "It ships today." }).waitFor();
}

/** The away form, after a malformed address was saved. */
async function awayError(page: Page): Promise<void> {
  const email = page.locator("parley-chat input#parley-email");
  await email.fill("not an address");
  await page.locator("parley-chat form.away button.send").click();
  await page.locator('parley-chat input#parley-email[aria-invalid="true"]')
    .waitFor();
}

/** Every visible control of the widget and its box. */
function controlBoxes(
  page: Page,
): Promise<{ control: string; width: number; height: number }[]> {
  return page.evaluate(() => {
    const root = document.querySelector("parley-chat")!.shadowRoot!;
    return [...root.querySelectorAll("button, input, textarea")]
      .map((control) => ({ control, box: control.getBoundingClientRect() }))
      .filter(({ box }) => box.width > 0 && box.height > 0)
      .map(({ control, box }) => ({
        control: `${control.tagName.toLowerCase()}.${control.className}`,
        width: Math.round(box.width),
        height: Math.round(box.height),
      }));
  });
}

Deno.test("the widget is accessible in every state a visitor meets", async (t) => {
  await using fixture = await openWidgetFixture();

  await t.step("axe: the panel open with an exchange", async () => {
    const page = await openPanel(fixture, "acme");
    await exchange(fixture, page);
    await expectAccessible(page, "the panel open with an exchange");

    // Touch targets: WCAG 2.5.5's 44 × 44 CSS pixels, the retry link aside
    // only when it sits inside a line of text (it does not here).
    for (const { control, width, height } of await controlBoxes(page)) {
      assert.ok(width >= 44 && height >= 44, `${control}: ${width}×${height}`);
    }
    await page.context().close();
  });

  await t.step("axe: the away form with an error", async () => {
    const page = await openPanel(fixture, "acme-closed");
    await awayError(page);
    await expectAccessible(page, "the away form with an error");
    for (const { control, width, height } of await controlBoxes(page)) {
      assert.ok(width >= 44 && height >= 44, `${control}: ${width}×${height}`);
    }
    await page.context().close();
  });

  await t.step("axe: the dark scheme, away form with an error", async () => {
    const page = await openPanel(fixture, "acme-closed", {
      colorScheme: "dark",
    });
    await awayError(page);
    await expectAccessible(page, "the dark scheme");
    await page.context().close();
  });

  await t.step("axe: right to left (ar), away form with an error", async () => {
    const page = await openPanel(fixture, "acme-closed", { locale: "ar" });
    assert.equal(
      await page.locator("parley-chat .root").getAttribute("dir"),
      "rtl",
    );
    await awayError(page);
    await expectAccessible(page, "right to left (ar)");
    await page.context().close();
  });

  await t.step(
    "axe: 200% zoom (a 1280 × 720 window at 200% is 640 × 360 CSS pixels)",
    async () => {
      const page = await openPanel(fixture, "acme", {
        viewport: { width: 640, height: 360 },
      });
      await expectAccessible(page, "200% zoom");
      await page.context().close();
    },
  );

  await t.step(
    "focus is visible on every stop of the keyboard path",
    async () => {
      const page = await openPanel(fixture, "acme-closed");
      // From the message field back through the log, the away form, the
      // close button and the launcher.
      const stops: string[] = [];
      for (let tab = 0; tab < 5; tab++) {
        await page.keyboard.press("Shift+Tab");
        const stop = await page.evaluate(() => {
          let element = document.activeElement;
          while (element?.shadowRoot?.activeElement) {
            element = element.shadowRoot.activeElement;
          }
          if (!element || !element.matches(":focus-visible")) return "none";
          const style = getComputedStyle(element);
          return `${element.tagName.toLowerCase()} ${style.outlineStyle} ${style.outlineWidth}`;
        });
        stops.push(stop);
      }
      for (const stop of stops) {
        assert.match(stop, /^\w+ solid 3px$/, stops.join(", "));
      }
      await page.context().close();
    },
  );
});
