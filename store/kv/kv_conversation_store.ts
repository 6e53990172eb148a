/**
 * Conversations, messages and feeds on Deno KV.
 *
 * Keys, all under `["chat", organizationId, …]`, so one organization's ids
 * never reach another's data:
 *
 * | key | value |
 * | --- | --- |
 * | `conv, convId` | the conversation |
 * | `msg, convId, messageId` | a message; ids sort in creation order |
 * | `by-participant, "user" \| "visitor", id` | the participant's current conversation id |
 * | `by-updated, updatedAtMs, convId` | every conversation (retention) |
 * | `inbox, updatedAtMs, convId` | conversations with messages (agent list) |
 * | `inbox-by, assigneeId \| "", updatedAtMs, convId` | the same, per assignee |
 * | `head` | the seq of the newest feed entry |
 * | `feed, seq` | `{at, event}`; expires after 7 days, swept too |
 * | `purging, convId` | a purge in progress, finished by the next purge |
 *
 * Every write is one atomic commit, checked against the versionstamps it
 * read. A write that adds to the feed also checks `head` and moves it by one,
 * so feed entries are numbered in commit order without gaps; this process
 * runs its own feed writes of one organization one at a time, so only other
 * processes' writes make such a commit retry.
 *
 * @module
 */

import type {
  Conversation,
  ConversationChange,
  ConversationFilter,
  ConversationPage,
  ConversationStore,
  FeedEntry,
  FeedEvent,
  MessageChange,
  MessagesQuery,
  OpenConversation,
  Participant,
} from "../conversation_store.ts";
import {
  conversationCursor,
  type ConversationPosition,
  parseConversationCursor,
} from "../conversation_cursor.ts";
import {
  type ConflictAttempt,
  done,
  LOST,
  retryConflicts,
} from "../conflict_retry.ts";
import { StoreUnavailableError } from "../store_unavailable_error.ts";
import type { ChatMessage } from "../../wire/records.ts";
import { BatchedReads } from "./batched_reads.ts";
import { isDatabaseLocked } from "./locked_retry.ts";
import { retryWhileLocked } from "./locked_retry.ts";
import { outboxMutations } from "./kv_outbox_store.ts";

/** Feed entries expire after this; `sweepFeed` also deletes them. */
const FEED_EXPIRE_MS = 7 * 24 * 60 * 60 * 1000;
/** Keys deleted per commit when purging or trimming. */
const DELETE_BATCH = 200;
/** Conversations one `purge` call deletes at most. */
const PURGE_PER_CALL = 1_000;
/** Participant pointers remembered per process before the cache starts over. */
const POINTER_CACHE_LIMIT = 100_000;

type Key = Deno.KvKey;

/** The feed entry as stored (its seq is in the key). */
interface StoredFeedEntry {
  readonly at: number;
  readonly event: FeedEvent;
}

/** The conversation store of one Deno KV. */
export class KvConversationStore implements ConversationStore {
  readonly #kv: Deno.Kv;
  readonly #reads: BatchedReads;
  readonly #now: () => number;
  readonly #onFeed: (organizationId: string) => void;
  /**
   * Participant pointer → conversation id, as this process last saw it. A
   * pointer only changes when its conversation closes, and a closed
   * conversation sends `open` back to the stored pointer, so a stale entry
   * costs one read and is never trusted blindly.
   */
  readonly #pointers = new Map<string, string>();
  /** The tail of each organization's queue of feed writes in this process. */
  readonly #feedWrites = new Map<string, Promise<void>>();

  /**
   * @param kv The store; the caller closes it.
   * @param onFeed Told after every commit that added to an organization's feed.
   * @param now Clock, epoch milliseconds.
   */
  constructor(
    kv: Deno.Kv,
    onFeed: (organizationId: string) => void,
    now: () => number = Date.now,
  ) {
    this.#kv = kv;
    this.#reads = new BatchedReads(kv);
    this.#onFeed = onFeed;
    this.#now = now;
  }

