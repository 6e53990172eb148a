/**
 * The conversation port: the records of the chat (conversations, messages,
 * each organization's event feed) and the operations an adapter makes atomic.
 * The rules of the chat (who may write, message ids, what changes with a
 * message) live in `chat/`, which hands adapters functions that compute the
 * next version of a conversation from the current one; an adapter may call
 * them more than once when it loses a race. A message, an agent and a page
 * are kept as the wire names them (`wire/records.ts`), so what is stored is
 * what is sent.
 *
 * @module
 */

import type {
  AgentIdentity,
  ChatMessage,
  Contact,
  PageInfo,
} from "../wire/records.ts";
import type { OutboxItem } from "./outbox_store.ts";

/** Who a conversation belongs to: a verified user (`sub`) or an anonymous visitor. */
export type Participant =
  | { readonly kind: "user"; readonly subject: string }
  | { readonly kind: "visitor"; readonly visitorId: string };

/** What the page said about the person; for a visitor, unverified. */
export interface ConversationAttributes {
  /** `user_id` as the page sent it (for a verified user, equal to `sub`). */
  readonly userId?: string;
  /** `email` as the page sent it. */
  readonly email?: string;
  /** `name` as the page sent it. */
  readonly name?: string;
  /** The verified token's `user_data`. */
  readonly userData?: Readonly<Record<string, unknown>>;
}

/** A conversation between one participant and the organization's agents. */
export interface Conversation {
  /** Random, URL-safe; unique within the organization. */
  readonly id: string;
  /** The organization it belongs to. */
  readonly organizationId: string;
  /** Whose conversation it is. */
  readonly participant: Participant;
  /** `true` when the participant is a verified user. */
  readonly verified: boolean;
  /** The latest attributes given at boot. */
  readonly attributes: ConversationAttributes;
  /** `closed` after `close`; it then takes no more messages. */
  readonly status: "open" | "closed";
  /** ISO 8601 time. */
  readonly createdAt: string;
  /** ISO 8601 time of the last message or status change. */
  readonly updatedAt: string;
  /** The newest message, absent before the first. */
  readonly lastMessage?: ChatMessage;
  /** Messages kept. */
  readonly messageCount: number;
  /** Oldest messages removed to keep the conversation within its bound. */
  readonly trimmed: number;
  /** The agent the conversation is assigned to. */
  readonly assignee?: AgentIdentity;
  /** The page the visitor was last seen on. */
  readonly page?: PageInfo;
  /** What the visitor left to be answered at (unverified). */
  readonly contact?: Contact;
  /** The locale the visitor reads the widget in (`de`, `pt-BR`), as its last message said. */
  readonly language?: string;
  /** Id of the first visitor message no agent has answered yet. */
  readonly awaitingReplySince?: string;
}

/** One entry of an organization's event feed. */
export type FeedEvent =
  | {
    readonly kind: "message";
    readonly conversationId: string;
    readonly message: ChatMessage;
  }
  | { readonly kind: "closed"; readonly conversationId: string }
  | {
    /** Assignment, contact or page changed. */
    readonly kind: "updated";
    readonly conversationId: string;
    readonly conversation: Conversation;
  }
  | {
    /** Someone is typing; live only, never replayed to a resuming stream. */
    readonly kind: "typing";
    readonly conversationId: string;
    readonly author: "visitor" | "agent";
    readonly agent?: AgentIdentity;
  };

/** A feed event with its place in the feed. */
export interface FeedEntry {
  /**
   * Position in the organization's feed: consecutive integers in commit
   * order, so a reader that has seen `n` has seen everything up to `n`.
   */
  readonly seq: number;
  /** Epoch milliseconds of the commit. */
  readonly at: number;
  /** What happened. */
  readonly event: FeedEvent;
}

/** The next version of a conversation, and what goes with it in one commit. */
export interface ConversationChange {
  /** The next version. */
  readonly conversation: Conversation;
  /** Recorded in the organization's feed in the same commit. */
  readonly event?: FeedEvent;
  /** Webhook deliveries enqueued in the same commit (a transactional outbox). */
  readonly outbox?: readonly OutboxItem[];
}

/** A message and what goes with it in one commit. */
export interface MessageChange {
  /** The new message. */
  readonly message: ChatMessage;
  /** The conversation with this message counted (before any trimming). */
  readonly conversation: Conversation;
  /** Webhook deliveries enqueued in the same commit. */
  readonly outbox?: readonly OutboxItem[];
}

