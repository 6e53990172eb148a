/**
 * Flashes the page title ("New message", in the widget's language) while the
 * tab is hidden, so a visitor in another tab sees an agent answered, and
 * stops when they come back, restoring the page's title exactly. A page that
 * changes its own title meanwhile (an SPA navigating) keeps its new title.
 *
 * @module
 */

import type { TypingTimers } from "./typing_signal.ts";

/** What the flash needs of `document`. */
export interface FlashDocument {
  title: string;
  readonly hidden: boolean;
  addEventListener(type: "visibilitychange", listener: () => void): void;
  removeEventListener(type: "visibilitychange", listener: () => void): void;
}

/** The page title's flashing while the tab is hidden. */
export class TitleFlash {
  #document: FlashDocument;
  #timers: TypingTimers;
  #periodMs: number;
  #original: string | undefined;
  #text = "";
  #timer: number | undefined;

  /**
   * @param periodMs how long each of the two titles shows
   */
  constructor(
    document: FlashDocument,
    timers: TypingTimers = globalThis,
    periodMs = 1_000,
  ) {
    this.#document = document;
    this.#timers = timers;
    this.#periodMs = periodMs;
  }

  /** Whether the title is flashing now. */
  get flashing(): boolean {
    return this.#original !== undefined;
  }

  /**
   * Starts flashing if the tab is hidden (and it is not flashing yet).
   *
   * @param text the title shown in turn with the page's own
   */
  start(text: string): void {
    if (!this.#document.hidden || this.flashing) return;
    this.#text = text;
    this.#original = this.#document.title;
    this.#document.addEventListener("visibilitychange", this.#onVisibility);
    this.#tick();
  }

  /** Stops flashing and puts the page's title back. */
  stop(): void {
    if (this.#original === undefined) return;
    this.#timers.clearTimeout(this.#timer);
    this.#document.removeEventListener("visibilitychange", this.#onVisibility);
    this.#adoptPageTitle();
    this.#document.title = this.#original;
    this.#original = undefined;
  }

  #tick = (): void => {
    this.#adoptPageTitle();
    const document = this.#document;
    document.title = document.title === this.#text
      ? this.#original!
      : this.#text;
    this.#timer = this.#timers.setTimeout(this.#tick, this.#periodMs);
  };

  /** A title that is neither ours nor the saved one was set by the page. */
  #adoptPageTitle(): void {
    const title = this.#document.title;
    if (title !== this.#text && title !== this.#original) {
      this.#original = title;
    }
  }

  #onVisibility = (): void => {
    if (!this.#document.hidden) this.stop();
  };
}
