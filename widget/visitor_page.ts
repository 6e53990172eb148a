/**
 * The page the visitor is on, for agents: read at boot and again after each
 * SPA navigation (`history.pushState`/`replaceState`, `popstate`), which is
 * debounced so a router's burst of calls and its late `document.title` make
 * one report.
 *
 * @module
 */

import type { PageInfo } from "../wire/mod.ts";
import type { TypingTimers } from "./typing_signal.ts";

/** The wire's longest `url` and `referrer`. */
const MAX_URL_LENGTH = 2048;
/** The wire's longest `title`. */
const MAX_TITLE_LENGTH = 300;

/** Where a navigation settles before it is reported. */
export const NAVIGATION_SETTLE_MS = 300;

/**
 * The page as the wire takes it: the URL without its `#fragment` (which may
 * carry a client-side token, and is not the server's to know), the title cut
 * to 300 characters, a referrer only when it fits.
 *
 * @param location the page's `location`
 * @param document the page's `document`
 * @returns the page, or `undefined` when its URL is too long to send
 */
export function currentPage(
  location: { readonly href: string },
  document: { readonly title: string; readonly referrer: string },
): PageInfo | undefined {
  const url = location.href.split("#")[0]!;
  if (url.length > MAX_URL_LENGTH) return undefined;
  const title = document.title.slice(0, MAX_TITLE_LENGTH);
  const referrer = document.referrer.length > MAX_URL_LENGTH
    ? ""
    : document.referrer;
  return {
    url,
    ...(title ? { title } : {}),
    ...(referrer ? { referrer } : {}),
  };
}

/** What `watchNavigations` needs of `window`. */
export interface NavigationWindow {
  readonly history: Pick<History, "pushState" | "replaceState">;
  addEventListener(type: "popstate", listener: () => void): void;
  removeEventListener(type: "popstate", listener: () => void): void;
}

/**
 * Calls `onNavigate` once a burst of SPA navigations has settled.
 *
 * @returns a function that stops watching; a history method another script
 *   wrapped after ours is left in place, and ours then does nothing more
 */
export function watchNavigations(
  window: NavigationWindow,
  onNavigate: () => void,
  timers: TypingTimers = globalThis,
  settleMs: number = NAVIGATION_SETTLE_MS,
): () => void {
  let active = true;
  let timer: number | undefined;
  const changed = (): void => {
    if (!active) return;
    timers.clearTimeout(timer);
    timer = timers.setTimeout(onNavigate, settleMs);
  };
  const history = window.history;
  const restores = (["pushState", "replaceState"] as const).map((name) => {
    const original = history[name];
    const wrapped = function (
      this: History,
      ...args: Parameters<History["pushState"]>
    ): void {
      original.apply(this, args);
      changed();
    };
    history[name] = wrapped;
    return () => {
      if (history[name] === wrapped) history[name] = original;
    };
  });
  window.addEventListener("popstate", changed);
  return () => {
    active = false;
    timers.clearTimeout(timer);
    window.removeEventListener("popstate", changed);
    for (const restore of restores) restore();
  };
}
