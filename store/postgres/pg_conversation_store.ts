/**
 * Conversations, messages and feeds on PostgreSQL (tables in
 * `migrations.ts`).
 *
 * A conversation is a `jsonb` document with a `version`. A change reads it,
 * lets `chat/`'s function compute the next version, and writes everything
 * that goes with it — the document, a message, trimmed messages, the feed
 * entry, outbox items — in one statement whose data-modifying parts all hang
 * on one `UPDATE … WHERE version = <read>`: when another writer got there
 * first, nothing is written and the function runs again on a fresh read.
 *
 * A feed entry takes its seq from the organization's head row, which the
 * statement upserts and so holds locked until it commits: seqs are gapless
 * and in commit order. A trigger on the feed sends `pg_notify` in the same
 * transaction, for the other hosts; this process tells its own listeners at
 * once.
 *
 * Lookups of one event-loop turn share one statement, so the common
 * `chat.boot` (the participant's open conversation exists, attributes
 * unchanged) costs one round trip shared with its neighbours.
 *
 * A change to a conversation this process read or wrote lately is first
 * tried at the version it knows (`known_versions.ts`), with no read: a
 * visitor's message after the lookup that found the conversation, the
 * agent's reply and close after it, the page a returning visitor's stream
 * records. A write that misses the version answers the row as it is now in
 * the same statement, so the retry needs no read either; and anything but a
 * write from a remembered version (the change returns `undefined` or
 * throws) is decided again on a fresh read, so a stale memory changes no
 * outcome.
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
  OpenConversation,
  Participant,
} from "../conversation_store.ts";
import type { MessageChange } from "../conversation_store.ts";
import {
  conversationCursor,
  type ConversationPosition,
  parseConversationCursor,
} from "../conversation_cursor.ts";
import type { OutboxItem } from "../outbox_store.ts";
import { done, LOST, retryConflicts } from "../conflict_retry.ts";
import type { ChatMessage } from "../../wire/records.ts";
import { BatchedLookups } from "./batched_lookups.ts";
import { KnownVersions } from "./known_versions.ts";
import {
  BACKGROUND_DEADLINE_MS,
  type PgDatabase,
  type Sql,
} from "./pg_database.ts";
import { ceilMs, floorMs } from "./whole_ms.ts";

/** Oldest messages removed per append (a lowered bound converges). */
const TRIM_PER_APPEND = 200;
/** Conversations one `purge` call deletes at most. */
const PURGE_PER_CALL = 1_000;
/** Conversations whose version this process remembers (about 1 KB each). */
const KNOWN_CONVERSATIONS = 2_000;

/** A conversation as read, with the version a write must match. */
interface Stored {
  readonly conversation: Conversation;
  readonly version: number;
}

interface Row {
  readonly i: number;
  readonly version: number;
  readonly document: Conversation;
}

/** What a commit did: written, or not, with the row as the statement saw it. */
type Committed =
  | { readonly written: true }
  | { readonly written: false; readonly current: Stored | undefined };

/** One try of a change on a conversation as read: nothing to write, or a commit. */
type Attempt<T> =
  | { readonly done: T }
  | { readonly commit: CommitChange; readonly result: T };

/** What a commit writes with the conversation's next version. */
interface CommitChange {
  readonly conversation: Conversation;
  readonly event?: FeedEvent;
  readonly message?: ChatMessage;
  readonly trim?: number;
  readonly outbox?: readonly OutboxItem[];
}

