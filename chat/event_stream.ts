/**
 * Server-Sent Events framing for fetch-streamed responses (`chat.stream` and
 * the agent stream): the widget reads them with `fetch`, not `EventSource`,
 * so it can send its session token in a header.
 *
 * @module
 */

/** One event to frame. */
export interface ServerSentEvent<T> {
  /** Sent as `id:`, the client's `Last-Event-ID` to resume from; none for live-only events. */
  readonly id?: string;
  /** Sent as `event:`. */
  readonly event: string;
  /** Sent as one `data:` line of JSON. */
  readonly data: T;
}

/** Settings of {@linkcode eventStream}. */
export interface EventStreamOptions {
  /** Ends the stream (use the request's signal: it aborts on disconnect). */
  readonly signal: AbortSignal;
  /** Interval of `: ping` comments that keep proxies from closing an idle stream (default 15 000). */
  readonly heartbeatMs?: number;
  /** When given, a first `retry:` frame tells the client how long to wait before reconnecting. */
  readonly retryMs?: number;
}

/** Response headers for an event stream: no caching, no proxy buffering. */
export const EVENT_STREAM_HEADERS: Readonly<Record<string, string>> = Object
  .freeze({
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache, no-store",
    "X-Accel-Buffering": "no",
  });

const LINE_BREAK = /[\r\n\0]/;
/** One encoder for every stream: it holds no state between calls. */
const encoder = new TextEncoder();

/**
 * Frames an async iterable of events as `text/event-stream` bytes, with
 * `: ping` heartbeats. The stream closes when the iterable ends or `signal`
 * aborts; when the consumer cancels, the iterable is asked to return. Since
 * an async generator only returns once its pending step settles, pass the
 * same `signal` to the source of the events.
 *
 * @param events The events, e.g. a `LiveFeed` watch mapped to frames.
 * @param options `signal`, and optional `heartbeatMs` and `retryMs`.
 * @returns A body for `new Response(body, { headers: EVENT_STREAM_HEADERS })`.
 * @throws {TypeError} Through the stream, when an `id` or `event` holds a line break.
 *
 * @example Stream a conversation
 * ```ts ignore
 * const events = live.conversation(orgId, conversationId, { after, signal: request.signal });
 * const frames = (async function* () {
 *   for await (const { cursor, message } of events) {
 *     yield { id: cursor, event: "message", data: message };
 *   }
 * })();
 * return new Response(eventStream(frames, { signal: request.signal }), {
 *   headers: EVENT_STREAM_HEADERS,
 * });
 * ```
 */
export function eventStream<T>(
  events: AsyncIterable<ServerSentEvent<T>>,
  options: EventStreamOptions,
): ReadableStream<Uint8Array> {
  const { signal } = options;
  const heartbeatMs = Math.max(1, options.heartbeatMs ?? 15_000);
  const iterator = events[Symbol.asyncIterator]();
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let finished = false;
  let onAbort: (() => void) | undefined;

  /** Stops timers and listeners, and asks the source to stop; idempotent. */
  function finish(): void {
    if (finished) return;
    finished = true;
    clearInterval(heartbeat);
    if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
    // Not awaited: a generator returns only after its pending step settles.
    iterator.return?.().catch(() => {});
  }

  return new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        if (!finished) controller.enqueue(encoder.encode(text));
      };
      const close = () => {
        if (finished) return;
        finish();
        controller.close();
      };
      if (signal.aborted) {
        close();
        return;
      }
      onAbort = close;
      signal.addEventListener("abort", onAbort, { once: true });
      if (options.retryMs !== undefined) {
        send(`retry: ${Math.max(0, Math.floor(options.retryMs))}\n\n`);
      }
      heartbeat = setInterval(() => send(": ping\n\n"), heartbeatMs);
      (async () => {
        while (!finished) {
          const step = await iterator.next();
          if (step.done) break;
          if (!finished) send(frameEvent(step.value));
        }
        close();
      })().catch((error: unknown) => {
        if (finished) return;
        finish();
        controller.error(error);
      });
    },
    cancel() {
      finish();
    },
  });
}

/**
 * One event as `text/event-stream` text: `id:` (when given), `event:` and
 * one `data:` line of JSON, then a blank line.
 *
 * @param event The event.
 * @returns The frame's text.
 * @throws {TypeError} When the `id` or `event` holds a line break.
 */
export function frameEvent<T>(event: ServerSentEvent<T>): string {
  if (
    (event.id !== undefined && LINE_BREAK.test(event.id)) ||
    LINE_BREAK.test(event.event)
  ) {
    throw new TypeError("Event id and name cannot hold line breaks");
  }
  const id = event.id === undefined ? "" : `id: ${event.id}\n`;
  return `${id}event: ${event.event}\ndata: ${
    JSON.stringify(event.data) ?? "null"
  }\n\n`;
}
