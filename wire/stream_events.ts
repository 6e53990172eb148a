/**
 * What `chat.stream` and `agent.stream` send: each Server-Sent Event is an
 * `event:` name and one `data:` line of JSON, typed here as one union per
 * stream, so the server frames them and the clients read them without a
 * cast. Events that can be resumed after carry an `id:` (the stream's
 * cursor); typing and the stream's own end carry none.
 *
 * @module
 */

import type {
  AgentIdentity,
  ChatMessage,
  ConversationSummary,
  VisitorConversation,
} from "./records.ts";
import type { Availability, WidgetConfig } from "./widget_config.ts";
import type { RpcEvents, StreamMethod } from "./methods.ts";

/** A message, with the conversation it belongs to. */
export interface ConversationMessage extends ChatMessage {
  /** The conversation it was written in. */
  readonly conversationId: string;
}

/** `event: message` — a new message. */
export interface NewMessageEvent {
  /** The `event:` name. */
  readonly event: "message";
  /** The `data:` line. */
  readonly data: ConversationMessage;
}

/** `event: closed` for a conversation: it was closed and takes no more messages. */
export interface ConversationClosedEvent {
  /** The `event:` name. */
  readonly event: "closed";
  /** The `data:` line. */
  readonly data: {
    readonly conversationId: string;
    readonly reason: "conversation.closed";
  };
}

/**
 * `event: closed` without a conversation: the stream itself ends, and says
 * why (`session.revoked`, `session.expired`, `agent.key_invalid`,
 * `stream.replaced`, `server.stopping`, …). Nothing follows it.
 */
export interface StreamEndedEvent {
  /** The `event:` name. */
  readonly event: "closed";
  /** The `data:` line. */
  readonly data: { readonly reason: string; readonly conversationId?: never };
}

/** `event: conversation` (agents only): its assignment, contact or page changed. */
export interface ConversationChangedEvent {
  /** The `event:` name. */
  readonly event: "conversation";
  /** The `data:` line. */
  readonly data: {
    readonly conversationId: string;
    readonly conversation: ConversationSummary;
  };
}

/** `event: typing` — the other side is typing; never replayed on resume. */
export interface TypingEvent {
  /** The `event:` name. */
  readonly event: "typing";
  /** The `data:` line. */
  readonly data: {
    readonly conversationId: string;
    readonly author: "visitor" | "agent";
    /** Who, when an agent types. */
    readonly agent?: AgentIdentity;
  };
}

/**
 * The data of `event: ready`, the first event of every `chat.stream`: the
 * conversation the stream follows (`null` when the visitor has none yet: the
 * stream then carries only `availability` events until it is replaced), and
 * the widget settings as they are now. Its `id` is the stream's resume cursor.
 */
export interface StreamReady {
  /** The conversation the stream follows, or `null`. */
  readonly conversation: VisitorConversation | null;
  /** The widget settings now: the same object `chat.getConfig` returns. */
  readonly config: WidgetConfig;
}

/** `event: ready` (visitors only): the first event of a `chat.stream`. */
export interface ReadyEvent {
  /** The `event:` name. */
  readonly event: "ready";
  /** The `data:` line. */
  readonly data: StreamReady;
}

/** `event: availability` (visitors only): an agent came or went, or the hours turned. */
export interface AvailabilityEvent {
  /** The `event:` name. */
  readonly event: "availability";
  /** The `data:` line. */
  readonly data: Availability;
}

/** The events of a visitor's `chat.stream`. */
export type ChatStreamEvent =
  | ReadyEvent
  | NewMessageEvent
  | ConversationClosedEvent
  | TypingEvent
  | AvailabilityEvent
  | StreamEndedEvent;

/** The events of an agent's `agent.stream`, over every conversation. */
export type AgentStreamEvent =
  | NewMessageEvent
  | ConversationClosedEvent
  | ConversationChangedEvent
  | TypingEvent
  | StreamEndedEvent;

/** Any event of either stream. */
export type StreamEvent = ChatStreamEvent | AgentStreamEvent;

/**
 * An event as the server frames it: with its `id:` when it can be resumed
 * after (the stream's cursor).
 */
export type StreamFrame<Event extends StreamEvent = StreamEvent> = Event & {
  readonly id?: string;
};

/** The `event:` names of a union of events. */
export type EventName<Event> = Event extends { readonly event: infer Name }
  ? Name
  : never;

/**
 * The `event:` names each stream sends; a client skips any other, so a newer
 * server's new events leave an older client working.
 */
export const STREAM_EVENT_NAMES: {
  readonly [M in StreamMethod]: readonly EventName<RpcEvents<M>>[];
} = {
  "chat.stream": ["ready", "message", "closed", "typing", "availability"],
  "agent.stream": ["message", "closed", "conversation", "typing"],
};

/**
 * Whether a `closed` event ends the stream itself rather than reporting a
 * closed conversation.
 *
 * @param event A `closed` event of either stream.
 * @returns `true` when nothing follows it on this stream.
 */
export function endsStream(
  event: ConversationClosedEvent | StreamEndedEvent,
): event is StreamEndedEvent {
  return !("conversationId" in event.data);
}
