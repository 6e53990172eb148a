/**
 * Typing, both ways, as the wire contract asks: the side that types calls its
 * `typing` method at most once per 3 s, and the side that watches shows
 * "… is typing…" for about 5 s after the last event, or until a message from
 * that side arrives. Shared by the widget and the agent inbox; the clock and
 * timers are parameters so tests can drive them.
 *
 * @module
 */

/** The shortest gap between two typing calls of one side. */
export const TYPING_CALL_INTERVAL_MS = 3_000;

/** How long "typing…" shows after the last typing event. */
export const TYPING_SHOWN_MS = 5_000;

/** Timers an indicator uses; `globalThis`'s by default. */
export interface TypingTimers {
  readonly setTimeout: (callback: () => void, ms: number) => number;
  readonly clearTimeout: (id: number | undefined) => void;
}

/** Calls `send` at most once per interval, however often the user types. */
export class TypingThrottle {
  #send: () => void;
  #now: () => number;
  #intervalMs: number;
  #last = -Infinity;

  /**
   * @param send the typing call (errors are the caller's to swallow)
   * @param now the clock, in milliseconds
   */
  constructor(
    send: () => void,
    now: () => number = Date.now,
    intervalMs: number = TYPING_CALL_INTERVAL_MS,
  ) {
    this.#send = send;
    this.#now = now;
    this.#intervalMs = intervalMs;
  }

  /** A keystroke: sends unless a typing call went out within the interval. */
  input(): void {
    const now = this.#now();
    if (now - this.#last < this.#intervalMs) return;
    this.#last = now;
    this.#send();
  }

  /**
   * A message was sent, which hides the other side's indicator: the next
   * keystroke signals again at once.
   */
  reset(): void {
    this.#last = -Infinity;
  }
}

/** Shows a label while the other side types, and hides it after a pause. */
export class TypingIndicator {
  #show: (label: string) => void;
  #hide: () => void;
  #timers: TypingTimers;
  #shownMs: number;
  #timer: number | undefined;
  #label: string | undefined;

  /**
   * @param show called with the label when it appears or the label changes
   *   (not again on every event, so a live region is not flooded)
   * @param hide called once when it disappears
   */
  constructor(
    show: (label: string) => void,
    hide: () => void,
    timers: TypingTimers = globalThis,
    shownMs: number = TYPING_SHOWN_MS,
  ) {
    this.#show = show;
    this.#hide = hide;
    this.#timers = timers;
    this.#shownMs = shownMs;
  }

  /** Whether the label shows now. */
  get shown(): boolean {
    return this.#label !== undefined;
  }

  /** A typing event: shows `label`, for `shownMs` from now. */
  typing(label: string): void {
    this.#timers.clearTimeout(this.#timer);
    this.#timer = this.#timers.setTimeout(() => this.stop(), this.#shownMs);
    if (this.#label === label) return;
    this.#label = label;
    this.#show(label);
  }

  /** A message from that side arrived (or the view changed): hides at once. */
  stop(): void {
    this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#label === undefined) return;
    this.#label = undefined;
    this.#hide();
  }
}
