import assert from "node:assert/strict";
import { animationsFinished, widgetParts, widgetReady } from "./browser.ts";
import { openWidgetFixture } from "./widget_fixture.ts";

const viewports = [
  { name: "a 375px phone", width: 375, height: 667, fullScreen: true },
  { name: "a 480px phone", width: 480, height: 800, fullScreen: true },
  { name: "a 481px window", width: 481, height: 800, fullScreen: false },
];

Deno.test("the open panel fills narrow viewports (≤ 480px) and floats on wider ones", async (t) => {
  await using fixture = await openWidgetFixture();
  for (const viewport of viewports) {
    await t.step(viewport.name, async () => {
      const { page } = await fixture.visit({
        page: { viewport: { width: viewport.width, height: viewport.height } },
      });
      await widgetReady(page);
      const { launcher, panel } = widgetParts(page);
      await launcher.click();
      await panel.waitFor({ state: "visible" });
      await animationsFinished(panel);
      const box = await panel.boundingBox();
      const fills = box?.x === 0 && box.y === 0 &&
        box.width === viewport.width &&
        box.height === viewport.height;
      assert.equal(fills, viewport.fullScreen, JSON.stringify(box));
    });
  }
});