/** The conversation store of one PostgreSQL database. */
export class PgConversationStore implements ConversationStore {
  readonly #database: PgDatabase;
  readonly #onFeed: (
    organizationId: string,
    written: readonly FeedEntry[],
  ) => void;
  readonly #now: () => number;
  readonly #byParticipant: BatchedLookups<
    readonly [string, Participant],
    Stored | undefined
  >;
  readonly #byId: BatchedLookups<readonly [string, string], Stored | undefined>;
  /** Versions this process read or wrote lately, by organization and id. */
  readonly #known = new KnownVersions<Stored>(KNOWN_CONVERSATIONS);

  /**
   * @param database The store's database.
   * @param onFeed Told after every commit that added to an organization's
   *   feed, with the entry it added.
   * @param now Clock, epoch milliseconds.
   */
  constructor(
    database: PgDatabase,
    onFeed: (organizationId: string, written: readonly FeedEntry[]) => void,
    now: () => number = Date.now,
  ) {
    this.#database = database;
    this.#onFeed = onFeed;
    this.#now = now;
    this.#byParticipant = new BatchedLookups(async (keys) => {
      const rows = await this.#database.run("Chat store", (sql) =>
        sql<Row[]>`
          SELECT k.i::integer AS i, c.version, c.document
          FROM unnest(
            ${keys.map(([organizationId]) => organizationId)}::text[],
            ${keys.map(([, participant]) => participant.kind)}::text[],
            ${keys.map(([, participant]) => participantId(participant))}::text[]
          ) WITH ORDINALITY AS k(o, kind, pid, i)
          JOIN parley_conversations c
            ON c.organization_id = k.o AND c.participant_kind = k.kind
            AND c.participant_id = k.pid AND c.status = 'open'`);
      return this.#remembered(keys, rows);
    });
    this.#byId = new BatchedLookups(async (keys) => {
      const rows = await this.#database.run("Chat store", (sql) =>
        sql<Row[]>`
          SELECT k.i::integer AS i, c.version, c.document
          FROM unnest(
            ${keys.map(([organizationId]) => organizationId)}::text[],
            ${keys.map(([, id]) => id)}::text[]
          ) WITH ORDINALITY AS k(o, id, i)
          JOIN parley_conversations c
            ON c.organization_id = k.o AND c.id = k.id`);
      return this.#remembered(keys, rows);
    });
  }

  async find(
    organizationId: string,
    participant: Participant,
  ): Promise<Conversation | undefined> {
    return (await this.#byParticipant.get([organizationId, participant]))
      ?.conversation;
  }

  async open(
    organizationId: string,
    participant: Participant,
    how: OpenConversation,
  ): Promise<Conversation> {
    return await retryConflicts("open", async () => {
      const found = await this.#byParticipant.get([
        organizationId,
        participant,
      ]);
      if (found !== undefined) {
        const refreshed = how.refresh(found.conversation);
        if (refreshed === undefined) return done(found.conversation);
        const committed = await this.#commit(organizationId, found, {
          conversation: refreshed,
        });
        return committed.written ? done(refreshed) : LOST;
      } else {
        const conversation = how.create();
        const rows = await this.#database.run("Chat store", (sql) =>
          sql`
            INSERT INTO parley_conversations (organization_id, id,
              participant_kind, participant_id, status, updated_at,
              has_messages, assignee_id, version, document)
            VALUES (${organizationId}, ${conversation.id}, ${participant.kind},
              ${participantId(participant)}, ${conversation.status},
              ${Date.parse(conversation.updatedAt)},
              ${conversation.lastMessage !== undefined},
              ${conversation.assignee?.id ?? null}, 1,
              ${JSON.stringify(conversation)}::text::json)
            ON CONFLICT (organization_id, participant_kind, participant_id)
              WHERE status = 'open' DO NOTHING
            RETURNING version`);
        // Another host or request created it first: use theirs.
        if (rows.length !== 1) return LOST;
        this.#remember(organizationId, { conversation, version: 1 });
        return done(conversation);
      }
    });
  }

  async get(
    organizationId: string,
    conversationId: string,
  ): Promise<Conversation | undefined> {
    return (await this.#byId.get([organizationId, conversationId]))
      ?.conversation;
  }

  async update(
    organizationId: string,
    conversationId: string,
    change: (current: Conversation) => ConversationChange | undefined,
  ): Promise<Conversation | undefined> {
    return await this.#change(
      organizationId,
      conversationId,
      "update",
      (found) => {
        const next = change(found.conversation);
        return next === undefined ? { done: found.conversation } : {
          commit: {
            conversation: next.conversation,
            ...(next.event === undefined ? {} : { event: next.event }),
            outbox: next.outbox ?? [],
          },
          result: next.conversation,
        };
      },
    );
  }

  async append(
    organizationId: string,
    conversationId: string,
    compose: (current: Conversation) => MessageChange,
    keep: number,
  ): Promise<{ message: ChatMessage; conversation: Conversation } | undefined> {
    return await this.#change(
      organizationId,
      conversationId,
      "append",
      (found) => {
        const change = compose(found.conversation);
        const { message } = change;
        const excess = change.conversation.messageCount - Math.max(1, keep);
        const trim = excess > 0 ? Math.min(excess, TRIM_PER_APPEND) : 0;
        const conversation: Conversation = {
          ...change.conversation,
          messageCount: change.conversation.messageCount - trim,
          trimmed: change.conversation.trimmed + trim,
        };
        return {
          commit: {
            conversation,
            message,
            trim,
            event: { kind: "message", conversationId, message },
            outbox: change.outbox ?? [],
          },
          result: { message, conversation },
        };
      },
    );
  }

  async messages(
    organizationId: string,
    conversationId: string,
    options: {
      readonly after?: string;
      readonly limit: number;
      readonly newest?: boolean;
    },
  ): Promise<ChatMessage[]> {
    const limit = Math.max(0, Math.floor(options.limit));
    if (options.newest) {
      const rows = await this.#database.run(
        "Chat store",
        (sql) =>
          sql<{ document: ChatMessage }[]>`
          SELECT document FROM parley_messages
          WHERE organization_id = ${organizationId}
            AND conversation_id = ${conversationId}
          ORDER BY id DESC LIMIT ${limit}`,
      );
      return rows.map((row) => row.document).reverse();
    }
    const after = options.after;
    const rows = await this.#database.run(
      "Chat store",
      (sql) =>
        sql<{ document: ChatMessage }[]>`
        SELECT document FROM parley_messages
        WHERE organization_id = ${organizationId}
          AND conversation_id = ${conversationId}
          ${after === undefined ? sql`` : sql`AND id > ${after}`}
        ORDER BY id LIMIT ${limit}`,
    );
    return rows.map((row) => row.document);
  }

  async list(
    organizationId: string,
    options: {
      readonly cursor?: string;
      readonly limit: number;
      readonly filter?: ConversationFilter;
    },
  ): Promise<ConversationPage> {
    const from: ConversationPosition | undefined = options.cursor === undefined
      ? undefined
      : parseConversationCursor(options.cursor);
    const limit = Math.max(1, Math.floor(options.limit));
    const assignee = options.filter?.assignee;
    const rows = await this.#database.run(
      "Chat store",
      (sql) =>
        sql<{ updated_at: number; id: string; document: Conversation }[]>`
        SELECT updated_at, id, document FROM parley_conversations
        WHERE organization_id = ${organizationId} AND has_messages
          ${
          assignee === undefined
            ? sql``
            : sql`AND coalesce(assignee_id, '') = ${assignee ?? ""}`
        }
          ${
          from === undefined
            ? sql``
            : sql`AND (updated_at, id) < (${from.updatedAtMs}, ${from.id})`
        }
        ORDER BY updated_at DESC, id DESC
        LIMIT ${limit + 1}`,
    );
    const page = rows.slice(0, limit);
    const conversations = page.map((row) => row.document);
    const last = page.at(-1);
    return rows.length > limit && last !== undefined
      ? {
        conversations,
        cursor: conversationCursor({
          updatedAtMs: last.updated_at,
          id: last.id,
        }),
      }
      : { conversations };
  }

  async publish(organizationId: string, event: FeedEvent): Promise<void> {
    const at = floorMs(this.#now());
    const rows = await this.#database.run(
      "Chat store",
      (sql) =>
        sql<{ seq: number }[]>`
        WITH head AS (
          INSERT INTO parley_feed_heads AS h (organization_id, seq)
          VALUES (${organizationId}, 1)
          ON CONFLICT (organization_id) DO UPDATE SET seq = h.seq + 1
          RETURNING seq
        )
        INSERT INTO parley_feed (organization_id, seq, at, event)
        SELECT ${organizationId}, seq, ${at}, ${sql.json(event as never)}::jsonb
        FROM head
        RETURNING seq`,
    );
    this.#onFeed(organizationId, written(rows[0]?.seq, at, event));
  }

  async feed(
    organizationId: string,
    after: number,
    limit: number,
  ): Promise<FeedEntry[]> {
    const rows = await this.#database.run(
      "Chat store",
      (sql) =>
        sql<{ seq: number; at: number; event: FeedEvent }[]>`
        SELECT seq, at, event FROM parley_feed
        WHERE organization_id = ${organizationId}
          AND seq > ${floorMs(after)}
        ORDER BY seq LIMIT ${Math.max(0, Math.floor(limit))}`,
    );
    return rows.map((row) => ({ seq: row.seq, at: row.at, event: row.event }));
  }

  async feedHead(organizationId: string): Promise<number> {
    const rows = await this.#database.run(
      "Chat store",
      (sql) =>
        sql<{ seq: number }[]>`
        SELECT seq FROM parley_feed_heads
        WHERE organization_id = ${organizationId}`,
    );
    return rows[0]?.seq ?? 0;
  }

  async purge(organizationId: string, cutoffMs: number): Promise<number> {
    // Conversations and their messages go in one statement: nothing is
    // ever left half purged.
    const rows = await this.#database.run(
      "Chat store",
      (sql) =>
        sql<{ deleted: number }[]>`
        WITH doomed AS (
          DELETE FROM parley_conversations c
          WHERE c.organization_id = ${organizationId}
            AND c.updated_at < ${ceilMs(cutoffMs)}
            AND c.id IN (
              SELECT id FROM parley_conversations
              WHERE organization_id = ${organizationId}
                AND updated_at < ${ceilMs(cutoffMs)}
              ORDER BY updated_at LIMIT ${PURGE_PER_CALL})
          RETURNING c.id
        ), messages AS (
          DELETE FROM parley_messages m USING doomed d
          WHERE m.organization_id = ${organizationId}
            AND m.conversation_id = d.id
        )
        SELECT count(*)::integer AS deleted FROM doomed`,
      { deadlineMs: BACKGROUND_DEADLINE_MS },
    );
    return rows[0]?.deleted ?? 0;
  }

  async sweepFeed(organizationId: string, beforeMs: number): Promise<number> {
    const rows = await this.#database.run(
      "Chat store",
      (sql) =>
        sql`
        DELETE FROM parley_feed
        WHERE organization_id = ${organizationId}
          AND at < ${ceilMs(beforeMs)}`,
      { deadlineMs: BACKGROUND_DEADLINE_MS },
    );
    return rows.count;
  }

  /**
   * Runs a change until it is written at the version it was computed on.
   * The first try may use the version this process remembers (no read);
   * what that try decides without writing (nothing to change, a refusal)
   * or a write that misses is decided again on the row as it is.
   *
   * @returns What the change answers, or `undefined` when there is no such conversation.
   */
  async #change<T>(
    organizationId: string,
    conversationId: string,
    operation: string,
    attempt: (found: Stored) => Attempt<T>,
  ): Promise<T | undefined> {
    const key = knownKey(organizationId, conversationId);
    const remembered = this.#known.get(key);
    let found: Stored | undefined;
    if (remembered !== undefined) {
      let next: Attempt<T> | undefined;
      try {
        next = attempt(remembered);
      } catch {
        // Decided again below on the row as it is.
      }
      if (next !== undefined && "commit" in next) {
        const committed = await this.#commit(
          organizationId,
          remembered,
          next.commit,
        );
        if (committed.written) return next.result;
        if (committed.current === undefined) return undefined;
        if (committed.current.version !== remembered.version) {
          found = committed.current;
        }
      }
    }
    return await retryConflicts(operation, async () => {
      found ??= await this.#byId.get([organizationId, conversationId]);
      if (found === undefined) return done(undefined);
      const next = attempt(found);
      if ("done" in next) return done(next.done);
      const committed = await this.#commit(organizationId, found, next.commit);
      if (committed.written) return done(next.result);
      if (committed.current === undefined) return done(undefined);
      // A write that waited for the winner's lock saw the row as it was
      // before: the next attempt reads it as it is now.
      found = committed.current.version === found.version
        ? undefined
        : committed.current;
      return LOST;
    });
  }

  /**
   * Writes a conversation's next version with what goes with it, if it is
   * still at the version read; else answers the row as the statement saw it
   * (`undefined` once it is gone), for the next try.
   */
  async #commit(
    organizationId: string,
    found: Stored,
    change: CommitChange,
  ): Promise<Committed> {
    const { conversation, event, message } = change;
    const conversationId = found.conversation.id;
    const trim = change.trim ?? 0;
    const outbox = change.outbox ?? [];
    const at = floorMs(this.#now());
    const rows = await this.#database.run(
      "Chat store",
      (sql: Sql) =>
        sql<{
          version: number | null;
          current_version: number | null;
          current_document: Conversation | null;
          seq?: number | null;
        }[]>`
        WITH conv AS (
          UPDATE parley_conversations SET
            document = ${JSON.stringify(conversation)}::text::json,
            version = version + 1,
            status = ${conversation.status},
            updated_at = ${Date.parse(conversation.updatedAt)},
            has_messages = ${conversation.lastMessage !== undefined},
            assignee_id = ${conversation.assignee?.id ?? null}
          WHERE organization_id = ${organizationId} AND id = ${conversationId}
            AND version = ${found.version}
          RETURNING version
        )
        ${
          message === undefined ? sql`` : sql`, message AS (
          INSERT INTO parley_messages
            (organization_id, conversation_id, id, document)
          SELECT ${organizationId}, ${conversationId}, ${message.id},
            ${sql.json(message as never)}::jsonb
          FROM conv
        )`
        }
        ${
          trim === 0 ? sql`` : sql`, trimmed AS (
          DELETE FROM parley_messages m
          WHERE m.organization_id = ${organizationId}
            AND m.conversation_id = ${conversationId}
            AND m.id IN (
              SELECT id FROM parley_messages
              WHERE organization_id = ${organizationId}
                AND conversation_id = ${conversationId}
              ORDER BY id LIMIT ${trim})
            AND EXISTS (SELECT 1 FROM conv)
        )`
        }
        ${
          event === undefined ? sql`` : sql`, head AS (
          INSERT INTO parley_feed_heads AS h (organization_id, seq)
          SELECT ${organizationId}, 1 FROM conv
          ON CONFLICT (organization_id) DO UPDATE SET seq = h.seq + 1
          RETURNING seq
        ), feed AS (
          INSERT INTO parley_feed (organization_id, seq, at, event)
          SELECT ${organizationId}, seq, ${at}, ${
            sql.json(event as never)
          }::jsonb
          FROM head
        )`
        }
        ${
          outbox.length === 0 ? sql`` : sql`, outbox AS (
          INSERT INTO parley_outbox
            (organization_id, id, kind, body, due_at, attempts)
          SELECT k.o, k.id, k.kind, k.body, k.due, k.attempts
          FROM unnest(
            ${outbox.map((item) => item.organizationId)}::text[],
            ${outbox.map((item) => item.id)}::text[],
            ${outbox.map((item) => item.kind)}::text[],
            ${outbox.map((item) => item.body)}::text[],
            ${outbox.map((item) => ceilMs(item.dueAt))}::bigint[],
            ${outbox.map((item) => item.attempts)}::integer[]
          ) AS k(o, id, kind, body, due, attempts)
          WHERE EXISTS (SELECT 1 FROM conv)
          ON CONFLICT DO NOTHING
        )`
        }
        SELECT conv.version, cur.version AS current_version,
          cur.document AS current_document${
          event === undefined ? sql`` : sql`, (SELECT seq FROM head) AS seq`
        }
        FROM (SELECT 1) AS one
        LEFT JOIN conv ON true
        LEFT JOIN parley_conversations cur
          ON conv.version IS NULL AND cur.organization_id = ${organizationId}
          AND cur.id = ${conversationId}`,
    );
    const row = rows[0];
    const key = knownKey(organizationId, conversationId);
    if (row?.version !== null && row?.version !== undefined) {
      this.#remember(organizationId, { conversation, version: row.version });
      if (event !== undefined) {
        this.#onFeed(organizationId, written(row.seq, at, event));
      }
      return { written: true };
    }
    if (row?.current_version == null || row.current_document == null) {
      this.#known.delete(key);
      return { written: false, current: undefined };
    }
    const current = {
      conversation: row.current_document,
      version: row.current_version,
    };
    this.#remember(organizationId, current);
    return { written: false, current };
  }

  /** Rows of a batched lookup by key position, remembered. */
  #remembered(
    keys: readonly (readonly [string, unknown])[],
    rows: readonly Row[],
  ): (Stored | undefined)[] {
    const found = byPosition(keys.length, rows);
    found.forEach((stored, index) => {
      if (stored !== undefined) this.#remember(keys[index]![0], stored);
    });
    return found;
  }

  /**
   * Remembers a version unless a later one is known: a read that started
   * before this process's own write may answer after it.
   */
  #remember(organizationId: string, stored: Stored): void {
    const key = knownKey(organizationId, stored.conversation.id);
    const known = this.#known.get(key);
    if (known === undefined || known.version <= stored.version) {
      this.#known.set(key, stored);
    }
  }
}

/**
 * The entry a commit added, as the feed holds it (its event as stored:
 * `jsonb` keeps no key order and no `undefined`), when its seq came back.
 */
function written(
  seq: number | null | undefined,
  at: number,
  event: FeedEvent,
): FeedEntry[] {
  return seq === null || seq === undefined
    ? []
    : [{ seq, at, event: JSON.parse(JSON.stringify(event)) }];
}

/** A conversation's key among the known versions. */
function knownKey(organizationId: string, conversationId: string): string {
  return `${organizationId}\u0000${conversationId}`;
}

function participantId(participant: Participant): string {
  return participant.kind === "user"
    ? participant.subject
    : participant.visitorId;
}

/** Rows of a batched lookup, by the 1-based position of their key. */
function byPosition(
  count: number,
  rows: readonly Row[],
): (Stored | undefined)[] {
  const found: (Stored | undefined)[] = new Array(count).fill(undefined);
  for (const row of rows) {
    found[row.i - 1] = { conversation: row.document, version: row.version };
  }
  return found;
}
