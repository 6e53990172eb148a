/**
 * Watch events as the Server-Sent Events of a stream, with the watch cursor
 * as event id so `Last-Event-ID` resumes exactly where a stream left off. A
 * visitor hears the agents type; agents hear the visitor type and see
 * conversations change.
 *
 * @module
 */

import type { Conversation } from "../../chat/chat_store.ts";
import type { WatchEvent, WatchListener } from "../../chat/live_watch.ts";
import type { StreamSink } from "../live_streams.ts";
import type {
  AgentStreamEvent,
  ConversationSummary,
  StreamFrame,
} from "../../wire/mod.ts";

/** Who a stream is for. */
export type StreamAudience = "visitor" | "agents";

/**
 * @param update A watch event.
 * @param audience Who the stream is for.
 * @param summarize How agents see a conversation (agent streams only).
 * @returns The event to send, or `undefined` when this audience gets none.
 */
export function frameOf(
  update: WatchEvent,
  audience: StreamAudience,
  summarize?: (conversation: Conversation) => ConversationSummary,
): StreamFrame<AgentStreamEvent> | undefined {
  switch (update.kind) {
    case "message":
      return {
        id: update.cursor,
        event: "message",
        data: { conversationId: update.conversationId, ...update.message },
      };
    case "closed":
      return {
        id: update.cursor,
        event: "closed",
        data: {
          conversationId: update.conversationId,
          reason: "conversation.closed",
        },
      };
    case "updated":
      if (summarize === undefined) return undefined;
      return {
        id: update.cursor,
        event: "conversation",
        data: {
          conversationId: update.conversationId,
          conversation: summarize(update.conversation),
        },
      };
    case "typing":
      // Nobody is told of their own side typing.
      if (audience === "visitor" && update.author === "visitor") {
        return undefined;
      }
      return {
        event: "typing",
        data: {
          conversationId: update.conversationId,
          author: update.author,
          ...(update.agent === undefined ? {} : { agent: update.agent }),
        },
      };
  }
}

/**
 * A watch's listener that frames its events into a stream's sink; the
 * stream ends when the watch does.
 */
export class FramedWatch implements WatchListener {
  readonly #sink: StreamSink;
  readonly #audience: StreamAudience;
  readonly #summarize:
    | ((conversation: Conversation) => ConversationSummary)
    | undefined;

  /**
   * @param sink The stream.
   * @param audience Who the stream is for.
   * @param summarize How agents see a conversation (agent streams only).
   */
  constructor(
    sink: StreamSink,
    audience: StreamAudience,
    summarize?: (conversation: Conversation) => ConversationSummary,
  ) {
    this.#sink = sink;
    this.#audience = audience;
    this.#summarize = summarize;
  }

  /** Frames one event. */
  event(event: WatchEvent): void {
    const frame = frameOf(event, this.#audience, this.#summarize);
    if (frame !== undefined) this.#sink.send(frame);
  }

  /** The watch ended: so does the stream. */
  end(error?: unknown): void {
    if (error === undefined) this.#sink.close();
    else this.#sink.fail(error);
  }
}
