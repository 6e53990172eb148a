import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { widgetParts, widgetReady } from "./browser.ts";
import { openWidgetFixture } from "./widget_fixture.ts";

/** The focused element, looking into the widget's shadow root: `tag.class` or `tag#id`. */
function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    let element = document.activeElement;
    while (element?.shadowRoot?.activeElement) {
      element = element.shadowRoot.activeElement;
    }
    if (!element) return "none";
    const tag = element.tagName.toLowerCase();
    return element.id ? `${tag}#${element.id}` : `${tag}.${element.className}`;
  });
}

Deno.test("a keyboard-only visitor opens the chat, sends a message and closes it", async () => {
  await using fixture = await openWidgetFixture();
  const { page, watch } = await fixture.visit({});
  await widgetReady(page);
  const { launcher, panel, log } = widgetParts(page);

  // Tab from the page reaches the launcher after the page's own button.
  const path: string[] = [];
  for (let tab = 0; tab < 5 && path.at(-1) !== "button.launcher"; tab++) {
    await page.keyboard.press("Tab");
    path.push(await focused(page));
  }
  assert.deepEqual(path, ["button#page-button", "button.launcher"]);

  await page.keyboard.press("Enter");
  await panel.waitFor({ state: "visible" });
  assert.equal(await launcher.getAttribute("aria-expanded"), "true");
  assert.equal(await focused(page), "textarea#parley-input");

  await page.keyboard.type("Typed without a mouse");
  await page.keyboard.press("Enter");
  await log.locator('li.visitor:not([data-key^="local:"])', {
    hasText: "Typed without a mouse",
  }).waitFor();

  // Backwards through the panel: the message log (scrollable), the away
  // form (no agent is online here) above it, then the close button.
  const backwards: string[] = [];
  for (let tab = 0; tab < 4; tab++) {
    await page.keyboard.press("Shift+Tab");
    backwards.push(await focused(page));
  }
  assert.deepEqual(backwards, [
    "div.log",
    "button.send",
    "input#parley-email",
    "button.close",
  ]);
  for (let tab = 0; tab < 4; tab++) await page.keyboard.press("Tab");
  assert.equal(await focused(page), "textarea#parley-input");

  await page.keyboard.press("Escape");
  await panel.waitFor({ state: "hidden" });
  assert.equal(await launcher.getAttribute("aria-expanded"), "false");
  assert.equal(await focused(page), "button.launcher");
  assert.deepEqual(watch.pageErrors, []);
});

Deno.test("the panel is a labelled dialog the launcher controls", async () => {
  await using fixture = await openWidgetFixture();
  const { page } = await fixture.visit({});
  await widgetReady(page);
  const { launcher, panel, log, input } = widgetParts(page);
  await launcher.click();
  assert.equal(
    await launcher.getAttribute("aria-controls"),
    await panel.getAttribute("id"),
  );
  assert.equal(await panel.getAttribute("aria-labelledby"), "parley-title");
  assert.equal(await log.getAttribute("aria-live"), "polite");
  assert.equal(await input.getAttribute("maxlength"), "4000");
  assert.equal(
    await page.locator("parley-chat").getByRole("dialog", {
      name: "Acme Support",
    }).count(),
    1,
  );
});
