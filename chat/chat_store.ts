/**
 * Conversations and messages of every organization on one Deno KV store.
 *
 * Keys (all under `["chat", organizationId, …]`, so one organization's ids
 * never reach another's data):
 *
 * | key | value |
 * | --- | --- |
 * | `conv, convId` | the conversation |
 * | `msg, convId, messageId` | a message; ids sort in creation order |
 * | `by-participant, "user" \| "visitor", id` | the participant's current conversation id |
 * | `by-updated, updatedAtMs, convId` | every conversation (retention) |
 * | `inbox, updatedAtMs, convId` | conversations with messages (agent list) |
 * | `latest, convId` / `latest` | woken on every message (watched) |
 * | `feed, messageId, convId` | org-wide message feed; expires after 7 days |
 * | `purging, convId` | a purge in progress, finished by the next purge |
 *
 * Every write is one atomic commit, checked against the versionstamps it read
 * where a race matters, and retried while SQLite reports `database is locked`.
 *
 * @module
 */

import { type ChatMessage, MAX_MESSAGE_LENGTH } from "../rpc/wire.ts";
import { ChatError } from "./chat_error.ts";
import {
  isDatabaseLocked,
  jitteredBackoff,
  retryWhileLocked,
} from "../store/locked_retry.ts";
import { BatchedReads } from "../store/batched_reads.ts";
import { nextMessageId, parseMessageId } from "./message_id.ts";
import { randomId } from "./random_id.ts";

/** Who a conversation belongs to: a verified user (`sub`) or an anonymous visitor. */
/** Participant pointers remembered per process before the cache starts over. */
const POINTER_CACHE_LIMIT = 100_000;

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
  /** Messages kept (at most the store's bound). */
  readonly messageCount: number;
}

/** One update delivered by {@linkcode ChatStore.watch}. */
export type WatchEvent = MessageWatchEvent | ClosedWatchEvent;

/** A new message in a watched conversation. */
export interface MessageWatchEvent {
  readonly kind: "message";
  /** The conversation the message belongs to. */
  readonly conversationId: string;
  /** The new message. */
  readonly message: ChatMessage;
  /**
   * Pass as `after` to resume right after this event: the message id for a
   * conversation watch, an opaque string for an organization watch.
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

/** Settings of a {@linkcode ChatStore}. */
export interface ChatStoreOptions {
  /** Messages kept per conversation; the oldest are dropped (default 1000). */
  readonly maxMessagesPerConversation?: number;
  /** Longest message text, UTF-16 code units (default the wire's 4000). */
  readonly maxMessageLength?: number;
  /**
   * How often `watch` re-reads without a `kv.watch` wake-up, milliseconds
   * (default 1000): on a SQLite file `kv.watch` does not see writes of other
   * processes (`deno serve --parallel`).
   */
  readonly watchPollMs?: number;
  /** Clock, epoch milliseconds (default `Date.now`). */
  readonly now?: () => number;
}

/** How many times a checked write is re-read and retried after losing a race. */
const MAX_CONFLICT_ATTEMPTS = 30;
/** Longest wait between two such attempts, milliseconds. */
const CONFLICT_BACKOFF_MAX_MS = 100;
const DEFAULT_PAGE = 50;
const MAX_PAGE = 200;
const DEFAULT_CONVERSATION_PAGE = 20;
const MAX_CONVERSATION_PAGE = 100;
const PARTICIPANT_ID_MAX = 256;
const VISITOR_ID_PATTERN = /^[A-Za-z0-9_-]{22,64}$/;
const FEED_EXPIRE_MS = 7 * 24 * 60 * 60 * 1000;
/** The value of a feed entry that records a close; a message's entry holds `null`. */
const CLOSED_MARK = "closed";
type FeedMark = null | typeof CLOSED_MARK;
/**
 * Commits may land this long after their message id's time: one commit
 * attempt's latency plus the clock skew of hosts sharing a KV Connect store.
 */
const FEED_SKEW_MS = 10_000;
/**
 * Most undelivered messages one organization-watch wake-up collects. Only a
 * resume from far behind reaches it; past it, messages whose commits
 * interleave with the next batch's may be skipped.
 */
const FEED_COLLECT_CAP = 5_000;
const PURGE_BATCH = 200;

const ZERO_VERSIONSTAMP = "0".repeat(20);
const ORG_CURSOR_PATTERN = /^([0-9a-f]{20})\.([0-9a-f]{1,12})$/;

type Key = Deno.KvKey;

interface LatestInOrganization {
  readonly conversationId: string;
  readonly messageId: string;
}

/**
 * Whether `id` has the shape of a visitor id from
 * {@linkcode ChatStore.newVisitorId}; the RPC layer issues a fresh id for any
 * other value a page sends.
 *
 * @param id A client-sent visitor id.
 * @returns `true` when it can be used as a visitor id.
 */
export function isVisitorId(id: string): boolean {
  return VISITOR_ID_PATTERN.test(id);
}

/**
 * The chat store: conversations, messages, live updates and retention for
 * every organization, on one Deno KV store shared by all server processes.
 *
 * @example Open a conversation and append a message
 * ```ts ignore
 * const store = new ChatStore(await Deno.openKv("chat.sqlite"));
 * const conversation = await store.openConversation(
 *   "acme",
 *   { kind: "visitor", visitorId: store.newVisitorId() },
 *   { name: "Ada" },
 * );
 * await store.append("acme", conversation.id, "visitor", "Hello");
 * ```
 */
export class ChatStore {
  readonly #kv: Deno.Kv;
  /** Single-key reads, coalesced across concurrent calls. */
  readonly #reads: BatchedReads;
  readonly #maxMessages: number;
  readonly #maxLength: number;
  readonly #pollMs: number;
  readonly #now: () => number;
  /**
   * Participant pointer → conversation id, as this process last saw it. A
   * pointer only changes when its conversation closes, and a closed
   * conversation sends `openConversation` back to the stored pointer, so a
   * stale entry costs one read and is never trusted blindly.
   */
  readonly #pointers = new Map<string, string>();

