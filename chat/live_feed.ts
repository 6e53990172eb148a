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
 * Watches are pushed to ({@linkcode LiveFeed.watchConversation},
 * {@linkcode LiveFeed.watchOrganization}): a hub hands each entry to the
 * watches of its conversation (an index, so a message costs nothing for the
 * others) and to the organization's watches, and a watch calls its listener
 * at once. An idle watch is one small object, with no promise, generator or
 * timer of its own, which is what lets a process hold thousands of streams.
 * `conversation()` and `organization()` read the same watches as async
 * iterables.
 *
 * @module
 */

import type { ChangeFeed } from "../store/change_feed.ts";
import type {
  ConversationStore,
  FeedEntry,
} from "../store/conversation_store.ts";
import { ChatError } from "./chat_error.ts";
import { parseMessageId } from "./message_id.ts";
import type {
  LiveWatch,
  PendingWatch,
  WatchEvent,
  WatchListener,
  WatchOptions,
} from "./live_watch.ts";
import { lagging, MAX_QUEUED, WatchQueue } from "./watch_queue.ts";

/** Options of {@linkcode LiveFeed}. */
export interface LiveFeedOptions {
  /**
   * How long an organization's hub stays after its last watch ends,
   * milliseconds (default 0): a visitor's next page reopens its stream
   * without reading the feed's position again. {@linkcode LiveFeed.close}
   * ends lingering hubs.
   */
  readonly lingerMs?: number;
}

/** Entries read per feed or message page. */
const PAGE = 200;
/** Longest wait before reading a feed again after the store failed. */
const MAX_RETRY_MS = 5_000;

/** The live updates of every organization, for the streams of this process. */
export class LiveFeed {
  readonly #records: ConversationStore;
  readonly #changes: ChangeFeed;
  readonly #hubs = new Map<string, OrganizationHub>();
  readonly #lingerMs: number;

  /**
   * @param records Where the feeds are read.
   * @param changes Which feeds grew.
   * @param options How long idle hubs linger.
   */
  constructor(
    records: ConversationStore,
    changes: ChangeFeed,
    options: LiveFeedOptions = {},
  ) {
    this.#records = records;
    this.#changes = changes;
    this.#lingerMs = Math.max(0, options.lingerMs ?? 0);
  }

