import assert from "node:assert/strict";
import { widgetParts, widgetReady } from "./browser.ts";
import { ACME_ADMIN_KEY, openWidgetFixture } from "./widget_fixture.ts";

const SCREENSHOTS = new URL("../../docs/screenshots/", import.meta.url);
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47];

const schemes = [
  { scheme: "light", panelBackground: "rgb(255, 255, 255)" },
  { scheme: "dark", panelBackground: "rgb(29, 30, 35)" },
] as const;

Deno.test("the widget follows the color scheme; screenshots of it closed and open", async (t) => {
  await using fixture = await openWidgetFixture();
  await Deno.mkdir(SCREENSHOTS, { recursive: true });
  for (const { scheme, panelBackground } of schemes) {
    await t.step(scheme, async () => {
      const { page } = await fixture.visit({
        page: { colorScheme: scheme, reducedMotion: "reduce" },
      });
      await widgetReady(page);
      const { launcher, panel, log, input } = widgetParts(page);
      await page.screenshot({
        path: new URL(`widget-closed-${scheme}.png`, SCREENSHOTS).pathname,
      });

      await launcher.click();
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
        path: new URL(`widget-open-${scheme}.png`, SCREENSHOTS).pathname,
      });
    });
  }
  for (
    const name of ["closed-light", "closed-dark", "open-light", "open-dark"]
  ) {
    const bytes = await Deno.readFile(
      new URL(`widget-${name}.png`, SCREENSHOTS),
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
