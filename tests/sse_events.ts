/**
 * Reads a `text/event-stream` reply event by event, as the widget does, with
 * the time each event arrived — for the stream tests' "within N s" and
 * "nothing after" checks.
 *
 * @module
 */

/** One event read off a stream. */
export interface StreamEvent {
  readonly event: string;
  readonly id?: string;
  // deno-lint-ignore no-explicit-any -- tests read event data loosely
  readonly data: any;
  /** `performance.now()` when it arrived. */
  readonly at: number;
}

/** The events of one stream, collected as they arrive. */
export class EventLog {
  readonly events: StreamEvent[] = [];
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  #waiters: (() => void)[] = [];

  /** @param response A `text/event-stream` reply; its body is read to the end. */
  constructor(response: Response) {
    this.ended = this.#read(response).finally(() => this.#wake());
  }

  /**
   * The first event matching `match`, waiting up to `timeoutMs`.
   *
   * @throws {Error} When none arrives in time.
   */
  async next(
    match: (event: StreamEvent) => boolean,
    timeoutMs = 10_000,
  ): Promise<StreamEvent> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(match);
      if (found !== undefined) return found;
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new Error(
          `No matching event in ${timeoutMs} ms; got ${
            JSON.stringify(this.events.map(({ event, data }) => [event, data]))
          }`,
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, Math.min(left, 250));
      });
      clearTimeout(timer);
    }
  }

  async #read(response: Response): Promise<void> {
    const reader = response.body!.pipeThrough(new TextDecoderStream())
      .getReader();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) !== -1) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          this.#parse(frame);
        }
      }
    } catch {
      // Aborted by the test.
    }
  }

  #parse(frame: string): void {
    let event = "message";
    let id: string | undefined;
    let data: string | undefined;
    for (const line of frame.split("\n")) {
      if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("id: ")) id = line.slice(4);
      else if (line.startsWith("data: ")) data = line.slice(6);
    }
    if (data === undefined) return; // a heartbeat or retry frame
    this.events.push({
      event,
      ...(id === undefined ? {} : { id }),
      data: JSON.parse(data),
      at: performance.now(),
    });
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
