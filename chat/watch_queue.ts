/**
 * A live watch read as an async iterable (`LiveFeed.conversation()`,
 * `LiveFeed.organization()`), and the bound on what a watch may hold back:
 * a reader that falls {@linkcode MAX_QUEUED} events behind is ended with
 * `watch-lagging`, and resumes from its last event.
 *
 * @module
 */

import { ChatError } from "./chat_error.ts";
import type { WatchEvent, WatchListener } from "./live_watch.ts";

/** Entries a watch may hold back while it catches up (or an iterable reader lags) before it is ended. */
export const MAX_QUEUED = 1_000;

/** Why a watch that fell too far behind was ended. */
export function lagging(): ChatError {
  return new ChatError(
    "watch-lagging",
    "The stream fell too far behind; resume from its last event",
  );
}

/**
 * A pushed watch read as an async iterable, for `LiveFeed.conversation()`
 * and `LiveFeed.organization()`.
 */
export class WatchQueue implements WatchListener, AsyncIterable<WatchEvent> {
  readonly #queue: WatchEvent[] = [];
  readonly #signal: AbortSignal;
  #wake: (() => void) | undefined;
  #ended = false;
  #error: unknown;

  constructor(signal: AbortSignal) {
    this.#signal = signal;
    signal.addEventListener("abort", () => this.end(), { once: true });
  }

  event(event: WatchEvent): void {
    if (this.#ended) return;
    if (this.#queue.length >= MAX_QUEUED) {
      this.end(lagging());
      return;
    }
    this.#queue.push(event);
    this.#wake?.();
  }

  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<WatchEvent, void, undefined> {
    for (;;) {
      while (this.#queue.length > 0) yield this.#queue.shift()!;
      if (this.#error !== undefined) throw this.#error;
      if (this.#ended || this.#signal.aborted) return;
      await new Promise<void>((resolve) => this.#wake = resolve);
      this.#wake = undefined;
    }
  }
}
