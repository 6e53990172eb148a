/**
 * The agent inbox without a mouse, in Chromium: sign in, pick a
 * conversation, assign it, reply, close it and open the Security view with
 * Tab, Shift+Tab, Enter and typing alone, and at every step the focused
 * element shows a focus ring (an outline or a box shadow, not `none`).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { seedInbox } from "./inbox_seed.ts";
import { ACME_ADMIN_KEY, ADA, openWidgetFixture } from "./widget_fixture.ts";

/** The focused element as `tag#id` or `tag.class`, and whether its focus shows. */
function focused(page: Page): Promise<{ name: string; ring: string }> {
  return page.evaluate(() => {
    const element = document.activeElement;
    if (!element || element === document.body) {
      return { name: "body", ring: "none" };
    }
    const tag = element.tagName.toLowerCase();
    const name = element.id
      ? `${tag}#${element.id}`
      : `${tag}.${[...element.classList].join(".")}`;
    const style = getComputedStyle(element);
    const outline = style.outlineStyle !== "none" &&
        parseFloat(style.outlineWidth) > 0
      ? `outline ${style.outlineWidth} ${style.outlineStyle} ${style.outlineColor}`
      : "";
    const shadow = style.boxShadow !== "none"
      ? `shadow ${style.boxShadow}`
      : "";
    return { name, ring: outline || shadow || "none" };
  });
}

/** Asserts the focus is on `name` (a prefix) and shows; returns its name. */
async function focusShows(page: Page, name: string): Promise<string> {
  const now = await focused(page);
  assert.ok(
    now.name.startsWith(name),
    `the focus is on ${now.name}, not ${name}`,
  );
  assert.notEqual(now.ring, "none", `no focus ring on ${now.name}`);
  return now.name;
}

/**
 * Presses `key` until the focus reaches `name`, asserting that every
 * element passed on the way shows its focus too.
 *
 * @returns The elements passed, in order.
 */
async function pressUntil(
  page: Page,
  key: "Tab" | "Shift+Tab",
  name: string,
  most = 30,
): Promise<string[]> {
  const passed: string[] = [];
  for (let press = 0; press < most; press++) {
    await page.keyboard.press(key);
    const now = await focused(page);
    assert.notEqual(now.ring, "none", `no focus ring on ${now.name}`);
    passed.push(now.name);
    if (now.name.startsWith(name)) return passed;
  }
  throw new Error(`${key} never reached ${name}: ${passed.join(", ")}`);
}

Deno.test("a keyboard-only agent signs in, picks a conversation, assigns it, replies, closes it and opens the Security view, the focus showing at every step", async () => {
  await using fixture = await openWidgetFixture();
  await seedInbox(fixture);
  const { page, watch } = await fixture.newPage({
    viewport: { width: 1280, height: 800 },
  });
  await page.goto(`${fixture.server.baseUrl}/agent`);

  // Sign in: the first Tab reaches the organization field.
  await pressUntil(page, "Tab", "input", 1);
  await page.keyboard.type("acme");
  await pressUntil(page, "Tab", "input", 1);
  await page.keyboard.type(ACME_ADMIN_KEY);
  await focusShows(page, "input");
  await page.keyboard.press("Enter");
  await page.getByRole("status").filter({ hasText: "Live" }).waitFor();

  // The form is gone; the focus went to the list, not back to the page.
  await focusShows(page, "button");
  // Down the list to the named visitor's conversation.
  const rowText = () =>
    page.evaluate(() => document.activeElement?.textContent ?? "");
  for (
    let row = 0;
    row < 3 && !(await rowText()).includes("Pat Visitor");
    row++
  ) {
    await pressUntil(page, "Tab", "button", 1);
  }
  assert.match(await rowText(), /Pat Visitor/);
  await page.keyboard.press("Enter");
  await page.locator("#conversation-title", { hasText: "Pat Visitor" })
    .waitFor();
  await focusShows(page, "textarea#reply-text");

  // Ada's answer assigned it to her: unassign it and take it back, past
  // the Send button to the panel; a button an action hides hands the focus
  // to its neighbour.
  await pressUntil(page, "Tab", "button#unassign", 3);
  await page.keyboard.press("Enter");
  await page.locator("#assignee", { hasText: "Unassigned" }).waitFor();
  await focusShows(page, "button#assign-me");
  await page.keyboard.press("Enter");
  await page.locator("#assignee", { hasText: `${ADA.name} (you)` }).waitFor();
  await focusShows(page, "button#unassign");

  // Reply: back to the field, type, Enter.
  await pressUntil(page, "Shift+Tab", "textarea#reply-text", 4);
  await page.keyboard.type("Reserved in size M for you.");
  await page.keyboard.press("Enter");
  await page.locator("#messages li.agent", { hasText: "Reserved in size M" })
    .waitFor();
  await focusShows(page, "textarea#reply-text");

  // Close: up to the thread's Close button; the focus rests on the heading.
  await pressUntil(page, "Shift+Tab", "button#close-conversation", 6);
  await page.keyboard.press("Enter");
  await page.locator("#close-conversation").waitFor({ state: "hidden" });
  await page.locator("#conversations button.closed", {
    hasText: "Pat Visitor",
  }).waitFor();
  await focusShows(page, "h2#conversation-title");

  // Security: back up to the top bar's button.
  await pressUntil(page, "Shift+Tab", "button#security-toggle");
  await page.keyboard.press("Enter");
  await page.locator("#security .security-summary p").first().waitFor();
  await focusShows(page, "button#security-toggle");
  assert.equal(
    await page.locator("#security-toggle").getAttribute("aria-pressed"),
    "true",
  );
  await pressUntil(page, "Tab", "select", 3);
  await pressUntil(page, "Tab", "button", 1);
  assert.deepEqual(watch.pageErrors, []);
});
