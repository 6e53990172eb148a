import assert from "node:assert/strict";
import { ManualClock } from "../tests/manual_clock.ts";
import {
  currentPage,
  NAVIGATION_SETTLE_MS,
  type NavigationWindow,
  watchNavigations,
} from "./visitor_page.ts";

const page = { title: "Jackets — Acme", referrer: "https://search.example/" };

Deno.test("currentPage() reports the URL, title and referrer", () => {
  assert.deepEqual(
    currentPage({ href: "https://shop.acme.com/jackets?size=m" }, page),
    {
      url: "https://shop.acme.com/jackets?size=m",
      title: "Jackets — Acme",
      referrer: "https://search.example/",
    },
  );
});

Deno.test("currentPage() drops the #fragment, which may hold a client-side token", () => {
  assert.equal(
    currentPage({ href: "https://shop.acme.com/cb#access_token=abc" }, page)
      ?.url,
    "https://shop.acme.com/cb",
  );
});

Deno.test("currentPage() leaves out an empty title and referrer", () => {
  assert.deepEqual(
    currentPage({ href: "https://shop.acme.com/" }, {
      title: "",
      referrer: "",
    }),
    { url: "https://shop.acme.com/" },
  );
});

Deno.test("currentPage() keeps within the wire's lengths (a longer field would fail the boot)", () => {
  const long = "https://shop.acme.com/?q=" + "x".repeat(2048);
  assert.equal(currentPage({ href: long }, page), undefined);
  const cut = currentPage({ href: "https://shop.acme.com/" }, {
    title: "t".repeat(500),
    referrer: long,
  });
  assert.equal(cut?.title?.length, 300);
  assert.equal(cut?.referrer, undefined);
});

/** A window with a history whose calls are recorded, and popstate. */
function fakeWindow() {
  const calls: string[] = [];
  const target = new EventTarget();
  const window = {
    history: {
      pushState(_data: unknown, _unused: string, url?: string | URL | null) {
        calls.push(`push ${url}`);
      },
      replaceState(
        _data: unknown,
        _unused: string,
        url?: string | URL | null,
      ) {
        calls.push(`replace ${url}`);
      },
    },
    addEventListener: (type: "popstate", listener: () => void) =>
      target.addEventListener(type, listener),
    removeEventListener: (type: "popstate", listener: () => void) =>
      target.removeEventListener(type, listener),
    popstate: () => target.dispatchEvent(new Event("popstate")),
  };
  return { window: window satisfies NavigationWindow, calls };
}

Deno.test("watchNavigations() reports a burst of pushState/replaceState/popstate once it settles", () => {
  const clock = new ManualClock();
  const { window, calls } = fakeWindow();
  let reports = 0;
  watchNavigations(window, () => reports++, clock);
  window.history.pushState({}, "", "/a");
  window.history.replaceState({}, "", "/a?tab=2");
  window.popstate();
  assert.deepEqual(
    calls,
    ["push /a", "replace /a?tab=2"],
    "the page's calls still run",
  );
  clock.advance(NAVIGATION_SETTLE_MS - 1);
  assert.equal(reports, 0);
  clock.advance(1);
  assert.equal(reports, 1);
  window.history.pushState({}, "", "/b");
  clock.advance(NAVIGATION_SETTLE_MS);
  assert.equal(reports, 2);
});

Deno.test("watchNavigations() stops: history methods restored, no more reports", () => {
  const clock = new ManualClock();
  const { window } = fakeWindow();
  const original = window.history.pushState;
  let reports = 0;
  const stop = watchNavigations(window, () => reports++, clock);
  assert.notEqual(window.history.pushState, original);
  window.history.pushState({}, "", "/a");
  stop();
  clock.advance(NAVIGATION_SETTLE_MS);
  window.popstate();
  clock.advance(NAVIGATION_SETTLE_MS);
  assert.equal(reports, 0);
  assert.equal(window.history.pushState, original);
});

Deno.test("watchNavigations() stopped under another script's wrapper leaves that wrapper working", () => {
  const clock = new ManualClock();
  const { window, calls } = fakeWindow();
  let reports = 0;
  const stop = watchNavigations(window, () => reports++, clock);
  const ours = window.history.pushState;
  let theirs = 0;
  window.history.pushState = function (...args) {
    theirs++;
    return ours.apply(this, args);
  };
  stop();
  window.history.pushState({}, "", "/c");
  clock.advance(NAVIGATION_SETTLE_MS);
  assert.equal(theirs, 1);
  assert.deepEqual(calls, ["push /c"]);
  assert.equal(reports, 0);
});
