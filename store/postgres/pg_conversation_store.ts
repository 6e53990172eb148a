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

/** The conversation store of one PostgreSQL database. */
export class PgConversationStore implements ConversationStore {
  readonly #database: PgDatabase;
  readonly #onFeed: (organizationId: string) => void;
  readonly #now: () => number;
  readonly #byParticipant: BatchedLookups<
    readonly [string, Participant],
    Stored | undefined
  >;
  readonly #byId: BatchedLookups<readonly [string, string], Stored | undefined>;

  /**
   * @param database The store's database.
   * @param onFeed Told after every commit that added to an organization's feed.
   * @param now Clock, epoch milliseconds.
   */
  constructor(
    database: PgDatabase,
    onFeed: (organizationId: string) => void,
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
      return byPosition(keys.length, rows);
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
      return byPosition(keys.length, rows);
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
        const written = await this.#commit(organizationId, found, {
          conversation: refreshed,
        });
        return written ? done(refreshed) : LOST;
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
        return rows.length === 1 ? done(conversation) : LOST;
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
    return await retryConflicts("update", async () => {
      const found = await this.#byId.get([organizationId, conversationId]);
      if (found === undefined) return done(undefined);
      const next = change(found.conversation);
      if (next === undefined) return done(found.conversation);
      const written = await this.#commit(organizationId, found, {
        conversation: next.conversation,
        ...(next.event === undefined ? {} : { event: next.event }),
        outbox: next.outbox ?? [],
      });
      return written ? done(next.conversation) : LOST;
    });
  }

  async append(
    organizationId: string,
    conversationId: string,
    compose: (current: Conversation) => MessageChange,
    keep: number,
  ): Promise<{ message: ChatMessage; conversation: Conversation } | undefined> {
    return await retryConflicts("append", async () => {
      const found = await this.#byId.get([organizationId, conversationId]);
      if (found === undefined) return done(undefined);
      const change = compose(found.conversation);
      const { message } = change;
      const excess = change.conversation.messageCount - Math.max(1, keep);
      const trim = excess > 0 ? Math.min(excess, TRIM_PER_APPEND) : 0;
      const conversation: Conversation = {
        ...change.conversation,
        messageCount: change.conversation.messageCount - trim,
        trimmed: change.conversation.trimmed + trim,
      };
      const written = await this.#commit(organizationId, found, {
        conversation,
        message,
        trim,
        event: { kind: "message", conversationId, message },
        outbox: change.outbox ?? [],
      });
      return written ? done({ message, conversation }) : LOST;
    });
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
    await this.#database.run("Chat store", (sql) =>
      sql`
        WITH head AS (
          INSERT INTO parley_feed_heads AS h (organization_id, seq)
          VALUES (${organizationId}, 1)
          ON CONFLICT (organization_id) DO UPDATE SET seq = h.seq + 1
          RETURNING seq
        )
        INSERT INTO parley_feed (organization_id, seq, at, event)
        SELECT ${organizationId}, seq, ${at}, ${sql.json(event as never)}::jsonb
        FROM head`);
    this.#onFeed(organizationId);
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
   * Writes a conversation's next version with what goes with it, if it is
   * still at the version read.
   *
   * @returns Whether it was written.
   */
  async #commit(
    organizationId: string,
    found: Stored,
    change: {
      readonly conversation: Conversation;
      readonly event?: FeedEvent;
      readonly message?: ChatMessage;
      readonly trim?: number;
      readonly outbox?: readonly OutboxItem[];
    },
  ): Promise<boolean> {
    const { conversation, event, message } = change;
    const conversationId = found.conversation.id;
    const trim = change.trim ?? 0;
    const outbox = change.outbox ?? [];
    const at = floorMs(this.#now());
    const rows = await this.#database.run(
      "Chat store",
      (sql: Sql) =>
        sql<{ version: number | null }[]>`
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
        SELECT (SELECT version FROM conv) AS version`,
    );
    const written = rows[0]?.version !== null && rows[0]?.version !== undefined;
    if (written && event !== undefined) this.#onFeed(organizationId);
    return written;
  }
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
