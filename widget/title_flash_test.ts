import assert from "node:assert/strict";
import { ManualClock } from "../tests/manual_clock.ts";
import { ENGLISH } from "./i18n/english.ts";
import { type FlashDocument, TitleFlash } from "./title_flash.ts";

/** The text the widget flashes in English. */
const FLASH_TITLE = ENGLISH.titleFlash;

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
  flash.start(FLASH_TITLE);
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
  flash.start(FLASH_TITLE);
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
  flash.start(FLASH_TITLE);
  assert.equal(flash.flashing, false);
  assert.equal(page.title, "Acme shop — jackets & coats");
  assert.equal(clock.pending, 0);
});

Deno.test("TitleFlash started twice (two messages) keeps one timer and the first saved title", () => {
  const clock = new ManualClock();
  const page = new FakeDocument();
  const flash = new TitleFlash(page, clock);
  flash.start(FLASH_TITLE);
  flash.start(FLASH_TITLE);
  assert.equal(clock.pending, 1);
  assert.equal(page.listeners.size, 1);
  flash.stop();
  assert.equal(page.title, "Acme shop — jackets & coats");
});

Deno.test("TitleFlash keeps a title the page set while it flashed", () => {
  const clock = new ManualClock();
  const page = new FakeDocument();
  const flash = new TitleFlash(page, clock);
  flash.start(FLASH_TITLE);
  page.title = "Checkout — Acme shop";
  clock.advance(1_000);
  assert.equal(page.title, FLASH_TITLE);
  clock.advance(1_000);
  assert.equal(page.title, "Checkout — Acme shop");
  page.title = "Receipt — Acme shop";
  flash.stop();
  assert.equal(page.title, "Receipt — Acme shop");
});

Deno.test("TitleFlash flashes the text it is given: the widget's language", () => {
  const clock = new ManualClock();
  const page = new FakeDocument();
  const flash = new TitleFlash(page, clock);
  flash.start("Neue Nachricht");
  assert.equal(page.title, "Neue Nachricht");
  clock.advance(1_000);
  assert.equal(page.title, "Acme shop — jackets & coats");
  clock.advance(1_000);
  assert.equal(page.title, "Neue Nachricht");
  flash.stop();
  assert.equal(page.title, "Acme shop — jackets & coats");
});
