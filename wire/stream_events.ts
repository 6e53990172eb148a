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
} from "./records.ts";

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

/** The events of a visitor's `chat.stream`. */
export type ChatStreamEvent =
  | NewMessageEvent
  | ConversationClosedEvent
  | TypingEvent
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

/** The `event:` names of `chat.stream`; a client skips any other. */
export const CHAT_STREAM_EVENTS: readonly ChatStreamEvent["event"][] = [
  "message",
  "closed",
  "typing",
];

/** The `event:` names of `agent.stream`; a client skips any other. */
export const AGENT_STREAM_EVENTS: readonly AgentStreamEvent["event"][] = [
  "message",
  "closed",
  "conversation",
  "typing",
];

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
