import assert from "node:assert/strict";
import { ManualClock } from "../tests/manual_clock.ts";
import { FLASH_TITLE, type FlashDocument, TitleFlash } from "./title_flash.ts";

/** A document whose visibility the test sets, with its listeners. */
class FakeDocument implements FlashDocument {
  title = "Acme shop — jackets & coats";
  hidden = true;
  listeners = new Set<() => void>();
  addEventListener(_type: "visibilitychange", listener: () => void): void {
    this.listeners.add(listener);
  }
  removeEventListener(_type: "visibilitychange", listener: () => void): void {
    this.listeners.delete(listener);
  }
  show(): void {
    this.hidden = false;
    for (const listener of [...this.listeners]) listener();
  }
}

Deno.test("TitleFlash alternates the page title with 'New message' while the tab is hidden", () => {
  const clock = new ManualClock();
  const page = new FakeDocument();
  const flash = new TitleFlash(page, clock);
  flash.start();
  const seen = [page.title];
  for (let tick = 0; tick < 3; tick++) {
    clock.advance(1_000);
    seen.push(page.title);
  }
  assert.deepEqual(seen, [
    FLASH_TITLE,
    "Acme shop — jackets & coats",
    FLASH_TITLE,
    "Acme shop — jackets & coats",
  ]);
});

Deno.test("TitleFlash stops when the visitor returns and restores the title exactly", () => {
  const clock = new ManualClock();
  const page = new FakeDocument();
  const flash = new TitleFlash(page, clock);
  flash.start();
  page.show();
  assert.equal(page.title, "Acme shop — jackets & coats");
  assert.equal(flash.flashing, false);
  assert.equal(page.listeners.size, 0);
  assert.equal(clock.pending, 0);
  clock.advance(5_000);
  assert.equal(page.title, "Acme shop — jackets & coats");
});

Deno.test("TitleFlash does not start while the tab is visible", () => {
  const clock = new ManualClock();
  const page = new FakeDocument();
  page.hidden = false;
  const flash = new TitleFlash(page, clock);
  flash.start();
  assert.equal(flash.flashing, false);
  assert.equal(page.title, "Acme shop — jackets & coats");
  assert.equal(clock.pending, 0);
});

Deno.test("TitleFlash started twice (two messages) keeps one timer and the first saved title", () => {
  const clock = new ManualClock();
  const page = new FakeDocument();
  const flash = new TitleFlash(page, clock);
  flash.start();
  flash.start();
  assert.equal(clock.pending, 1);
  assert.equal(page.listeners.size, 1);
  flash.stop();
  assert.equal(page.title, "Acme shop — jackets & coats");
});

Deno.test("TitleFlash keeps a title the page set while it flashed", () => {
  const clock = new ManualClock();
  const page = new FakeDocument();
  const flash = new TitleFlash(page, clock);
  flash.start();
  page.title = "Checkout — Acme shop";
  clock.advance(1_000);
  assert.equal(page.title, FLASH_TITLE);
  clock.advance(1_000);
  assert.equal(page.title, "Checkout — Acme shop");
  page.title = "Receipt — Acme shop";
  flash.stop();
  assert.equal(page.title, "Receipt — Acme shop");
});