  async find(
    organizationId: string,
    participant: Participant,
  ): Promise<Conversation | undefined> {
    const pointerKey = participantKey(organizationId, participant);
    const cacheKey = pointerCacheKey(organizationId, pointerKey);
    const known = await this.#rememberedOpen(organizationId, cacheKey);
    if (known !== undefined) return normalize(known.stored);
    const pointer = await this.#get<string>(pointerKey);
    if (pointer.value === null) return undefined;
    const entry = await this.#get<Conversation>(
      conversationKey(organizationId, pointer.value),
    );
    if (entry.value?.status !== "open") return undefined;
    this.#remember(cacheKey, entry.value.id);
    return normalize(entry.value);
  }

  async open(
    organizationId: string,
    participant: Participant,
    how: OpenConversation,
  ): Promise<Conversation> {
    const pointerKey = participantKey(organizationId, participant);
    const cacheKey = pointerCacheKey(organizationId, pointerKey);
    const known = await this.#rememberedOpen(organizationId, cacheKey);
    if (known !== undefined) {
      const refreshed = await this.#refresh(known.entry, known.stored, how);
      if (refreshed.done) return refreshed.value;
      this.#pointers.delete(cacheKey);
    }
    return await retryConflicts("open", async () => {
      const pointer = await this.#get<string>(pointerKey);
      if (pointer.value !== null) {
        const entry = await this.#get<Conversation>(
          conversationKey(organizationId, pointer.value),
        );
        if (entry.value?.status === "open") {
          this.#remember(cacheKey, entry.value.id);
          return await this.#refresh(entry, entry.value, how);
        }
      }
      const conversation = how.create();
      const result = await this.#commit(() => {
        const op = this.#kv.atomic()
          .check(pointer)
          .set(pointerKey, conversation.id)
          .set(conversationKey(organizationId, conversation.id), conversation);
        indexMutations(op, organizationId, undefined, conversation);
        return op;
      });
      if (!result.ok) return LOST;
      this.#remember(cacheKey, conversation.id);
      return done(conversation);
    });
  }

  /**
   * The conversation a remembered pointer names, while it is still open; a
   * pointer to a closed or missing conversation is forgotten.
   */
  async #rememberedOpen(
    organizationId: string,
    cacheKey: string,
  ): Promise<
    { entry: Deno.KvEntryMaybe<Conversation>; stored: Conversation } | undefined
  > {
    const remembered = this.#pointers.get(cacheKey);
    if (remembered === undefined) return undefined;
    const known = await this.#get<Conversation>(
      conversationKey(organizationId, remembered),
    );
    if (known.value?.status === "open") {
      return { entry: known, stored: known.value };
    }
    this.#pointers.delete(cacheKey);
    return undefined;
  }

  /**
   * Runs `attempt` on the stored conversation until it is done (each try
   * reads it again); a conversation that is not stored gives `undefined`.
   */
  async #retryStored<T>(
    operation: string,
    key: Key,
    attempt: (
      entry: Deno.KvEntryMaybe<Conversation>,
      current: Conversation,
    ) => Promise<ConflictAttempt<T>>,
  ): Promise<T | undefined> {
    return await retryConflicts<T | undefined>(operation, async () => {
      const entry = await this.#get<Conversation>(key);
      if (entry.value === null) return done(undefined);
      return await attempt(entry, normalize(entry.value));
    });
  }

  /** An open conversation as `how` refreshes it, written if it changed. */
  async #refresh(
    entry: Deno.KvEntryMaybe<Conversation>,
    stored: Conversation,
    how: OpenConversation,
  ): Promise<ConflictAttempt<Conversation>> {
    const current = normalize(stored);
    const refreshed = how.refresh(current);
    if (refreshed === undefined) return done(current);
    const result = await this.#commit(() =>
      this.#kv.atomic().check(entry).set(entry.key, refreshed)
    );
    return result.ok ? done(refreshed) : LOST;
  }

  async get(
    organizationId: string,
    conversationId: string,
  ): Promise<Conversation | undefined> {
    const entry = await this.#get<Conversation>(
      conversationKey(organizationId, conversationId),
    );
    return entry.value === null ? undefined : normalize(entry.value);
  }

  async update(
    organizationId: string,
    conversationId: string,
    change: (current: Conversation) => ConversationChange | undefined,
  ): Promise<Conversation | undefined> {
    const key = conversationKey(organizationId, conversationId);
    return await this.#retryStored("update", key, async (entry, current) => {
      const next = change(current);
      if (next === undefined) return done(current);
      const { conversation } = next;
      const ok = await this.#write(
        organizationId,
        next.event === undefined ? [] : [next.event],
        (op) => {
          op.check(entry).set(key, conversation);
          indexMutations(op, organizationId, current, conversation);
          outboxMutations(op, next.outbox ?? []);
        },
      );
      return ok ? done(conversation) : LOST;
    });
  }

  async append(
    organizationId: string,
    conversationId: string,
    compose: (current: Conversation) => MessageChange,
    keep: number,
  ): Promise<{ message: ChatMessage; conversation: Conversation } | undefined> {
    const key = conversationKey(organizationId, conversationId);
    return await this.#retryStored("append", key, async (entry, current) => {
      const change = compose(current);
      const { message } = change;
      const excess = change.conversation.messageCount - Math.max(1, keep);
      // Bounded per append: a lowered bound converges over later appends.
      const dropped = excess > 0
        ? await this.#oldestMessageKeys(
          organizationId,
          conversationId,
          Math.min(excess, DELETE_BATCH),
        )
        : [];
      const conversation: Conversation = {
        ...change.conversation,
        messageCount: change.conversation.messageCount - dropped.length,
        trimmed: change.conversation.trimmed + dropped.length,
      };
      const ok = await this.#write(
        organizationId,
        [{ kind: "message", conversationId, message }],
        (op) => {
          op.check(entry)
            .set(
              messageKey(organizationId, conversationId, message.id),
              message,
            )
            .set(key, conversation);
          indexMutations(op, organizationId, current, conversation);
          for (const droppedKey of dropped) op.delete(droppedKey);
          outboxMutations(op, change.outbox ?? []);
        },
      );
      return ok ? done({ message, conversation }) : LOST;
    });
  }

  async messages(
    organizationId: string,
    conversationId: string,
    options: MessagesQuery,
  ): Promise<ChatMessage[]> {
    const prefix = messagePrefix(organizationId, conversationId);
    if (options.newest) {
      const newest = await this.#list<ChatMessage>(
        { prefix },
        { reverse: true, limit: options.limit },
      );
      return newest.map((entry) => entry.value).reverse();
    }
    const after = options.after;
    const selector = after === undefined
      ? { prefix }
      : { prefix, start: [...prefix, after] };
    const entries = await this.#list<ChatMessage>(selector, {
      limit: options.limit + 1,
    });
    return entries
      .filter((entry) => entry.key[4] !== after)
      .slice(0, options.limit)
      .map((entry) => entry.value);
  }

  async list(
    organizationId: string,
    options: {
      readonly cursor?: string;
      readonly limit: number;
      readonly filter?: ConversationFilter;
    },
  ): Promise<ConversationPage> {
    const assignee = options.filter?.assignee;
    const prefix = assignee === undefined
      ? ["chat", organizationId, "inbox"]
      : ["chat", organizationId, "inbox-by", assignee ?? ""];
    // The engine's own cursors would take any key under the prefix as a
    // position; the shared cursor form is refused the same on every engine.
    const from = options.cursor === undefined
      ? undefined
      : parseConversationCursor(options.cursor);
    const limit = Math.max(1, Math.floor(options.limit));
    const positions: ConversationPosition[] = [];
    await this.#read(async () => {
      positions.length = 0;
      const iterator = this.#kv.list(
        from === undefined
          ? { prefix }
          : { prefix, end: [...prefix, from.updatedAtMs, from.id] },
        // One more than a page tells whether another page follows.
        { reverse: true, limit: limit + 1 },
      );
      for await (const entry of iterator) {
        positions.push({
          updatedAtMs: Number(entry.key[entry.key.length - 2]),
          id: String(entry.key[entry.key.length - 1]),
        });
      }
    });
    const page = positions.slice(0, limit);
    const entries = await Promise.all(
      page.map(({ id }) =>
        this.#get<Conversation>(conversationKey(organizationId, id))
      ),
    );
    const conversations = entries.flatMap((entry) =>
      entry.value === null ? [] : [normalize(entry.value)]
    );
    const last = page.at(-1);
    return positions.length > limit && last !== undefined
      ? { conversations, cursor: conversationCursor(last) }
      : { conversations };
  }

  async publish(organizationId: string, event: FeedEvent): Promise<void> {
    await retryConflicts("publish", async () => {
      const ok = await this.#write(organizationId, [event], () => {});
      return ok ? done(undefined) : LOST;
    });
  }

  async feed(
    organizationId: string,
    after: number,
    limit: number,
  ): Promise<FeedEntry[]> {
    const prefix = ["chat", organizationId, "feed"];
    const entries = await this.#list<StoredFeedEntry>(
      { prefix, start: [...prefix, after + 1] },
      { limit },
    );
    return entries.map((entry) => ({
      seq: Number(entry.key[3]),
      at: entry.value.at,
      event: entry.value.event,
    }));
  }

  async feedHead(organizationId: string): Promise<number> {
    const head = await this.#get<number>(headKey(organizationId));
    return head.value ?? 0;
  }

  async purge(organizationId: string, cutoffMs: number): Promise<number> {
    const leftovers = await this.#list({
      prefix: ["chat", organizationId, "purging"],
    });
    for (const leftover of leftovers) {
      await this.#deleteMessages(organizationId, String(leftover.key[3]));
      await this.#commit(() => this.#kv.atomic().delete(leftover.key));
    }
    // A bounded share per call: the sweeper calls again every minute.
    const expired = await this.#list({
      start: ["chat", organizationId, "by-updated"],
      end: ["chat", organizationId, "by-updated", cutoffMs],
    }, { limit: PURGE_PER_CALL });
    let deleted = 0;
    for (const indexEntry of expired) {
      const conversationId = String(indexEntry.key[4]);
      const outcome = await this.#purgeOne(
        organizationId,
        conversationId,
        cutoffMs,
      );
      if (outcome === "purged") deleted++;
      // A stale index entry (its conversation is gone) is dropped.
      if (outcome === undefined) {
        await this.#commit(() => this.#kv.atomic().delete(indexEntry.key));
      }
    }
    return deleted;
  }

  async sweepFeed(organizationId: string, beforeMs: number): Promise<number> {
    const prefix = ["chat", organizationId, "feed"];
    let deleted = 0;
    for (;;) {
      const batch = await this.#list<StoredFeedEntry>({ prefix }, {
        limit: DELETE_BATCH,
      });
      const old = batch.filter((entry) => entry.value.at < beforeMs);
      if (old.length > 0) {
        await this.#commit(() => {
          const op = this.#kv.atomic();
          for (const entry of old) op.delete(entry.key);
          return op;
        });
        deleted += old.length;
      }
      // Entries are in commit order: the first recent one ends the sweep.
      if (old.length < batch.length || batch.length < DELETE_BATCH) {
        return deleted;
      }
    }
  }

  /**
   * Commits `build`'s mutations together with `events` appended to the
   * organization's feed (checked against its head), one feed write of this
   * organization at a time in this process.
   *
   * @returns Whether it committed; `false` when a check failed.
   */
  async #write(
    organizationId: string,
    events: readonly FeedEvent[],
    build: (op: Deno.AtomicOperation) => void,
  ): Promise<boolean> {
    if (events.length === 0) {
      const result = await this.#commit(() => {
        const op = this.#kv.atomic();
        build(op);
        return op;
      });
      return result.ok;
    }
    return await this.#serialized(organizationId, async () => {
      const head = await this.#get<number>(headKey(organizationId));
      const at = this.#now();
      const result = await this.#commit(() => {
        const op = this.#kv.atomic();
        build(op);
        let seq = head.value ?? 0;
        for (const event of events) {
          seq++;
          op.set(feedKey(organizationId, seq), { at, event }, {
            expireIn: FEED_EXPIRE_MS,
          });
        }
        return op.check(head).set(head.key, seq);
      });
      if (result.ok) this.#onFeed(organizationId);
      return result.ok;
    });
  }

  async #serialized<T>(
    organizationId: string,
    task: () => Promise<T>,
  ): Promise<T> {
    const previous = this.#feedWrites.get(organizationId) ?? Promise.resolve();
    const { promise: done, resolve: release } = Promise.withResolvers<void>();
    this.#feedWrites.set(organizationId, done);
    try {
      await previous;
      return await task();
    } finally {
      release();
      if (this.#feedWrites.get(organizationId) === done) {
        this.#feedWrites.delete(organizationId);
      }
    }
  }

  /** Purges one conversation if it expired; `undefined` when it is gone. */
  async #purgeOne(
    organizationId: string,
    conversationId: string,
    cutoffMs: number,
  ): Promise<"purged" | "kept" | undefined> {
    const key = conversationKey(organizationId, conversationId);
    return await this.#retryStored("purge", key, async (
      entry,
      current,
    ) => {
      const updatedMs = Date.parse(current.updatedAt);
      if (updatedMs >= cutoffMs) return done("kept");
      const pointerKey = participantKey(organizationId, current.participant);
      const pointer = await this.#get<string>(pointerKey);
      const result = await this.#commit(() => {
        const op = this.#kv.atomic()
          .check(entry, pointer)
          .delete(key)
          .set(["chat", organizationId, "purging", conversationId], null);
        indexMutations(op, organizationId, current, undefined);
        if (pointer.value === conversationId) op.delete(pointerKey);
        return op;
      });
      if (!result.ok) return LOST;
      await this.#deleteMessages(organizationId, conversationId);
      await this.#commit(() =>
        this.#kv.atomic().delete([
          "chat",
          organizationId,
          "purging",
          conversationId,
        ])
      );
      return done("purged");
    });
  }

  async #deleteMessages(
    organizationId: string,
    conversationId: string,
  ): Promise<void> {
    const prefix = messagePrefix(organizationId, conversationId);
    // Bounded: each round deletes a full batch or ends the loop.
    for (;;) {
      const batch = await this.#list({ prefix }, { limit: DELETE_BATCH });
      if (batch.length === 0) return;
      await this.#commit(() => {
        const op = this.#kv.atomic();
        for (const entry of batch) op.delete(entry.key);
        return op;
      });
      if (batch.length < DELETE_BATCH) return;
    }
  }

  async #oldestMessageKeys(
    organizationId: string,
    conversationId: string,
    count: number,
  ): Promise<Key[]> {
    const entries = await this.#list(
      { prefix: messagePrefix(organizationId, conversationId) },
      { limit: count },
    );
    return entries.map((entry) => entry.key);
  }

  #remember(pointer: string, conversationId: string): void {
    if (this.#pointers.size >= POINTER_CACHE_LIMIT) this.#pointers.clear();
    this.#pointers.set(pointer, conversationId);
  }

  async #get<T>(key: Key): Promise<Deno.KvEntryMaybe<T>> {
    return await this.#read(() => this.#reads.get<T>(key));
  }

  async #list<T>(
    selector: Deno.KvListSelector,
    options: Deno.KvListOptions = {},
  ): Promise<Deno.KvEntry<T>[]> {
    return await this.#read(async () => {
      const entries: Deno.KvEntry<T>[] = [];
      for await (const entry of this.#kv.list<T>(selector, options)) {
        entries.push(entry);
      }
      return entries;
    });
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

