/**
 * Live updates for every stream of this process: one hub per organization
 * reads the organization's feed when the store says it grew, and fans each
 * entry out to the streams that want it. An idle stream costs no store
 * reads at all; a new message costs one feed read per organization and
 * process, however many streams watch it.
 *
 * A stream that joins with a resume cursor registers first, then catches up
 * by reading past its cursor, then takes the live entries it has not seen:
 * nothing committed after it joined can be missed (the hub reads every entry
 * in commit order), and nothing is delivered twice (cursors only grow).
 *
 * @module
 */

import type { ChangeFeed } from "../store/change_feed.ts";
import type {
  Conversation,
  ConversationStore,
  FeedEntry,
} from "../store/conversation_store.ts";
import type { AgentIdentity, ChatMessage } from "../wire/records.ts";
import { ChatError } from "./chat_error.ts";
import { parseMessageId } from "./message_id.ts";

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

/** Entries read per feed or message page. */
const PAGE = 200;
/** Entries a stream may fall behind by before it is ended (it may resume). */
const MAX_QUEUED = 1_000;
/** Longest wait before reading a feed again after the store failed. */
const MAX_RETRY_MS = 5_000;

/** The live updates of every organization, for the streams of this process. */
export class LiveFeed {
  readonly #records: ConversationStore;
  readonly #changes: ChangeFeed;
  readonly #hubs = new Map<string, OrganizationHub>();

  /**
   * @param records Where the feeds are read.
   * @param changes Which feeds grew.
   */
  constructor(records: ConversationStore, changes: ChangeFeed) {
    this.#records = records;
    this.#changes = changes;
  }

  /**
   * The newest feed position of an organization: an organization watch
   * cannot resume after a later one.
   *
   * @param organizationId The organization.
   * @returns Its feed's head (0 for an empty feed).
   * @throws {StoreUnavailableError} When the store fails.
   */
  async feedHead(organizationId: string): Promise<number> {
    return await this.#records.feedHead(organizationId);
  }

  /** Organizations with at least one open watch in this process. */
  get watchedOrganizations(): number {
    return this.#hubs.size;
  }

  /**
   * Live messages of one conversation after the message id `after` (or, by
   * default, after its newest message), ending with a `closed` event once it
   * is closed (or purged).
   *
   * @throws {ChatError} `conversation-not-found`, `cursor-invalid` (on first iteration).
   */
  async *conversation(
    organizationId: string,
    conversationId: string,
    options: WatchOptions,
  ): AsyncGenerator<WatchEvent, void, undefined> {
    if (
      options.after !== undefined && parseMessageId(options.after) === undefined
    ) {
      throw new ChatError("cursor-invalid", "Watch cursor is invalid");
    }
    yield* this.#watch(organizationId, options.signal, async function* (
      records,
      live,
    ) {
      // Status first: a closed conversation takes no more messages, so the
      // pages read after it hold every message it will ever have.
      const conversation = await records.get(organizationId, conversationId);
      if (conversation === undefined) {
        throw new ChatError(
          "conversation-not-found",
          `Conversation "${conversationId}" not found`,
        );
      }
      let cursor = options.after ?? conversation.lastMessage?.id ?? "";
      for (;;) {
        const page = await records.messages(organizationId, conversationId, {
          ...(cursor === "" ? {} : { after: cursor }),
          limit: PAGE,
        });
        for (const message of page) {
          cursor = message.id;
          yield { kind: "message", conversationId, message, cursor };
        }
        if (page.length < PAGE) break;
      }
      if (conversation.status === "closed") {
        yield { kind: "closed", conversationId, cursor };
        return;
      }
      for await (const entry of live) {
        const event = entry.event;
        if (event.conversationId !== conversationId) continue;
        if (event.kind === "message") {
          if (event.message.id <= cursor) continue;
          cursor = event.message.id;
          yield {
            kind: "message",
            conversationId,
            message: event.message,
            cursor,
          };
        } else if (event.kind === "closed") {
          yield { kind: "closed", conversationId, cursor };
          return;
        } else if (event.kind === "updated") {
          yield { ...event, cursor };
        } else {
          yield event;
        }
      }
    });
  }

  /**
   * Live events of every conversation of an organization, after the feed
   * position `after` (or from now), in commit order. A close is reported and
   * the watch goes on.
   *
   * @throws {ChatError} `cursor-invalid` (on first iteration).
   */
  async *organization(
    organizationId: string,
    options: WatchOptions,
  ): AsyncGenerator<WatchEvent, void, undefined> {
    const after = options.after === undefined
      ? undefined
      : parseFeedCursor(options.after);
    if (after === null) {
      throw new ChatError("cursor-invalid", "Watch cursor is invalid");
    }
    yield* this.#watch(organizationId, options.signal, async function* (
      records,
      live,
      head,
    ) {
      if (
        after !== undefined && after > (await records.feedHead(organizationId))
      ) {
        throw new ChatError(
          "cursor-invalid",
          "Watch cursor is ahead of the feed",
        );
      }
      let seen = after ?? head;
      if (after !== undefined) {
        for (;;) {
          const page = await records.feed(organizationId, seen, PAGE);
          for (const entry of page) {
            seen = entry.seq;
            // A resuming stream is not told who typed while it was away.
            if (entry.event.kind !== "typing") yield organizationEvent(entry);
          }
          if (page.length < PAGE) break;
        }
      }
      for await (const entry of live) {
        if (entry.seq <= seen) continue;
        seen = entry.seq;
        yield organizationEvent(entry);
      }
    });
  }

  /**
   * Registers with the organization's hub before `body` catches up, so the
   * live entries it then reads include everything committed after it joined.
   */
  async *#watch(
    organizationId: string,
    signal: AbortSignal,
    body: (
      records: ConversationStore,
      live: AsyncIterable<FeedEntry>,
      head: number,
    ) => AsyncGenerator<WatchEvent, void, undefined>,
  ): AsyncGenerator<WatchEvent, void, undefined> {
    if (signal.aborted) return;
    const hub = this.#hub(organizationId);
    const subscriber = new Subscriber(signal);
    hub.add(subscriber);
    try {
      const head = await hub.ready;
      yield* body(this.#records, subscriber, head);
    } finally {
      subscriber.end();
      if (hub.remove(subscriber)) this.#hubs.delete(organizationId);
    }
  }

  #hub(organizationId: string): OrganizationHub {
    let hub = this.#hubs.get(organizationId);
    if (hub === undefined) {
      hub = new OrganizationHub(organizationId, this.#records, this.#changes);
      this.#hubs.set(organizationId, hub);
    }
    return hub;
  }
}

