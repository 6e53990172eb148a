/**
 * A clock and timers that only move when a test says so, for the widget's
 * timing classes (typing, title flash, navigation debounce, inbox alerts).
 *
 * @module
 */

/** Timers driven by `advance`, with the clock they share. */
export class ManualClock {
  #now = 0;
  #nextId = 1;
  #due = new Map<number, { at: number; callback: () => void }>();

  /** The current time, in milliseconds since the clock was made. */
  now = (): number => this.#now;

  /** Like `globalThis.setTimeout`. */
  setTimeout = (callback: () => void, ms: number): number => {
    const id = this.#nextId++;
    this.#due.set(id, { at: this.#now + Math.max(0, ms), callback });
    return id;
  };

  /** Like `globalThis.clearTimeout`. */
  clearTimeout = (id: number | undefined): void => {
    if (id !== undefined) this.#due.delete(id);
  };

  /** Timers still waiting. */
  get pending(): number {
    return this.#due.size;
  }

  /** Moves time forward, running each timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.#due) {
        if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) {
          next = entry;
        }
      }
      if (!next) break;
      this.#due.delete(next[0]);
      this.#now = next[1].at;
      next[1].callback();
    }
    this.#now = end;
  }
}
