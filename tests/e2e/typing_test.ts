import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { widgetParts, widgetReady } from "./browser.ts";
import { ACME_ADMIN_KEY, openWidgetFixture } from "./widget_fixture.ts";

/** The times (ms) a page called an RPC method, recorded from now on. */
function callsOf(page: Page, method: string): number[] {
  const times: number[] = [];
  page.on("request", (request) => {
    if (request.url().endsWith(`/rpc/${method}`)) times.push(Date.now());
  });
  return times;
}

/** Counts DOM changes of the widget's log and typing line. */
async function watchWidgetChanges(page: Page): Promise<void> {
  await page.evaluate(() => {
    const root = document.querySelector("parley-chat")!.shadowRoot!;
    const counts = { log: 0, typing: 0 };
    (globalThis as unknown as { parleyChanges: typeof counts }).parleyChanges =
      counts;
    const options = { childList: true, subtree: true, characterData: true };
    new MutationObserver((records) => counts.log += records.length)
      .observe(root.querySelector('[role="log"]')!, options);
    new MutationObserver((records) => counts.typing += records.length)
      .observe(root.querySelector(".typing")!, options);
  });
}

function widgetChanges(page: Page): Promise<{ log: number; typing: number }> {
  return page.evaluate(() =>
    (globalThis as unknown as {
      parleyChanges: { log: number; typing: number };
    })
      .parleyChanges
  );
}

Deno.test("typing shows both ways: one call per 3 s at most, a status line outside the log set once per stretch, hidden by a message or after 5 s", async () => {
  await using fixture = await openWidgetFixture();
  const ada = (await fixture.openInbox(ACME_ADMIN_KEY)).page;
  const visitor = await fixture.visit({ boot: { name: "Pat Visitor" } });
  await widgetReady(visitor.page);
  const widget = widgetParts(visitor.page);
  await widget.launcher.click();
  await widget.input.fill("Hello");
  await widget.input.press("Enter");
  await ada.locator("#conversations button", { hasText: "Pat Visitor" })
    .click();
  await ada.locator("#messages li.visitor", { hasText: "Hello" }).waitFor();

  // The visitor types; the inbox shows it in the open conversation.
  const visitorCalls = callsOf(visitor.page, "chat.typing");
  await widget.input.pressSequentially("Where is my", { delay: 40 });
  const inboxTyping = ada.locator("#typing");
  await inboxTyping.filter({ hasText: "Pat Visitor is typing…" }).waitFor();
  assert.equal(visitorCalls.length, 1, "11 keystrokes in under 3 s");
  await widget.input.press("Enter");
  await ada.locator("#messages li.visitor", { hasText: "Where is my" })
    .waitFor();
  assert.equal(await inboxTyping.textContent(), "", "a message hides it");

  // Ada types for over 3 s: two typing calls, two events for the widget.
  await watchWidgetChanges(visitor.page);
  const agentCalls = callsOf(ada, "agent.typing");
  await ada.locator("#reply-text").pressSequentially(
    "Let me look that up for you",
    { delay: 130 },
  );
  await widget.typing.filter({ hasText: "Ada Lovelace is typing…" }).waitFor();
  assert.ok(agentCalls.length >= 2, `${agentCalls.length} typing calls`);
  for (let call = 1; call < agentCalls.length; call++) {
    const gap = agentCalls[call]! - agentCalls[call - 1]!;
    // The page's clock and the test's see the same calls a few ms apart.
    assert.ok(gap >= 2_900, `typing calls ${gap} ms apart`);
  }
  assert.equal(await widget.typing.getAttribute("role"), "status");
  assert.equal(
    await widget.log.locator(".typing").count(),
    0,
    "the typing line is not in the log",
  );
  assert.deepEqual(
    await widgetChanges(visitor.page),
    { log: 0, typing: 1 },
    "typing adds nothing to the log, and sets its line once",
  );

  // Ada's message hides it at once.
  await ada.locator("#reply-text").press("Enter");
  await widget.log.locator("li.agent", { hasText: "Let me look that up" })
    .waitFor();
  assert.equal(await widget.typing.textContent(), "");
  assert.equal((await widgetChanges(visitor.page)).typing, 2);

  // One keystroke, no message: the line goes by itself after about 5 s.
  await ada.locator("#reply-text").pressSequentially("O");
  await widget.typing.filter({ hasText: "is typing" }).waitFor();
  const shownAt = Date.now();
  await widget.typing.filter({ hasText: "is typing" }).waitFor({
    state: "detached",
    timeout: 10_000,
  });
  const shownFor = Date.now() - shownAt;
  assert.ok(shownFor >= 4_000, `shown for ${shownFor} ms`);
  assert.deepEqual(visitor.watch.pageErrors, []);
});