  /**
   * Creates a store over an open Deno KV.
   *
   * @param kv The store; the caller opens and closes it.
   * @param options Bounds and clock.
   */
  constructor(kv: Deno.Kv, options: ChatStoreOptions = {}) {
    this.#kv = kv;
    this.#reads = new BatchedReads(kv);
    this.#maxMessages = Math.max(1, options.maxMessagesPerConversation ?? 1000);
    this.#maxLength = Math.max(
      1,
      options.maxMessageLength ?? MAX_MESSAGE_LENGTH,
    );
    this.#pollMs = Math.max(10, options.watchPollMs ?? 1000);
    this.#now = options.now ?? Date.now;
  }

  /**
   * A new anonymous visitor id: 144 random bits, URL-safe.
   *
   * @returns 24 characters of `[A-Za-z0-9_-]`.
   */
  newVisitorId(): string {
    return randomId(18);
  }

  /**
   * Finds the participant's open conversation, or creates one (a closed
   * conversation is followed by a new one), and records the attributes given.
   * Concurrent calls for one participant end with one conversation. Visitor
   * ids are looked up within the organization only, so a client-sent id never
   * reaches another organization's data.
   *
   * @param organizationId The organization, already checked by the caller.
   * @param participant A verified user's `sub`, or a visitor id.
   * @param attributes Defined fields replace the stored ones.
   * @returns The open conversation.
   * @throws {ChatError} `participant-invalid`, `store-unavailable`.
   */
  async openConversation(
    organizationId: string,
    participant: Participant,
    attributes: ConversationAttributes,
  ): Promise<Conversation> {
    checkParticipant(participant);
    const pointerKey = participantKey(organizationId, participant);
    const cacheKey = JSON.stringify(pointerKey);
    const remembered = this.#pointers.get(cacheKey);
    if (remembered !== undefined) {
      const known = await this.#read(() =>
        this.#reads.get<Conversation>(
          conversationKey(organizationId, remembered),
        )
      );
      if (
        known.value?.status === "open" &&
        sameAttributes(
          mergeAttributes(known.value.attributes, attributes),
          known.value.attributes,
        )
      ) {
        return known.value;
      }
      this.#pointers.delete(cacheKey);
    }
    for (let attempt = 0; attempt < MAX_CONFLICT_ATTEMPTS; attempt++) {
      const pointer = await this.#read(() =>
        this.#reads.get<string>(pointerKey)
      );
      if (pointer.value !== null) {
        const entry = await this.#read(() =>
          this.#reads.get<Conversation>(
            conversationKey(organizationId, pointer.value),
          )
        );
        if (entry.value?.status === "open") {
          this.#remember(cacheKey, entry.value.id);
          const merged = mergeAttributes(entry.value.attributes, attributes);
          if (sameAttributes(merged, entry.value.attributes)) {
            return entry.value;
          }
          const updated: Conversation = { ...entry.value, attributes: merged };
          const result = await this.#commit(() =>
            this.#kv.atomic().check(entry).set(entry.key, updated)
          );
          if (result.ok) return updated;
          await conflictBackoff(attempt);
          continue;
        }
      }
      const nowMs = this.#now();
      const at = new Date(nowMs).toISOString();
      const conversation: Conversation = {
        id: randomId(16),
        organizationId,
        participant: copyParticipant(participant),
        verified: participant.kind === "user",
        attributes: mergeAttributes({}, attributes),
        status: "open",
        createdAt: at,
        updatedAt: at,
        messageCount: 0,
      };
      const result = await this.#commit(() =>
        this.#kv.atomic()
          .check(pointer)
          .set(pointerKey, conversation.id)
          .set(conversationKey(organizationId, conversation.id), conversation)
          .set(updatedKey(organizationId, nowMs, conversation.id), null)
      );
      if (result.ok) {
        this.#remember(cacheKey, conversation.id);
        return conversation;
      }
      await conflictBackoff(attempt);
    }
    throw contended("openConversation");
  }

  /**
   * Reads a conversation of this organization.
   *
   * @param organizationId The organization.
   * @param conversationId The conversation id.
   * @returns The conversation, or `undefined` (also for another organization's id).
   */
  async getConversation(
    organizationId: string,
    conversationId: string,
  ): Promise<Conversation | undefined> {
    const entry = await this.#read(() =>
      this.#reads.get<Conversation>(
        conversationKey(organizationId, conversationId),
      )
    );
    return entry.value ?? undefined;
  }

  /**
   * Appends a message in one atomic commit that also moves the conversation's
   * `updatedAt`/`lastMessage`, its index entries and the watched keys, and
   * drops the oldest messages beyond the bound.
   *
   * @param organizationId The organization.
   * @param conversationId An open conversation of that organization.
   * @param author `visitor` or `agent`.
   * @param text Non-blank, at most the length bound.
   * @returns The stored message; its id is greater than every earlier one of the conversation.
   * @throws {ChatError} `conversation-not-found`, `conversation-closed`, `message-invalid`, `store-unavailable`.
   */
  async append(
    organizationId: string,
    conversationId: string,
    author: "visitor" | "agent",
    text: string,
  ): Promise<ChatMessage> {
    if (text.trim() === "" || text.length > this.#maxLength) {
      throw new ChatError(
        "message-invalid",
        `Message text must be 1 to ${this.#maxLength} characters and not blank`,
      );
    }
    const key = conversationKey(organizationId, conversationId);
    for (let attempt = 0; attempt < MAX_CONFLICT_ATTEMPTS; attempt++) {
      const entry = await this.#read(() => this.#reads.get<Conversation>(key));
      const current = entry.value;
      if (current === null) throw notFound(conversationId);
      if (current.status === "closed") {
        throw new ChatError(
          "conversation-closed",
          `Conversation "${conversationId}" is closed`,
        );
      }
      const nowMs = this.#now();
      const message: ChatMessage = {
        id: nextMessageId(current.lastMessage?.id, nowMs),
        text,
        author,
        at: new Date(nowMs).toISOString(),
      };
      const excess = current.messageCount + 1 - this.#maxMessages;
      const dropped = excess > 0
        ? await this.#oldestMessageKeys(organizationId, conversationId, excess)
        : [];
      const updated: Conversation = {
        ...current,
        updatedAt: message.at,
        lastMessage: message,
        messageCount: current.messageCount + 1 - dropped.length,
      };
      const previousMs = Date.parse(current.updatedAt);
      const result = await this.#commit(() => {
        const operation = this.#kv.atomic()
          .check(entry)
          .set(messageKey(organizationId, conversationId, message.id), message)
          .set(key, updated)
          .delete(updatedKey(organizationId, previousMs, conversationId))
          .set(updatedKey(organizationId, nowMs, conversationId), null)
          .delete(inboxKey(organizationId, previousMs, conversationId))
          .set(inboxKey(organizationId, nowMs, conversationId), null)
          .set(latestKey(organizationId, conversationId), message.id)
          .set(
            organizationLatestKey(organizationId),
            {
              conversationId,
              messageId: message.id,
            } satisfies LatestInOrganization,
          )
          .set(feedKey(organizationId, message.id, conversationId), null, {
            expireIn: FEED_EXPIRE_MS,
          });
        for (const droppedKey of dropped) operation.delete(droppedKey);
        return operation;
      });
      if (result.ok) return message;
      await conflictBackoff(attempt);
    }
    throw contended("append");
  }

  /**
   * Messages of a conversation, oldest first.
   *
   * @param organizationId The organization.
   * @param conversationId The conversation.
   * @param options `after`: a message id, exclusive; `limit`: default 50, at most 200.
   * @returns Up to `limit` messages after `after`.
   * @throws {ChatError} `conversation-not-found`.
   */
  async listMessages(
    organizationId: string,
    conversationId: string,
    options: { readonly after?: string; readonly limit?: number } = {},
  ): Promise<ChatMessage[]> {
    if (
      options.after !== undefined && parseMessageId(options.after) === undefined
    ) {
      throw new ChatError(
        "cursor-invalid",
        'Cursor "after" is not a message id',
      );
    }
    await this.#requireConversation(organizationId, conversationId);
    return await this.#messagesAfter(
      organizationId,
      conversationId,
      options.after,
      pageSize(options.limit, DEFAULT_PAGE, MAX_PAGE),
    );
  }

  /**
   * The latest messages of a conversation just opened (what `chat.boot`
   * shows), oldest first. It takes the conversation itself, so a boot pays no
   * second read for it, and a first visit (no messages yet) pays none at all.
   *
   * @param conversation From {@linkcode openConversation} or {@linkcode getConversation}.
   * @param limit Default 50, at most 200.
   * @returns Up to `limit` messages ending with the newest.
   */
  async recentMessages(
    conversation: Conversation,
    limit?: number,
  ): Promise<ChatMessage[]> {
    if (conversation.messageCount === 0) return [];
    const messages = await this.#read(() =>
      collect(
        this.#kv.list<ChatMessage>(
          {
            prefix: messagePrefix(conversation.organizationId, conversation.id),
          },
          { reverse: true, limit: pageSize(limit, DEFAULT_PAGE, MAX_PAGE) },
        ),
      )
    );
    return messages.map((entry) => entry.value).reverse();
  }

  /**
   * Conversations that have messages, newest `updatedAt` first.
   *
   * @param organizationId The organization.
   * @param options `cursor` from the previous page; `limit` default 20, at most 100.
   * @returns A page, and a `cursor` when more may follow.
   * @throws {ChatError} `cursor-invalid`.
   */
  async listConversations(
    organizationId: string,
    options: { readonly cursor?: string; readonly limit?: number } = {},
  ): Promise<{ conversations: Conversation[]; cursor?: string }> {
    const limit = pageSize(
      options.limit,
      DEFAULT_CONVERSATION_PAGE,
      MAX_CONVERSATION_PAGE,
    );
    const ids: string[] = [];
    let cursor: string | undefined;
    try {
      await this.#read(async () => {
        ids.length = 0;
        const iterator = this.#kv.list(
          { prefix: ["chat", organizationId, "inbox"] },
          {
            reverse: true,
            limit,
            ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
          },
        );
        for await (const entry of iterator) ids.push(String(entry.key[4]));
        cursor = ids.length === limit ? iterator.cursor : undefined;
      });
    } catch (error) {
      // Deno KV rejects a forged or foreign cursor with "invalid cursor".
      if (!(error instanceof TypeError) || !/cursor/i.test(error.message)) {
        throw error;
      }
      throw new ChatError("cursor-invalid", "Conversation cursor is invalid", {
        cause: error,
      });
    }
    const entries = await Promise.all(
      ids.map((id) =>
        this.#read(() =>
          this.#reads.get<Conversation>(conversationKey(organizationId, id))
        )
      ),
    );
    const conversations = entries.flatMap((entry) =>
      entry.value === null ? [] : [entry.value]
    );
    return cursor === undefined ? { conversations } : { conversations, cursor };
  }

  /**
   * Closes a conversation; the participant's next `openConversation` starts
   * a new one. Closing a closed conversation changes nothing.
   *
   * @param organizationId The organization.
   * @param conversationId The conversation.
   * @returns The closed conversation, or `undefined` when there is none.
   * @throws {ChatError} `store-unavailable`.
   */
  async close(
    organizationId: string,
    conversationId: string,
  ): Promise<Conversation | undefined> {
    const key = conversationKey(organizationId, conversationId);
    for (let attempt = 0; attempt < MAX_CONFLICT_ATTEMPTS; attempt++) {
      const entry = await this.#read(() => this.#reads.get<Conversation>(key));
      const current = entry.value;
      if (current === null) return undefined;
      if (current.status === "closed") return current;
      const nowMs = this.#now();
      const updated: Conversation = {
        ...current,
        status: "closed",
        updatedAt: new Date(nowMs).toISOString(),
      };
      const previousMs = Date.parse(current.updatedAt);
      // Sorts after the conversation's messages in the organization's feed.
      const feedId = nextMessageId(current.lastMessage?.id, nowMs);
      const result = await this.#commit(() => {
        const operation = this.#kv.atomic()
          .check(entry)
          .set(key, updated)
          .delete(updatedKey(organizationId, previousMs, conversationId))
          .set(updatedKey(organizationId, nowMs, conversationId), null)
          // Wakes the conversation's watchers, which then see it closed.
          .set(
            latestKey(organizationId, conversationId),
            current.lastMessage?.id ?? null,
          )
          // And tells the organization's watchers (agents' inboxes).
          .set(
            organizationLatestKey(organizationId),
            {
              conversationId,
              messageId: feedId,
            } satisfies LatestInOrganization,
          )
          .set(feedKey(organizationId, feedId, conversationId), CLOSED_MARK, {
            expireIn: FEED_EXPIRE_MS,
          });
        if (current.lastMessage !== undefined) {
          operation
            .delete(inboxKey(organizationId, previousMs, conversationId))
            .set(inboxKey(organizationId, nowMs, conversationId), null);
        }
        return operation;
      });
      if (result.ok) return updated;
      await conflictBackoff(attempt);
    }
    throw contended("close");
  }

  /**
   * Live messages of one conversation (or, with `conversationId` undefined,
   * of every conversation of the organization), starting after `after` or,
   * without it, after the newest message at the start. Woken by `kv.watch` on
   * the `latest` keys and by a poll (other processes' writes), each wake-up
   * reads everything past the cursor, so nothing is missed or repeated.
   * A conversation watch ends with a `closed` event once the conversation is
   * closed (or purged); an organization watch reports each close and goes on.
   * Every watch ends when `signal` aborts.
   *
   * @param organizationId The organization.
   * @param conversationId One conversation, or `undefined` for all.
   * @param options `after`: a `WatchEvent.cursor`; `signal` ends the watch.
   * @returns Messages in commit order with their resume cursors.
   * @throws {ChatError} `conversation-not-found`, `cursor-invalid` (on first iteration).
   */
  async *watch(
    organizationId: string,
    conversationId: string | undefined,
    options: { readonly after?: string; readonly signal: AbortSignal },
  ): AsyncGenerator<WatchEvent, void, undefined> {
    const { signal } = options;
    if (signal.aborted) return;
    const wakeKey = conversationId === undefined
      ? organizationLatestKey(organizationId)
      : latestKey(organizationId, conversationId);
    // The watch starts before the cursor is read: a write in between wakes it.
    const reader = this.#kv.watch([wakeKey]).getReader();
    let pendingRead: Promise<unknown> | undefined = reader.read();
    try {
      const next = conversationId === undefined
        ? await this.#organizationFeed(organizationId, options.after)
        : await this.#conversationFeed(
          organizationId,
          conversationId,
          options.after,
        );
      while (!signal.aborted) {
        for (const event of await next()) {
          yield event;
          // A closed conversation's watch has nothing more to say.
          const ended = event.kind === "closed" && conversationId !== undefined;
          if (signal.aborted || ended) return;
        }
        const woke = await wakeUp(pendingRead, this.#pollMs, signal);
        if (woke === "watch") pendingRead = reader.read();
        if (woke === "watch-ended") pendingRead = undefined;
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  }

  /**
   * Deletes the conversations of an organization (with their messages and
   * index entries) whose `updatedAt` is older than `now − retentionMs`, and
   * finishes any purge an earlier process left half done.
   *
   * @param organizationId The organization.
   * @param retentionMs The policy's `retention`.
   * @returns How many conversations were deleted.
   */
  async purgeExpired(
    organizationId: string,
    retentionMs: number,
  ): Promise<number> {
    const leftovers = await this.#read(() =>
      collect(this.#kv.list({ prefix: ["chat", organizationId, "purging"] }))
    );
    for (const leftover of leftovers) {
      await this.#deleteMessages(organizationId, String(leftover.key[3]));
      await this.#commit(() => this.#kv.atomic().delete(leftover.key));
    }
    const cutoffMs = this.#now() - retentionMs;
    // Read lazily, batch by batch: an organization may hold many expired ones.
    const expired = this.#kv.list({
      start: ["chat", organizationId, "by-updated"],
      end: ["chat", organizationId, "by-updated", cutoffMs],
    });
    let deleted = 0;
    for await (const indexEntry of expired) {
      const conversationId = String(indexEntry.key[4]);
      const outcome = await this.#purgeOne(
        organizationId,
        conversationId,
        cutoffMs,
      );
      if (outcome === "purged") deleted++;
      // A stale index entry (its conversation is gone) is dropped.
      if (outcome === "missing") {
        await this.#commit(() => this.#kv.atomic().delete(indexEntry.key));
      }
    }
    return deleted;
  }

  async #purgeOne(
    organizationId: string,
    conversationId: string,
    cutoffMs: number,
  ): Promise<"purged" | "missing" | "kept"> {
    const key = conversationKey(organizationId, conversationId);
    for (let attempt = 0; attempt < MAX_CONFLICT_ATTEMPTS; attempt++) {
      const entry = await this.#read(() => this.#reads.get<Conversation>(key));
      const current = entry.value;
      if (current === null) return "missing";
      const updatedMs = Date.parse(current.updatedAt);
      if (updatedMs >= cutoffMs) return "kept";
      const pointerKey = participantKey(organizationId, current.participant);
      const pointer = await this.#read(() =>
        this.#reads.get<string>(pointerKey)
      );
      const result = await this.#commit(() => {
        const operation = this.#kv.atomic()
          .check(entry, pointer)
          .delete(key)
          .delete(updatedKey(organizationId, updatedMs, conversationId))
          .delete(inboxKey(organizationId, updatedMs, conversationId))
          .delete(latestKey(organizationId, conversationId))
          .set(["chat", organizationId, "purging", conversationId], null);
        if (pointer.value === conversationId) operation.delete(pointerKey);
        return operation;
      });
      if (result.ok) {
        await this.#deleteMessages(organizationId, conversationId);
        await this.#commit(() =>
          this.#kv.atomic().delete([
            "chat",
            organizationId,
            "purging",
            conversationId,
          ])
        );
        return "purged";
      }
      await conflictBackoff(attempt);
    }
    throw contended("purgeExpired");
  }

  async #deleteMessages(
    organizationId: string,
    conversationId: string,
  ): Promise<void> {
    const prefix = messagePrefix(organizationId, conversationId);
    // Bounded: each round deletes a full batch or ends the loop.
    for (;;) {
      const batch = await this.#read(() =>
        collect(this.#kv.list({ prefix }, { limit: PURGE_BATCH }))
      );
      if (batch.length === 0) return;
      await this.#commit(() => {
        const operation = this.#kv.atomic();
        for (const entry of batch) operation.delete(entry.key);
        return operation;
      });
      if (batch.length < PURGE_BATCH) return;
    }
  }

  /** A reader of one conversation's new messages, past a message-id cursor. */
  async #conversationFeed(
    organizationId: string,
    conversationId: string,
    after: string | undefined,
  ): Promise<() => Promise<WatchEvent[]>> {
    let known: Conversation | undefined = await this.#requireConversation(
      organizationId,
      conversationId,
    );
    let cursor = after ?? known.lastMessage?.id;
    return async () => {
      // Status first: a closed conversation takes no more messages, so the
      // pages read after it hold every message it will ever have. The first
      // call uses the read that found the conversation.
      const status = known?.status ??
        (await this.getConversation(organizationId, conversationId))?.status;
      known = undefined;
      const closed = status !== "open";
      const events: WatchEvent[] = [];
      for (;;) {
        const page = await this.#messagesAfter(
          organizationId,
          conversationId,
          cursor,
          MAX_PAGE,
        );
        for (const message of page) {
          events.push({
            kind: "message",
            conversationId,
            message,
            cursor: message.id,
          });
          cursor = message.id;
        }
        if (page.length < MAX_PAGE) break;
      }
      if (closed) {
        events.push({ kind: "closed", conversationId, cursor: cursor ?? "" });
      }
      return events;
    };
  }

  /**
   * A reader of an organization's new messages in commit (versionstamp)
   * order. The cursor is `<versionstamp>.<hex ms>`: everything committed up to
   * the versionstamp was delivered, and later commits carry message ids no
   * older than the time minus the clock-skew margin.
   */
  async #organizationFeed(
    organizationId: string,
    after: string | undefined,
  ): Promise<() => Promise<WatchEvent[]>> {
    let cursor: { versionstamp: string; timeMs: number };
    if (after === undefined) {
      const latest = await this.#read(() =>
        this.#reads.get<LatestInOrganization>(
          organizationLatestKey(organizationId),
        )
      );
      cursor = {
        versionstamp: latest.versionstamp ?? ZERO_VERSIONSTAMP,
        timeMs: this.#now(),
      };
    } else {
      const match = ORG_CURSOR_PATTERN.exec(after);
      if (match === null) {
        throw new ChatError("cursor-invalid", "Watch cursor is invalid");
      }
      cursor = {
        versionstamp: match[1] ?? ZERO_VERSIONSTAMP,
        timeMs: parseInt(match[2] ?? "0", 16),
      };
    }
    const prefix = ["chat", organizationId, "feed"];
    return async () => {
      const scanStartedMs = this.#now();
      const startId = (Math.max(0, cursor.timeMs - FEED_SKEW_MS))
        .toString(16).padStart(12, "0");
      const fresh = await this.#read(async () => {
        const found: Deno.KvEntry<FeedMark>[] = [];
        const iterator = this.#kv.list<FeedMark>({
          prefix,
          start: [...prefix, startId],
        });
        for await (const entry of iterator) {
          if (entry.versionstamp > cursor.versionstamp) found.push(entry);
          if (found.length >= FEED_COLLECT_CAP) break;
        }
        return found;
      });
      fresh.sort((a, b) => a.versionstamp < b.versionstamp ? -1 : 1);
      const events: WatchEvent[] = [];
      const messages = await Promise.all(
        fresh.map((entry) =>
          entry.value === CLOSED_MARK
            ? undefined
            : this.#read(() =>
              this.#reads.get<ChatMessage>(
                messageKey(
                  organizationId,
                  String(entry.key[4]),
                  String(entry.key[3]),
                ),
              )
            )
        ),
      );
      fresh.forEach((entry, index) => {
        const message = messages[index]?.value;
        const timeMs = Math.min(
          scanStartedMs,
          parseMessageId(String(entry.key[3]))?.time ?? scanStartedMs,
        );
        cursor = { versionstamp: entry.versionstamp, timeMs };
        const conversationId = String(entry.key[4]);
        if (entry.value === CLOSED_MARK) {
          events.push({
            kind: "closed",
            conversationId,
            cursor: formatOrganizationCursor(cursor),
          });
          return;
        }
        // Dropped by the bound or purged since: nothing to deliver.
        if (message === undefined || message === null) return;
        events.push({
          kind: "message",
          conversationId,
          message,
          cursor: formatOrganizationCursor(cursor),
        });
      });
      if (fresh.length === 0) {
        cursor = { versionstamp: cursor.versionstamp, timeMs: scanStartedMs };
      }
      return events;
    };
  }

  async #messagesAfter(
    organizationId: string,
    conversationId: string,
    after: string | undefined,
    limit: number,
  ): Promise<ChatMessage[]> {
    const prefix = messagePrefix(organizationId, conversationId);
    const selector = after === undefined
      ? { prefix }
      : { prefix, start: [...prefix, after] };
    const entries = await this.#read(() =>
      collect(this.#kv.list<ChatMessage>(selector, { limit: limit + 1 }))
    );
    return entries
      .filter((entry) => entry.key[4] !== after)
      .slice(0, limit)
      .map((entry) => entry.value);
  }

  async #oldestMessageKeys(
    organizationId: string,
    conversationId: string,
    count: number,
  ): Promise<Key[]> {
    // Bounded per append: a lowered bound converges over later appends.
    const entries = await this.#read(() =>
      collect(
        this.#kv.list(
          { prefix: messagePrefix(organizationId, conversationId) },
          { limit: Math.min(count, PURGE_BATCH) },
        ),
      )
    );
    return entries.map((entry) => entry.key);
  }

  #remember(pointer: string, conversationId: string): void {
    if (this.#pointers.size >= POINTER_CACHE_LIMIT) this.#pointers.clear();
    this.#pointers.set(pointer, conversationId);
  }

  async #requireConversation(
    organizationId: string,
    conversationId: string,
  ): Promise<Conversation> {
    const conversation = await this.getConversation(
      organizationId,
      conversationId,
    );
    if (conversation === undefined) throw notFound(conversationId);
    return conversation;
  }

  async #read<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await retryWhileLocked(operation);
    } catch (error) {
      throw unavailable(error);
    }
  }

  async #commit(
    build: () => Deno.AtomicOperation,
  ): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
    try {
      // A fresh operation per attempt: a failed commit is not reused.
      return await retryWhileLocked(() => build().commit());
    } catch (error) {
      throw unavailable(error);
    }
  }
}

