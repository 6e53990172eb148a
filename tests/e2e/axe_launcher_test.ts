import assert from "node:assert/strict";
import {
  assertNoSeriousViolations,
  expectAccessible,
  runAxe,
  seriousViolations,
} from "./axe.ts";
import {
  openPage,
  sharedChromium,
  widgetParts,
  widgetReady,
} from "./browser.ts";
import { openWidgetFixture } from "./widget_fixture.ts";

Deno.test("runAxe() finds a nameless button inside an open shadow root and names it through its host", async () => {
  const { page, context } = await openPage(await sharedChromium());
  try {
    await page.setContent(
      `<!doctype html><html lang="en"><head><title>Audit</title></head><body><main><h1>Page</h1><div id="host"></div></main></body></html>`,
    );
    await page.evaluate(() => {
      const shadow = document.getElementById("host")!.attachShadow({
        mode: "open",
      });
      shadow.append(document.createElement("button"));
    });
    const violations = await runAxe(page);
    const buttonName = violations.find((violation) =>
      violation.id === "button-name"
    );
    assert.equal(buttonName?.impact, "critical");
    assert.deepEqual(buttonName?.nodes.map((node) => node.target), [
      "#host >>> button",
    ]);
    assert.throws(
      () => assertNoSeriousViolations(violations, "a nameless button"),
      (error: Error) =>
        error.message.includes("in a nameless button") &&
        error.message.includes("button-name (critical)") &&
        error.message.includes("at #host >>> button"),
    );
    // Scoped to the rest of the page, the button is out of sight.
    assert.deepEqual(
      seriousViolations(await runAxe(page, { include: ["main h1"] })),
      [],
    );
  } finally {
    await context.close();
  }
});

Deno.test("axe (WCAG 2.1 A and AA): the widget's closed launcher has no serious or critical violation", async () => {
  await using fixture = await openWidgetFixture();
  const { page } = await fixture.visit({ boot: { organizationId: "acme" } });
  await widgetReady(page);
  await widgetParts(page).launcher.waitFor({ state: "visible" });
  const violations = await expectAccessible(page, "the closed launcher");
  // Whatever axe still reports is minor or moderate; printed for the record.
  for (const violation of violations) {
    console.log(`axe (closed launcher): ${violation.id} (${violation.impact})`);
  }
});