  /** Ends the hubs that linger with no watch (open watches are the callers' to stop). */
  close(): void {
    for (const hub of [...this.#hubs.values()]) hub.closeIfIdle();
  }

  /**
   * Registers a watch with the organization's hub before the caller reads
   * which conversation to follow and where it stands; see {@linkcode PendingWatch}.
   *
   * @returns The pending watch: `follow` it, or `cancel` it.
   */
  prepare(organizationId: string): PendingWatch {
    const hub = this.#hub(organizationId);
    const pending = new PreparedWatch(hub);
    hub.add(pending);
    return pending;
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
   * Pushes one conversation's messages after the message id `after` (`""`:
   * from its first message; by default, after its newest as the watch
   * catches up, which may already count a message appended while it starts)
   * to `listener`, then its live events, ending with `closed` once it is
   * closed (or purged). Pass a cursor to be exact.
   *
   * @returns The watch, to stop.
   * @throws {ChatError} `cursor-invalid`; `conversation-not-found` reaches `listener.end`.
   */
  watchConversation(
    organizationId: string,
    conversationId: string,
    options: { readonly after?: string | undefined },
    listener: WatchListener,
  ): LiveWatch {
    const after = options.after;
    if (
      after !== undefined && after !== "" && parseMessageId(after) === undefined
    ) {
      throw new ChatError("cursor-invalid", "Watch cursor is invalid");
    }
    const hub = this.#hub(organizationId);
    const watch = new ConversationWatch(hub, conversationId, listener);
    hub.add(watch);
    void watch.catchUp(this.#records, organizationId, after);
    return watch;
  }

  /**
   * Pushes every conversation's live events of an organization after the
   * feed position `after` (or from now) to `listener`, in commit order. A
   * close is reported and the watch goes on.
   *
   * @returns The watch, to stop.
   * @throws {ChatError} `cursor-invalid` (a cursor ahead of the feed reaches `listener.end`).
   */
  watchOrganization(
    organizationId: string,
    options: { readonly after?: string | undefined },
    listener: WatchListener,
  ): LiveWatch {
    const after = options.after === undefined
      ? undefined
      : parseFeedCursor(options.after);
    if (after === null) {
      throw new ChatError("cursor-invalid", "Watch cursor is invalid");
    }
    const hub = this.#hub(organizationId);
    const watch = new OrganizationWatch(hub, listener);
    hub.add(watch);
    void watch.catchUp(this.#records, organizationId, after);
    return watch;
  }

  /**
   * {@linkcode watchConversation} as an async iterable.
   *
   * @throws {ChatError} `conversation-not-found`, `cursor-invalid`, `watch-lagging` (while iterating).
   */
  async *conversation(
    organizationId: string,
    conversationId: string,
    options: WatchOptions,
  ): AsyncGenerator<WatchEvent, void, undefined> {
    if (options.signal.aborted) return;
    const queue = new WatchQueue(options.signal);
    const watch = this.watchConversation(
      organizationId,
      conversationId,
      options,
      queue,
    );
    try {
      yield* queue;
    } finally {
      watch.stop();
    }
  }

  /**
   * {@linkcode watchOrganization} as an async iterable.
   *
   * @throws {ChatError} `cursor-invalid`, `watch-lagging` (while iterating).
   */
  async *organization(
    organizationId: string,
    options: WatchOptions,
  ): AsyncGenerator<WatchEvent, void, undefined> {
    if (options.signal.aborted) return;
    const queue = new WatchQueue(options.signal);
    const watch = this.watchOrganization(organizationId, options, queue);
    try {
      yield* queue;
    } finally {
      watch.stop();
    }
  }

  #hub(organizationId: string): OrganizationHub {
    let hub = this.#hubs.get(organizationId);
    if (hub === undefined) {
      hub = new OrganizationHub(
        organizationId,
        this.#records,
        this.#changes,
        this.#lingerMs,
        () => {
          if (this.#hubs.get(organizationId) === hub) {
            this.#hubs.delete(organizationId);
          }
        },
      );
      this.#hubs.set(organizationId, hub);
    }
    return hub;
  }
}

/**
 * A watch: it holds back the live entries that arrive while it catches up,
 * then takes them as they come.
 */
abstract class Watch implements LiveWatch {
  readonly hub: OrganizationHub;
  readonly #listener: WatchListener;
  /** Live entries held back while catching up; `undefined` once live. */
  #held: FeedEntry[] | undefined = [];
  #stopped = false;

  constructor(hub: OrganizationHub, listener: WatchListener) {
    this.hub = hub;
    this.#listener = listener;
  }

  /** The conversation it follows, or `undefined` for all of them. */
  abstract readonly conversationId: string | undefined;

  get stopped(): boolean {
    return this.#stopped;
  }

  /** A live entry from the hub. */
  push(entry: FeedEntry): void {
    if (this.#stopped) return;
    if (this.#held === undefined) {
      this.take(entry);
    } else if (this.#held.length >= MAX_QUEUED) {
      this.finish(lagging());
    } else {
      this.#held.push(entry);
    }
  }

  /** Live entries held back so far, handed over (the watch holds no more). */
  takeHeld(): FeedEntry[] {
    const held = this.#held ?? [];
    this.#held = [];
    return held;
  }

  /** Caught up: takes what was held back, then goes live. */
  goLive(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const entry of held) {
      if (this.#stopped) return;
      this.take(entry);
    }
  }

  emit(event: WatchEvent): void {
    if (!this.#stopped) this.#listener.event(event);
  }

  /** Ends the watch by itself, telling the listener. */
  finish(error?: unknown): void {
    if (this.#stopped) return;
    this.stop();
    this.#listener.end(error);
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#held = undefined;
    this.hub.remove(this);
  }

  /** A live entry of this watch's conversation (or organization). */
  abstract take(entry: FeedEntry): void;
}

/** One conversation's watch. */
class ConversationWatch extends Watch {
  readonly conversationId: string;
  #cursor = "";

  /**
   * Goes live at once after `cursor`, with the entries a prepared watch
   * held (the caller read the conversation after they started).
   */
  adopt(cursor: string, held: readonly FeedEntry[]): void {
    this.#cursor = cursor;
    for (const entry of held) {
      if (this.stopped) return;
      if (entry.event.conversationId === this.conversationId) this.take(entry);
    }
    this.goLive();
  }

  constructor(
    hub: OrganizationHub,
    conversationId: string,
    listener: WatchListener,
  ) {
    super(hub, listener);
    this.conversationId = conversationId;
  }

  async catchUp(
    records: ConversationStore,
    organizationId: string,
    after: string | undefined,
  ): Promise<void> {
    const conversationId = this.conversationId;
    try {
      await this.hub.ready;
      // Status first: a closed conversation takes no more messages, so the
      // pages read after it hold every message it will ever have.
      const conversation = await records.get(organizationId, conversationId);
      if (conversation === undefined) {
        throw new ChatError(
          "conversation-not-found",
          `Conversation "${conversationId}" not found`,
        );
      }
      let cursor = after ?? conversation.lastMessage?.id ?? "";
      for (;;) {
        if (this.stopped) return;
        const page = await records.messages(organizationId, conversationId, {
          ...(cursor === "" ? {} : { after: cursor }),
          limit: PAGE,
        });
        for (const message of page) {
          cursor = message.id;
          this.emit({ kind: "message", conversationId, message, cursor });
        }
        if (page.length < PAGE) break;
      }
      this.#cursor = cursor;
      if (conversation.status === "closed") {
        this.emit({ kind: "closed", conversationId, cursor });
        this.finish();
        return;
      }
      this.goLive();
    } catch (error) {
      this.finish(error);
    }
  }

  take(entry: FeedEntry): void {
    const event = entry.event;
    const conversationId = this.conversationId;
    switch (event.kind) {
      case "message":
        if (event.message.id <= this.#cursor) return;
        this.#cursor = event.message.id;
        this.emit({
          kind: "message",
          conversationId,
          message: event.message,
          cursor: this.#cursor,
        });
        return;
      case "closed":
        this.emit({ kind: "closed", conversationId, cursor: this.#cursor });
        this.finish();
        return;
      case "updated":
        this.emit({ ...event, cursor: this.#cursor });
        return;
      case "typing":
        this.emit(event);
        return;
    }
  }
}

/** Every conversation of an organization. */
class OrganizationWatch extends Watch {
  readonly conversationId = undefined;
  #seen = 0;

  async catchUp(
    records: ConversationStore,
    organizationId: string,
    after: number | undefined,
  ): Promise<void> {
    try {
      const head = await this.hub.ready;
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
          if (this.stopped) return;
          const page = await records.feed(organizationId, seen, PAGE);
          for (const entry of page) {
            seen = entry.seq;
            // A resuming stream is not told who typed while it was away.
            if (entry.event.kind !== "typing") {
              this.emit(organizationEvent(entry));
            }
          }
          if (page.length < PAGE) break;
        }
      }
      this.#seen = seen;
      this.goLive();
    } catch (error) {
      this.finish(error);
    }
  }

  take(entry: FeedEntry): void {
    if (entry.seq <= this.#seen) return;
    this.#seen = entry.seq;
    this.emit(organizationEvent(entry));
  }
}

const NO_LISTENER: WatchListener = { event: () => {}, end: () => {} };

/** A watch that holds entries until it knows which conversation it follows. */
class PreparedWatch extends Watch implements PendingWatch {
  readonly conversationId = undefined;
  readonly ready: Promise<void>;
  #error: unknown;

  constructor(hub: OrganizationHub) {
    super(hub, NO_LISTENER);
    this.ready = hub.ready.then(() => {});
  }

  /** Held too much before `follow`: the watch it becomes ends with the error. */
  override finish(error?: unknown): void {
    this.#error ??= error;
    this.stop();
  }

  follow(
    conversationId: string,
    cursor: string,
    listener: WatchListener,
  ): LiveWatch {
    const watch = new ConversationWatch(this.hub, conversationId, listener);
    // Registered before this one leaves, so the hub never empties between.
    this.hub.add(watch);
    const held = this.takeHeld();
    const error = this.#error;
    super.stop();
    if (error !== undefined) watch.finish(error);
    else watch.adopt(cursor, held);
    return watch;
  }

  cancel(): void {
    this.stop();
  }

  take(): void {
    // Nothing is live before `follow`: everything is held.
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

/** One organization's feed, read once per change for all its watches here. */
class OrganizationHub {
  readonly #organizationId: string;
  readonly #records: ConversationStore;
  /** Watches of the whole organization. */
  readonly #all = new Set<Watch>();
  /** Watches of one conversation, by its id (one watch on its own: the common case costs no `Set`). */
  readonly #byConversation = new Map<string, Watch | Set<Watch>>();
  readonly #unwatch: () => void;
  readonly #onEmpty: () => void;
  readonly #lingerMs: number;
  #linger: ReturnType<typeof setTimeout> | undefined;
  /** The feed position read up to; resolves once known. */
  readonly ready: Promise<number>;
  #size = 0;
  #head = 0;
  #reading = false;
  #again = false;
  #failures = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** Whether the head is known. */
  #started = false;
  /** Entries this process wrote, told while a read was under way or before the head was known. */
  #written: FeedEntry[] = [];

  constructor(
    organizationId: string,
    records: ConversationStore,
    changes: ChangeFeed,
    lingerMs: number,
    onEmpty: () => void,
  ) {
    this.#organizationId = organizationId;
    this.#records = records;
    this.#lingerMs = lingerMs;
    this.#onEmpty = onEmpty;
    // Watch before reading the head: a write in between wakes the hub.
    this.#unwatch = changes.watch(
      organizationId,
      (written) => void this.#pull(written),
    );
    this.ready = this.#start();
    // A failed start is each watch's error (they end, and the hub with them).
    this.ready.catch(() => {});
  }

  add(watch: Watch): void {
    clearTimeout(this.#linger);
    this.#linger = undefined;
    const conversationId = watch.conversationId;
    if (conversationId === undefined) {
      this.#all.add(watch);
    } else {
      const watches = this.#byConversation.get(conversationId);
      if (watches === undefined) {
        this.#byConversation.set(conversationId, watch);
      } else if (watches instanceof Set) {
        watches.add(watch);
      } else {
        this.#byConversation.set(conversationId, new Set([watches, watch]));
      }
    }
    this.#size++;
  }

  remove(watch: Watch): void {
    const conversationId = watch.conversationId;
    let removed: boolean;
    if (conversationId === undefined) {
      removed = this.#all.delete(watch);
    } else {
      const watches = this.#byConversation.get(conversationId);
      if (watches instanceof Set) {
        removed = watches.delete(watch);
        if (watches.size === 0) this.#byConversation.delete(conversationId);
      } else {
        removed = watches === watch;
        if (removed) this.#byConversation.delete(conversationId);
      }
    }
    if (!removed || --this.#size > 0) return;
    if (this.#lingerMs === 0) return this.#close();
    this.#linger = setTimeout(() => this.#close(), this.#lingerMs);
  }

  /** Closes the hub if no watch is left (it may be lingering). */
  closeIfIdle(): void {
    if (this.#size === 0 && !this.#closed) this.#close();
  }

  #close(): void {
    clearTimeout(this.#linger);
    this.#closed = true;
    this.#unwatch();
    clearTimeout(this.#retry);
    this.#onEmpty();
  }

  async #start(): Promise<number> {
    this.#head = await this.#records.feedHead(this.#organizationId);
    this.#started = true;
    return this.#head;
  }

  #deliver(entry: FeedEntry): void {
    for (const watch of this.#all) watch.push(entry);
    const watches = this.#byConversation.get(entry.event.conversationId);
    if (watches instanceof Set) {
      for (const watch of [...watches]) watch.push(entry);
    } else {
      watches?.push(entry);
    }
  }

  /**
   * Reads the feed past what was delivered. Entries this process wrote
   * (`written`) need no read when they follow what was delivered directly;
   * one that arrives during a read waits for it, and is then either covered
   * by it or delivered as it is (or read, past a gap another host's entry
   * fills).
   */
  async #pull(written?: readonly FeedEntry[]): Promise<void> {
    if (this.#closed) return;
    if (written === undefined) {
      if (this.#reading) {
        this.#again = true;
        return;
      }
    } else {
      this.#written.push(...written);
      if (this.#reading) return;
      if (this.#started && this.#takeWritten(0)) return;
    }
    this.#reading = true;
    try {
      await this.ready;
      for (;;) {
        this.#again = false;
        // Own entries told before this read began are committed: it covers them.
        const covered = this.#written.length;
        const page = await this.#records.feed(
          this.#organizationId,
          this.#head,
          PAGE,
        );
        for (const entry of page) {
          this.#head = entry.seq;
          this.#deliver(entry);
        }
        if (page.length === PAGE || this.#again) continue;
        if (this.#takeWritten(covered)) break;
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

  /**
   * Delivers the own entries that follow the head directly, after dropping
   * the first `covered` (told before a read that has covered them).
   *
   * @returns Whether none is left (else a gap needs a read).
   */
  #takeWritten(covered: number): boolean {
    const left = this.#written.slice(covered).filter((entry) =>
      entry.seq > this.#head
    ).sort((a, b) => a.seq - b.seq);
    let taken = 0;
    for (const entry of left) {
      if (entry.seq !== this.#head + 1) break;
      this.#head = entry.seq;
      this.#deliver(entry);
      taken++;
    }
    this.#written = left.slice(taken);
    return this.#written.length === 0;
  }
}