/**
 * Waits a jittered, growing moment after a checked commit lost a race, so
 * that writers of one conversation (several tabs, processes, a bot) spread
 * out instead of colliding again.
 */
function conflictBackoff(attempt: number): Promise<void> {
  return jitteredBackoff(attempt, 1, CONFLICT_BACKOFF_MAX_MS);
}

/** Resolves on a `kv.watch` emission, the poll timer, or abort. */
async function wakeUp(
  pendingRead: Promise<unknown> | undefined,
  pollMs: number,
  signal: AbortSignal,
): Promise<"watch" | "watch-ended" | "poll" | "abort"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const racers: Promise<"watch" | "watch-ended" | "poll" | "abort">[] = [
    new Promise((resolve) => {
      timer = setTimeout(() => resolve("poll"), pollMs);
    }),
    new Promise((resolve) => {
      onAbort = () => resolve("abort");
      signal.addEventListener("abort", onAbort, { once: true });
    }),
  ];
  if (pendingRead !== undefined) {
    racers.push(
      pendingRead.then(
        (result) =>
          (result as ReadableStreamReadResult<unknown>).done
            ? "watch-ended"
            : "watch",
        () => "watch-ended",
      ),
    );
  }
  try {
    return await Promise.race(racers);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
  }
}

async function collect<T>(iterator: Deno.KvListIterator<T>): Promise<
  Deno.KvEntry<T>[]
