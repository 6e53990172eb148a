/**
 * What a live watch delivers and how its holder controls it: the events, the
 * listener that receives them in order, and the handles of a running and of a
 * prepared watch ({@linkcode LiveFeed} in `live_feed.ts` runs them).
 *
 * @module
 */

import type { Conversation } from "../store/conversation_store.ts";
import type { AgentIdentity, ChatMessage } from "../wire/records.ts";

/** One update delivered by a watch. */
export type WatchEvent =
  | MessageWatchEvent
  | ClosedWatchEvent
  | UpdatedWatchEvent
  | TypingWatchEvent;

/** A new message. */
export interface MessageWatchEvent {
  readonly kind: "message";
  readonly conversationId: string;
  readonly message: ChatMessage;
  /**
   * Pass as `after` to resume right after this event: the message id for a
   * conversation watch, the feed position for an organization watch.
   */
  readonly cursor: string;
}

/**
 * A conversation was closed. It is the last event of a conversation watch,
 * after every message the conversation took; an organization watch goes on.
 */
export interface ClosedWatchEvent {
  readonly kind: "closed";
  readonly conversationId: string;
  /** The cursor of the last message delivered before it. */
  readonly cursor: string;
}

/** A conversation's assignment, contact or page changed. */
export interface UpdatedWatchEvent {
  readonly kind: "updated";
  readonly conversationId: string;
  readonly conversation: Conversation;
  readonly cursor: string;
}

/** Someone is typing; never replayed to a stream that resumes. */
export interface TypingWatchEvent {
  readonly kind: "typing";
  readonly conversationId: string;
  readonly author: "visitor" | "agent";
  readonly agent?: AgentIdentity;
}

/** Options of a watch. */
export interface WatchOptions {
  /** Resume after this cursor (a `WatchEvent.cursor` of an earlier watch). */
  readonly after?: string;
  /** Ends the watch. */
  readonly signal: AbortSignal;
}

/** Receives a pushed watch's events, in order. */
export interface WatchListener {
  /** One event. */
  event(event: WatchEvent): void;
  /**
   * The watch ended by itself: a conversation watch after its `closed`
   * event (no error), or any watch with an error (`conversation-not-found`,
   * `watch-lagging`, a store failure). Not called after `stop()`.
   */
  end(error?: unknown): void;
}

/** A running pushed watch. */
export interface LiveWatch {
  /** Stops the watch; its listener hears nothing more. Idempotent. */
  stop(): void;
}

/**
 * A watch registered before the caller knows which conversation it will
 * follow ({@linkcode LiveFeed.prepare}): it holds what the organization's
 * feed brings meanwhile, so the caller's own reads need no catch-up read.
 */
export interface PendingWatch {
  /** Resolves once the hub knows its feed position (rejects when the store fails). */
  readonly ready: Promise<void>;
  /**
   * Follows one conversation after the message id `cursor` (`""`: the
   * caller has shown none): what the feed brought since `prepare`, then its
   * live events, as {@linkcode LiveFeed.watchConversation} would. The
   * caller read the conversation (open) and its messages after `prepare`.
   *
   * @returns The watch, to stop.
   */
  follow(
    conversationId: string,
    cursor: string,
    listener: WatchListener,
  ): LiveWatch;
  /** Gives up the registration (nothing to follow). Idempotent. */
  cancel(): void;
}