/** How {@linkcode ConversationStore.open} finds or makes a conversation. */
export interface OpenConversation {
  /** The conversation to create when the participant has no open one. */
  create(): Conversation;
  /** The open conversation with fresh attributes, or `undefined` to keep it. */
  refresh(current: Conversation): Conversation | undefined;
}

/** A page of the agent inbox. */
export interface ConversationPage {
  /** Newest `updatedAt` first. */
  readonly conversations: readonly Conversation[];
  /** Pass to the next call; absent on the last page. */
  readonly cursor?: string;
}

/** Which conversations an inbox page holds. */
export interface ConversationFilter {
  /** Only those assigned to this agent id, or (`null`) to nobody. */
  readonly assignee?: string | null;
}

/**
 * Which messages `messages()` reads: after the id `after` (exclusive), or
 * with `newest`, the last `limit` ones.
 */
export interface MessagesQuery {
  /** Read the messages after this message id (exclusive). */
  readonly after?: string;
  /** At most this many messages. */
  readonly limit: number;
  /** The last `limit` messages instead of the first after `after`. */
  readonly newest?: boolean;
}

/** Conversations, messages and feeds of every organization. */
export interface ConversationStore {
  /**
   * The participant's open conversation, refreshed, or a new one: concurrent
   * calls for one participant end with one conversation.
   *
   * @throws {StoreUnavailableError}
   */
  open(
    organizationId: string,
    participant: Participant,
    how: OpenConversation,
  ): Promise<Conversation>;
  /**
   * The participant's open conversation, if there is one; creates nothing
   * (a boot asks this, so visitors who never write leave no rows).
   *
   * @throws {StoreUnavailableError}
   */
  find(
    organizationId: string,
    participant: Participant,
  ): Promise<Conversation | undefined>;
  /** A conversation of this organization (another organization's id is not found). */
  get(
    organizationId: string,
    conversationId: string,
  ): Promise<Conversation | undefined>;
  /**
   * Changes one conversation atomically: `change` gets the current version
   * and returns the next one (or `undefined` for no change; it may throw to
   * refuse). Index entries follow `status`, `updatedAt`, `assignee` and
   * `lastMessage`.
   *
   * @returns The stored version, or `undefined` when there is no such conversation.
   */
  update(
    organizationId: string,
    conversationId: string,
    change: (current: Conversation) => ConversationChange | undefined,
  ): Promise<Conversation | undefined>;
  /**
   * Appends the message `compose` makes from the current conversation, with a
   * `message` feed event, in one commit; then keeps the newest `keep`
   * messages, counting the removed ones in `trimmed`.
   *
   * @returns The message and the stored conversation, or `undefined` when
   *   there is no such conversation.
   */
  append(
    organizationId: string,
    conversationId: string,
    compose: (current: Conversation) => MessageChange,
    keep: number,
  ): Promise<{ message: ChatMessage; conversation: Conversation } | undefined>;
  /**
   * Messages oldest first: after the id `after` (exclusive), or with
   * `newest`, the last `limit` ones.
   */
  messages(
    organizationId: string,
    conversationId: string,
    options: MessagesQuery,
  ): Promise<ChatMessage[]>;
  /**
   * Conversations that have messages, newest `updatedAt` first. Cursors
   * have one form on every engine (`conversation_cursor.ts`); a page that
   * ends the inbox has none.
   *
   * @throws {TypeError} For text that is not a cursor (the message names the cursor).
   */
  list(
    organizationId: string,
    options: {
      readonly cursor?: string;
      readonly limit: number;
      readonly filter?: ConversationFilter;
    },
  ): Promise<ConversationPage>;
  /** Adds an event that changes no conversation (typing) to the feed. */
  publish(organizationId: string, event: FeedEvent): Promise<void>;
  /** Feed entries after `seq`, oldest first. */
  feed(
    organizationId: string,
    after: number,
    limit: number,
  ): Promise<FeedEntry[]>;
  /** The seq of the organization's newest feed entry (0 before the first). */
  feedHead(organizationId: string): Promise<number>;
  /**
   * Deletes conversations idle since before `cutoffMs`, with their messages,
   * and finishes any purge an earlier process left half done.
   *
   * @returns How many conversations were deleted.
   */
  purge(organizationId: string, cutoffMs: number): Promise<number>;
  /**
   * Deletes feed entries committed before `beforeMs` (a resuming stream
   * older than that starts from what is left).
   *
   * @returns How many entries were deleted.
   */
  sweepFeed(organizationId: string, beforeMs: number): Promise<number>;
}