> {
  const entries: Deno.KvEntry<T>[] = [];
  for await (const entry of iterator) entries.push(entry);
  return entries;
}

function pageSize(
  requested: number | undefined,
  fallback: number,
  max: number,
): number {
  if (requested === undefined || !Number.isFinite(requested)) return fallback;
  return Math.min(max, Math.max(1, Math.floor(requested)));
}

function checkParticipant(participant: Participant): void {
  const id = participant.kind === "user"
    ? participant.subject
    : participant.visitorId;
  const valid = participant.kind === "user"
    ? typeof id === "string" && id !== "" && id.length <= PARTICIPANT_ID_MAX
    : typeof id === "string" && isVisitorId(id);
  if (!valid) {
    throw new ChatError(
      "participant-invalid",
      `Participant ${participant.kind} id is invalid`,
    );
  }
}

function copyParticipant(participant: Participant): Participant {
  return participant.kind === "user"
    ? { kind: "user", subject: participant.subject }
    : { kind: "visitor", visitorId: participant.visitorId };
}

function mergeAttributes(
  stored: ConversationAttributes,
  given: ConversationAttributes,
): ConversationAttributes {
  const userId = given.userId ?? stored.userId;
  const email = given.email ?? stored.email;
  const name = given.name ?? stored.name;
  const userData = given.userData ?? stored.userData;
  return {
    ...(userId === undefined ? {} : { userId }),
    ...(email === undefined ? {} : { email }),
    ...(name === undefined ? {} : { name }),
    ...(userData === undefined ? {} : { userData }),
  };
}

