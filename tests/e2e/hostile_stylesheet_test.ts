import assert from "node:assert/strict";
import { animationsFinished, widgetParts, widgetReady } from "./browser.ts";
import { openWidgetFixture } from "./widget_fixture.ts";

const HOSTILE_CSS = `* { all: unset !important }
div { display: none !important }
html { font-size: 40px !important }
parley-chat { transform: scale(0) !important; opacity: 0 !important }`;

Deno.test("a hostile page stylesheet neither hides nor distorts the widget", async () => {
  await using fixture = await openWidgetFixture();
  fixture.site.serve("/hostile.css", {
    body: HOSTILE_CSS,
    contentType: "text/css",
  });
  const { page, watch } = await fixture.visit({
    body:
      '<link rel="stylesheet" href="/hostile.css"><div><h1>Acme shop</h1></div>',
  });
  await widgetReady(page);
  const { launcher, panel, input } = widgetParts(page);
  const viewport = page.viewportSize()!;
  assert.deepEqual(await launcher.boundingBox(), {
    x: viewport.width - 20 - 56,
    y: viewport.height - 20 - 56,
    width: 56,
    height: 56,
  });
  await launcher.click();
  await panel.waitFor({ state: "visible" });
  await animationsFinished(panel);
  const box = (await panel.boundingBox())!;
  assert.equal(box.width, 370);
  assert.equal(box.height, 560);
  assert.equal(
    await input.evaluate((element) => getComputedStyle(element).fontSize),
    "14px",
  );
  assert.deepEqual(watch.pageErrors, []);
});

Deno.test("the widget leaks no style into the page", async () => {
  await using fixture = await openWidgetFixture();
  const { page } = await fixture.visit({});
  const pageStyles = () =>
    page.evaluate(() => {
      const styleOf = (selector: string) => {
        const style = getComputedStyle(document.querySelector(selector)!);
        return [
          style.font,
          style.color,
          style.background,
          style.margin,
          style.boxSizing,
        ].join("|");
      };
      return {
        text: styleOf("p"),
        button: styleOf("#page-button"),
        body: styleOf("body"),
        sheets: document.styleSheets.length,
        adopted: document.adoptedStyleSheets.length,
      };
    });
  await widgetReady(page);
  const withWidget = await pageStyles();
  await page.evaluate(() =>
    (globalThis as unknown as { ChatWidget: { shutdown(): void } }).ChatWidget
      .shutdown()
  );
  assert.equal(await widgetParts(page).host.count(), 0);
  assert.deepEqual(withWidget, await pageStyles());
  assert.equal(withWidget.adopted, 0);
});
