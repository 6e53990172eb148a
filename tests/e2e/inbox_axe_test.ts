/**
 * The agent inbox against axe-core's WCAG 2.1 A and AA rules, in Chromium,
 * light and dark: the sign-in form (and its error), the list with an open
 * thread, the visitor panel, an empty list and the Security view. Any
 * serious or critical violation fails with its rule id and target; what axe
 * still reports (minor, moderate) is printed for the record.
 *
 * @module
 */

import type { Page } from "playwright-core";
import { type AxeScope, expectAccessible } from "./axe.ts";
import { seedInbox } from "./inbox_seed.ts";
import { ACME_ADMIN_KEY, openWidgetFixture } from "./widget_fixture.ts";

async function audit(
  page: Page,
  state: string,
  scope: AxeScope = {},
): Promise<void> {
  const violations = await expectAccessible(page, state, scope);
  for (const violation of violations) {
    console.log(`axe (${state}): ${violation.id} (${violation.impact})`);
  }
}

for (const scheme of ["light", "dark"] as const) {
  Deno.test(`axe (WCAG 2.1 A and AA), ${scheme}: the inbox's sign-in, list and thread, visitor panel, empty list and Security view have no serious or critical violation`, async (t) => {
    await using fixture = await openWidgetFixture();
    await seedInbox(fixture);
    const { page } = await fixture.newPage({
      colorScheme: scheme,
      viewport: { width: 1280, height: 800 },
    });
    await page.goto(`${fixture.server.baseUrl}/agent?org=acme`);

    await t.step("sign-in", async () => {
      await page.getByLabel("Admin key").waitFor();
      await audit(page, `${scheme} sign-in`);
    });

    await t.step("sign-in with an error", async () => {
      await page.getByLabel("Admin key").fill(
        "not-the-key-0123456789abcdef0123456789",
      );
      await page.getByRole("button", { name: "Open inbox" }).click();
      await page.getByRole("alert").filter({ hasText: "not accepted" })
        .waitFor();
      await audit(page, `${scheme} sign-in error`);
    });

    await t.step("list and thread", async () => {
      await page.getByLabel("Admin key").fill(ACME_ADMIN_KEY);
      await page.getByRole("button", { name: "Open inbox" }).click();
      await page.getByRole("status").filter({ hasText: "Live" }).waitFor();
      await page.locator("#conversations button", { hasText: "Pat Visitor" })
        .click();
      await page.locator("#messages li.agent").waitFor();
      await page.locator("#reply-text").fill("A reply being written");
      await audit(page, `${scheme} list and thread`);
    });

    await t.step("visitor panel", async () => {
      await page.locator("#visitor-fields a", { hasText: "pat@example.com" })
        .waitFor();
      await audit(page, `${scheme} visitor panel`, { include: ["#details"] });
    });

    await t.step("Security view", async () => {
      await page.getByRole("button", { name: "Security" }).click();
      await page.locator("#security .security-summary p").first().waitFor();
      await audit(page, `${scheme} Security view`);
    });
    await t.step(
      "empty list (another organization, signed out and in)",
      async () => {
        await page.getByRole("button", { name: "Conversations" }).click();
        await page.getByRole("button", { name: "Sign out" }).click();
        await page.getByLabel("Organization id").fill("acme-closed");
        await page.getByLabel("Admin key").fill(ACME_ADMIN_KEY);
        await page.getByRole("button", { name: "Open inbox" }).click();
        await page.locator("#conversations-empty").filter({
          hasText: "No conversations yet",
        }).waitFor();
        await audit(page, `${scheme} empty list`);
      },
    );
  });
}