function sameAttributes(
  a: ConversationAttributes,
  b: ConversationAttributes,
): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function formatOrganizationCursor(
  cursor: { versionstamp: string; timeMs: number },
): string {
  return `${cursor.versionstamp}.${cursor.timeMs.toString(16)}`;
}

function notFound(conversationId: string): ChatError {
  return new ChatError(
    "conversation-not-found",
    `Conversation "${conversationId}" not found`,
  );
}

function contended(operation: string): ChatError {
  return new ChatError(
    "store-unavailable",
    `Chat store stayed contended during ${operation}`,
  );
}

function unavailable(error: unknown): unknown {
  if (!isDatabaseLocked(error)) return error;
  return new ChatError("store-unavailable", "Chat store is locked", {
    cause: error,
  });
}

function conversationKey(organizationId: string, conversationId: string): Key {
  return ["chat", organizationId, "conv", conversationId];
}

function messagePrefix(organizationId: string, conversationId: string): Key {
  return ["chat", organizationId, "msg", conversationId];
}

function messageKey(
  organizationId: string,
  conversationId: string,
  messageId: string,
): Key {
  return ["chat", organizationId, "msg", conversationId, messageId];
}

function participantKey(organizationId: string, participant: Participant): Key {
  return participant.kind === "user"
    ? ["chat", organizationId, "by-participant", "user", participant.subject]
    : [
      "chat",
      organizationId,
      "by-participant",
      "visitor",
      participant.visitorId,
    ];
}

function updatedKey(
  organizationId: string,
  updatedMs: number,
  conversationId: string,
): Key {
  return ["chat", organizationId, "by-updated", updatedMs, conversationId];
}

function inboxKey(
  organizationId: string,
  updatedMs: number,
  conversationId: string,
): Key {
  return ["chat", organizationId, "inbox", updatedMs, conversationId];
}

function latestKey(organizationId: string, conversationId: string): Key {
  return ["chat", organizationId, "latest", conversationId];
}

function organizationLatestKey(organizationId: string): Key {
  return ["chat", organizationId, "latest"];
}

function feedKey(
  organizationId: string,
  messageId: string,
  conversationId: string,
): Key {
  return ["chat", organizationId, "feed", messageId, conversationId];
}