/** A conversation as stored by an older Parley may lack newer fields. */
function normalize(conversation: Conversation): Conversation {
  return conversation.trimmed === undefined
    ? { ...conversation, trimmed: 0 }
    : conversation;
}

/**
 * Moves a conversation's index entries from `previous` to `next` (either
 * absent for a create or a delete). Deleting then setting one key in one
 * atomic leaves it set: mutations apply in order.
 */
function indexMutations(
  op: Deno.AtomicOperation,
  organizationId: string,
  previous: Conversation | undefined,
  next: Conversation | undefined,
): void {
  for (const key of previous ? indexKeys(organizationId, previous) : []) {
    op.delete(key);
  }
  for (const key of next ? indexKeys(organizationId, next) : []) {
    op.set(key, null);
  }
}

function indexKeys(organizationId: string, conversation: Conversation): Key[] {
  const updatedMs = Date.parse(conversation.updatedAt);
  const keys: Key[] = [
    ["chat", organizationId, "by-updated", updatedMs, conversation.id],
  ];
  if (conversation.lastMessage !== undefined) {
    keys.push(
      ["chat", organizationId, "inbox", updatedMs, conversation.id],
      [
        "chat",
        organizationId,
        "inbox-by",
        conversation.assignee?.id ?? "",
        updatedMs,
        conversation.id,
      ],
    );
  }
  return keys;
}

function unavailable(error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  if (isDatabaseLocked(error) || error instanceof Deno.errors.BadResource) {
    return new StoreUnavailableError(
      `Chat store cannot be read or written: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return error;
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

/** The process cache's key of a participant pointer. */
function pointerCacheKey(organizationId: string, pointerKey: Key): string {
  return `${organizationId}\u0000${pointerKey.slice(3).join("\u0000")}`;
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

/** The key of an organization's feed head. */
export function headKey(organizationId: string): Key {
  return ["chat", organizationId, "head"];
}

function feedKey(organizationId: string, seq: number): Key {
  return ["chat", organizationId, "feed", seq];
}