/** An organization watch's event for a feed entry. */
function organizationEvent(entry: FeedEntry): WatchEvent {
  const cursor = String(entry.seq);
  const event = entry.event;
  switch (event.kind) {
    case "message":
      return { ...event, cursor };
    case "closed":
      return { ...event, cursor };
    case "updated":
      return { ...event, cursor };
    case "typing":
      return event;
  }
}

/**
 * Whether text is a cursor a conversation watch can resume after (a message
 * id), so a caller can refuse it before it opens a stream.
 *
 * @param cursor Text from a client (`Last-Event-ID`).
 * @returns `true` when {@linkcode LiveFeed.conversation} takes it as `after`.
 */
export function isConversationCursor(cursor: string): boolean {
  return parseMessageId(cursor) !== undefined;
}

/**
 * Whether text is a cursor an organization watch can resume after (a feed
 * position), so a caller can refuse it before it opens a stream.
 *
 * @param cursor Text from a client (`Last-Event-ID`).
 * @returns `true` when {@linkcode LiveFeed.organization} takes it as `after`
 *   (it may still be ahead of the feed).
 */
export function isFeedCursor(cursor: string): boolean {
  return parseFeedCursor(cursor) !== null;
}

/** A feed position from a cursor; `null` when it is not one. */
function parseFeedCursor(cursor: string): number | null {
  if (!/^\d{1,15}$/.test(cursor)) return null;
  return Number(cursor);
}

/** One organization's feed, read once per change for all its watchers here. */
class OrganizationHub {
  readonly #organizationId: string;
  readonly #records: ConversationStore;
  readonly #subscribers = new Set<Subscriber>();
  readonly #unwatch: () => void;
  /** The feed position read up to; resolves once known. */
  readonly ready: Promise<number>;
  #head = 0;
  #reading = false;
  #again = false;
  #failures = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(
    organizationId: string,
    records: ConversationStore,
    changes: ChangeFeed,
  ) {
    this.#organizationId = organizationId;
    this.#records = records;
    // Watch before reading the head: a write in between wakes the hub.
    this.#unwatch = changes.watch(organizationId, () => void this.#pull());
    this.ready = this.#start();
    // A failed start is the first watcher's error; later ones see it too.
    this.ready.catch(() => {});
  }

  add(subscriber: Subscriber): void {
    this.#subscribers.add(subscriber);
  }

  /** @returns Whether the hub is now empty (and closed). */
  remove(subscriber: Subscriber): boolean {
    this.#subscribers.delete(subscriber);
    if (this.#subscribers.size > 0) return false;
    this.#closed = true;
    this.#unwatch();
    clearTimeout(this.#retry);
    return true;
  }

  async #start(): Promise<number> {
    this.#head = await this.#records.feedHead(this.#organizationId);
    return this.#head;
  }

  async #pull(): Promise<void> {
    if (this.#closed) return;
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#reading = true;
    try {
      await this.ready;
      for (;;) {
        this.#again = false;
        const page = await this.#records.feed(
          this.#organizationId,
          this.#head,
          PAGE,
        );
        for (const entry of page) {
          this.#head = entry.seq;
          for (const subscriber of this.#subscribers) subscriber.push(entry);
        }
        if (page.length < PAGE && !this.#again) break;
      }
      this.#failures = 0;
    } catch {
      // The store failed: read again soon, then after longer waits.
      if (!this.#closed) {
        const delay = Math.min(MAX_RETRY_MS, 250 * 2 ** this.#failures++);
        clearTimeout(this.#retry);
        this.#retry = setTimeout(() => void this.#pull(), delay);
      }
    } finally {
      this.#reading = false;
    }
  }
}

/** A watch's queue of live entries, read as an async iterable. */
class Subscriber implements AsyncIterable<FeedEntry> {
  readonly #queue: FeedEntry[] = [];
  readonly #signal: AbortSignal;
  #wake: (() => void) | undefined;
  #ended = false;
  #lagging = false;

  constructor(signal: AbortSignal) {
    this.#signal = signal;
    signal.addEventListener("abort", () => this.end(), { once: true });
  }

  push(entry: FeedEntry): void {
    if (this.#ended) return;
    if (this.#queue.length >= MAX_QUEUED) {
      this.#lagging = true;
      this.end();
      return;
    }
    this.#queue.push(entry);
    this.#wake?.();
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<FeedEntry, void, undefined> {
    for (;;) {
      while (this.#queue.length > 0) yield this.#queue.shift()!;
      if (this.#lagging) {
        throw new ChatError(
          "watch-lagging",
          "The stream fell too far behind; resume from its last event",
        );
      }
      if (this.#ended || this.#signal.aborted) return;
      await new Promise<void>((resolve) => this.#wake = resolve);
      this.#wake = undefined;
    }
  }
}
