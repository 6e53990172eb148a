/**
 * The agent inbox's look, in Chromium: it follows the colour scheme with the
 * design system's palettes, marks an unread conversation with a dot, grows
 * its reply field with the text, and keeps its strict CSP. Screenshots in
 * light and dark (`docs/screenshots/inbox-light.png`, `inbox-dark.png`
 * under `deno task screenshots`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { DARK, LIGHT } from "../../widget/design_tokens.ts";
import { seedInbox, visitorWrites, visitorWritesAgain } from "./inbox_seed.ts";
import { screenshotPath } from "./screenshot_folder.ts";
import { ACME_ADMIN_KEY, openWidgetFixture } from "./widget_fixture.ts";

/** `#rrggbb` as the `rgb(r, g, b)` computed styles report. */
function rgb(hex: string): string {
  const [r, g, b] = [1, 3, 5].map((at) => parseInt(hex.slice(at, at + 2), 16));
  return `rgb(${r}, ${g}, ${b})`;
}

const SCHEMES = [
  { scheme: "light", palette: LIGHT },
  { scheme: "dark", palette: DARK },
] as const;

Deno.test("the inbox follows the colour scheme, dots an unread conversation and grows its reply field; screenshots light and dark", async (t) => {
  await using fixture = await openWidgetFixture();
  await seedInbox(fixture);
  let sam: string | undefined;
  for (const { scheme, palette } of SCHEMES) {
    await t.step(scheme, async () => {
      const { page } = await fixture.openInbox(ACME_ADMIN_KEY, {
        page: {
          colorScheme: scheme,
          reducedMotion: "reduce",
          viewport: { width: 1280, height: 720 },
        },
      });
      await page.locator("#conversations button", { hasText: "Pat Visitor" })
        .click();
      await page.locator("#visitor-fields a", { hasText: "pat@example.com" })
        .waitFor();

      // A visitor writes in another conversation: it is unread, with a dot
      // and words for screen readers.
      const question = "Is the store open on Sunday?";
      if (sam === undefined) {
        sam = (await visitorWrites(fixture, { name: "Sam Shopper" }, question))
          .token;
      } else await visitorWritesAgain(fixture, sam, question);
      const unread = page.locator("#conversations button.unread", {
        hasText: "Sam Shopper",
      });
      await unread.waitFor();
      assert.equal(await unread.locator(".dot").count(), 1);
      assert.match(await unread.innerText(), /Unread/);

      const colors = await page.evaluate(() => ({
        body: getComputedStyle(document.body).backgroundColor,
        text: getComputedStyle(document.body).color,
        send: getComputedStyle(
          document.querySelector("#reply button[type=submit]")!,
        ).backgroundColor,
      }));
      assert.deepEqual(colors, {
        body: rgb(palette.canvas),
        text: rgb(palette.text),
        send: rgb(palette.accent),
      });

      // The reply field grows with its text, then scrolls.
      const reply = page.locator("#reply-text");
      const rows = () =>
        reply.evaluate((field) => (field as HTMLTextAreaElement).rows);
      assert.equal(await rows(), 1);
      await reply.fill("");
      await reply.pressSequentially("Yes, size M is in stock.");
      await reply.press("Shift+Enter");
      await reply.pressSequentially(
        "I have put one aside for you until Friday.",
      );
      assert.equal(await rows(), 2);
      for (let line = 0; line < 10; line++) await reply.press("Shift+Enter");
      assert.equal(await rows(), 8, "at most 8 rows, then it scrolls");
      await reply.fill("");
      await reply.pressSequentially("Yes, size M is in stock.");
      await reply.press("Shift+Enter");
      await reply.pressSequentially(
        "I have put one aside for you until Friday.",
      );

      // Clock times would make every run's picture differ; hidden through
      // the CSSOM, which the page's CSP allows.
      await page.locator("#messages time, #conversations time").evaluateAll(
        (times) =>
          times.forEach((time) =>
            (time as HTMLElement).style.visibility = "hidden"
          ),
      );
      await page.screenshot({
        path: await screenshotPath(`inbox-${scheme}.png`),
      });
      assert.deepEqual(
        await page.evaluate(() =>
          (globalThis as unknown as { parleyCspViolations: string[] })
            .parleyCspViolations
        ),
        [],
        "the inbox breaks its own strict CSP",
      );
    });
  }
});
