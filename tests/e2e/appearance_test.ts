import assert from "node:assert/strict";
import { widgetParts, widgetReady } from "./browser.ts";
import { screenshotPath } from "./screenshot_folder.ts";
import {
  ACME_ADMIN_KEY,
  openWidgetFixture,
  type WidgetFixture,
} from "./widget_fixture.ts";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47];

/** Holds an `agent.stream` open (an agent online) until disposed. */
async function openAgentStream(
  fixture: WidgetFixture,
): Promise<AsyncDisposable> {
  const controller = new AbortController();
  const response = await fetch(`${fixture.server.baseUrl}/rpc/agent.stream`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Authorization: `Bearer ${ACME_ADMIN_KEY}`,
    },
    body: JSON.stringify({ organizationId: "acme" }),
    signal: controller.signal,
  });
  assert.equal(response.status, 200);
  return {
    async [Symbol.asyncDispose]() {
      controller.abort();
      await response.body?.cancel().catch(() => {});
    },
  };
}

const schemes = [
  { scheme: "light", panelBackground: "rgb(255, 255, 255)" },
  { scheme: "dark", panelBackground: "rgb(29, 30, 35)" },
] as const;

Deno.test("the widget follows the color scheme; screenshots of it closed and open", async (t) => {
  await using fixture = await openWidgetFixture();
  // An agent is online, so the screenshots show the chat as visitors see it
  // during opening hours (widget-away.png shows the away form).
  await using _inbox = await openAgentStream(fixture);
  for (const { scheme, panelBackground } of schemes) {
    await t.step(scheme, async () => {
      const { page } = await fixture.visit({
        page: { colorScheme: scheme, reducedMotion: "reduce" },
      });
      await widgetReady(page);
      const { launcher, panel, log, input, away } = widgetParts(page);
      await page.screenshot({
        path: await screenshotPath(`widget-closed-${scheme}.png`),
      });

      await launcher.click();
      assert.equal(await away.isVisible(), false, "an agent is online");
      await input.fill("Hi! Does the blue jacket come in size M?");
      await input.press("Enter");
      await log.locator('li.visitor:not([data-key^="local:"])').waitFor();
      const inbox = await fixture.server.rpc("agent.listConversations", {
        organizationId: "acme",
      }, {
        token: ACME_ADMIN_KEY,
      });
      const conversationId = inbox.body.data.conversations[0].id;
      const text = `Yes, it does (${scheme} mode reply). Shall I reserve one?`;
      await fixture.server.rpc("agent.reply", {
        organizationId: "acme",
        conversationId,
        text,
      }, {
        token: ACME_ADMIN_KEY,
      });
      await log.locator("li.agent", { hasText: text }).waitFor();
      await input.fill("Yes please");
      assert.equal(
        await panel.evaluate((element) =>
          getComputedStyle(element).backgroundColor
        ),
        panelBackground,
      );
      await page.screenshot({
        path: await screenshotPath(`widget-open-${scheme}.png`),
      });
    });
  }
  for (
    const name of ["closed-light", "closed-dark", "open-light", "open-dark"]
  ) {
    const bytes = await Deno.readFile(
      await screenshotPath(`widget-${name}.png`),
    );
    assert.deepEqual([...bytes.subarray(0, 4)], PNG_SIGNATURE, name);
  }
});

Deno.test("prefers-reduced-motion turns the panel's animation off", async () => {
  await using fixture = await openWidgetFixture();
  const animationOf = async (reducedMotion: "reduce" | "no-preference") => {
    const { page } = await fixture.visit({ page: { reducedMotion } });
    await widgetReady(page);
    const { launcher, panel } = widgetParts(page);
    await launcher.click();
    return await panel.evaluate((element) =>
      getComputedStyle(element).animationName
    );
  };
  assert.equal(await animationOf("no-preference"), "rise");
  assert.equal(await animationOf("reduce"), "none");
});

Deno.test("the configured color reaches the launcher, with readable text on it", async () => {
  await using fixture = await openWidgetFixture();
  const { page } = await fixture.visit({});
  await widgetReady(page);
  const { launcher } = widgetParts(page);
  const colors = await launcher.evaluate((element) => {
    const style = getComputedStyle(element);
    return [style.backgroundColor, style.color];
  });
  assert.deepEqual(colors, ["rgb(11, 95, 255)", "rgb(255, 255, 255)"]);
});
