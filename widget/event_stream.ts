/**
 * A `text/event-stream` parser for streams read with `fetch`. The widget
 * cannot use `EventSource`: it must POST and send the session in a header,
 * never in the URL.
 *
 * @module
 */

import {
  type RpcEvents,
  STREAM_EVENT_NAMES,
  type StreamMethod,
} from "../wire/mod.ts";

/** One dispatched server-sent event, as text. */
export interface EventFrame {
  /** The event type; `message` when the server named none. */
  readonly event: string;
  /** The data lines joined with newlines. */
  readonly data: string;
  /** The last event id seen on the stream so far (carried across events). */
  readonly id: string;
}

/**
 * Reads server-sent events from a byte stream until it ends, calling
 * `onEvent` for each complete event. Comment lines (`: ping`) are skipped,
 * and an unfinished event at the end of the stream is dropped, as the
 * HTML standard requires.
 *
 * @param body the response body
 * @param onEvent called for each event, in order
 * @param lastEventId the id to start from (a reconnect's `Last-Event-ID`)
 * @returns the last event id seen, when the stream ends
 */
export async function readEventStream(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: EventFrame) => void,
  lastEventId = "",
): Promise<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let id = lastEventId;
  let event = "";
  let data: string[] = [];

  const takeLine = (line: string): void => {
    if (line === "") {
      if (data.length > 0) {
        onEvent({ event: event || "message", data: data.join("\n"), id });
      }
      event = "";
      data = [];
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") data.push(value);
    else if (field === "event") event = value;
    else if (field === "id" && !value.includes("\0")) id = value;
  };

  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done
        ? decoder.decode()
        : decoder.decode(value, { stream: true });
      // A lone "\r" at the end may be the first half of "\r\n": wait for more.
      const lines = buffer.split(/\r\n|\n|\r(?=.)/s);
      buffer = lines.pop() ?? "";
      for (const line of lines) takeLine(line);
      if (done) {
        if (buffer.endsWith("\r")) takeLine(buffer.slice(0, -1));
        return id;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * A frame as the typed event of a stream (`wire/stream_events.ts`): its name
 * must be one the stream sends, and its data a JSON object; anything else is
 * `undefined`, skipped, so a newer server's new events leave an older client
 * working.
 *
 * @param frame A frame `readEventStream` dispatched.
 * @param method The stream it came from.
 * @returns The event, or `undefined`.
 */
export function streamEventOf<M extends StreamMethod>(
  frame: EventFrame,
  method: M,
): RpcEvents<M> | undefined {
  const names: readonly string[] = STREAM_EVENT_NAMES[method];
  if (!names.includes(frame.event)) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(frame.data);
  } catch {
    return undefined;
  }
  if (typeof data !== "object" || data === null) return undefined;
  // The contract's one trust point: the server frames each event name with
  // that event's data (its frames are typed from the same union).
  return { event: frame.event, data } as RpcEvents<M>;
}
