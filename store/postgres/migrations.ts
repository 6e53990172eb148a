/**
 * The PostgreSQL schema, as versioned migrations recorded in
 * `parley_schema_migrations`. Every host runs {@linkcode migrate} at start
 * under one session-level advisory lock, so hosts starting together on an
 * empty database take turns: the first applies what is missing, the others
 * find it applied.
 *
 * Every table's key leads with `organization_id` (`_parley` for global
 * settings, `_unknown` for the shared bucket of unknown organizations), so
 * the schema can be distributed by organization (Citus-style) later. Text
 * keys use the `C` collation: ids sort by their bytes, as on Deno KV.
 *
 * A migration is never edited once released; a change is a new version.
 *
 * @module
 */

import type { PgDatabase } from "./pg_database.ts";

/** One step of the schema. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /** Statements run in one transaction. */
  readonly sql: string;
}

/** Key of the advisory lock migrations take (`'parley'` as bytes). */
export const MIGRATION_LOCK_KEY = 0x7061726c6579;

/** The schema, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "initial schema",
    sql: `
CREATE TABLE parley_settings (
  organization_id text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  value bytea NOT NULL,
  PRIMARY KEY (organization_id, name)
);

-- Rate-limit counters: the window is part of the key, so a new window is a
-- new row; ended windows are swept, nothing relies on a TTL.
CREATE TABLE parley_counters (
  organization_id text COLLATE "C" NOT NULL,
  bucket text COLLATE "C" NOT NULL,
  window_ms bigint NOT NULL,
  window_end bigint NOT NULL,
  count bigint NOT NULL,
  PRIMARY KEY (organization_id, bucket, window_ms, window_end)
);
CREATE INDEX parley_counters_window_end ON parley_counters (window_end);

-- One batch of chains (one CounterStore.charge) in one statement: every
-- counter exists, then all are locked in key order (so batches of two hosts
-- never deadlock), each chain is decided in arrival order with the rule of
-- chargeChain, and the new counts are written.
CREATE FUNCTION parley_charge(
  p_organization_ids text[],
  p_buckets text[],
  p_window_ms bigint[],
  p_window_ends bigint[],
  p_slot_counters integer[],
  p_slot_limits bigint[],
  p_slot_peeks boolean[],
  p_slot_chains integer[]
) RETURNS TABLE (out_chain integer, out_admitted boolean, out_count bigint)
LANGUAGE plpgsql AS $$
DECLARE
  counter_count integer := cardinality(p_organization_ids);
  counts bigint[] := array_fill(0::bigint, ARRAY[counter_count]);
  dirty boolean[] := array_fill(false, ARRAY[counter_count]);
  found_row record;
  counter integer;
  current_chain integer := -1;
  stopped boolean := false;
BEGIN
  INSERT INTO parley_counters AS c
    (organization_id, bucket, window_ms, window_end, count)
  SELECT k.o, k.b, k.w, k.e, 0
  FROM unnest(p_organization_ids, p_buckets, p_window_ms, p_window_ends)
    AS k(o, b, w, e)
  ORDER BY k.o, k.b, k.w, k.e
  ON CONFLICT DO NOTHING;

  FOR found_row IN
    SELECT k.i, c.count
    FROM parley_counters c
    JOIN unnest(p_organization_ids, p_buckets, p_window_ms, p_window_ends)
      WITH ORDINALITY AS k(o, b, w, e, i)
      ON c.organization_id = k.o AND c.bucket = k.b
        AND c.window_ms = k.w AND c.window_end = k.e
    ORDER BY c.organization_id, c.bucket, c.window_ms, c.window_end
    FOR UPDATE OF c
  LOOP
    counts[found_row.i] := found_row.count;
  END LOOP;

  FOR slot IN 1 .. coalesce(cardinality(p_slot_counters), 0) LOOP
    IF p_slot_chains[slot] <> current_chain THEN
      current_chain := p_slot_chains[slot];
      stopped := false;
    END IF;
    CONTINUE WHEN stopped;
    counter := p_slot_counters[slot];
    out_chain := current_chain;
    IF counts[counter] >= p_slot_limits[slot] THEN
      out_admitted := false;
      out_count := counts[counter];
      stopped := true;
    ELSE
      IF NOT p_slot_peeks[slot] THEN
        counts[counter] := counts[counter] + 1;
        dirty[counter] := true;
      END IF;
      out_admitted := true;
      out_count := counts[counter];
    END IF;
    RETURN NEXT;
  END LOOP;

  INSERT INTO parley_counters AS c
    (organization_id, bucket, window_ms, window_end, count)
  SELECT k.o, k.b, k.w, k.e, k.n
  FROM unnest(p_organization_ids, p_buckets, p_window_ms, p_window_ends,
    counts, dirty) AS k(o, b, w, e, n, d)
  WHERE k.d
  ORDER BY k.o, k.b, k.w, k.e
  ON CONFLICT (organization_id, bucket, window_ms, window_end)
    DO UPDATE SET count = excluded.count;

  -- Counters this batch created but never counted in (a chain stopped
  -- before them) are not kept: only counted windows are stored.
  FOR counter IN 1 .. counter_count LOOP
    IF counts[counter] = 0 AND NOT dirty[counter] THEN
      DELETE FROM parley_counters c
      USING unnest(p_organization_ids, p_buckets, p_window_ms, p_window_ends,
        counts, dirty) AS k(o, b, w, e, n, d)
      WHERE k.n = 0 AND NOT k.d AND c.organization_id = k.o
        AND c.bucket = k.b AND c.window_ms = k.w AND c.window_end = k.e
        AND c.count = 0;
      EXIT;
    END IF;
  END LOOP;
END
$$;

-- Conversations are documents; the columns beside them are what the
-- indexes need. The document is json, not jsonb: it comes back with its keys
-- in the order written (as on Deno KV), so chat/ can compare attributes as
-- text without every boot rewriting them.
CREATE TABLE parley_conversations (
  organization_id text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  participant_kind text COLLATE "C" NOT NULL,
  participant_id text COLLATE "C" NOT NULL,
  status text COLLATE "C" NOT NULL,
  updated_at bigint NOT NULL,
  has_messages boolean NOT NULL,
  assignee_id text COLLATE "C",
  version bigint NOT NULL,
  document json NOT NULL,
  PRIMARY KEY (organization_id, id)
);
-- One open conversation per participant: concurrent opens end with one.
CREATE UNIQUE INDEX parley_conversations_open_participant
  ON parley_conversations (organization_id, participant_kind, participant_id)
  WHERE status = 'open';
-- The inbox, newest first, and the same per assignee ('' for nobody).
CREATE INDEX parley_conversations_inbox
  ON parley_conversations (organization_id, updated_at DESC, id DESC)
  WHERE has_messages;
CREATE INDEX parley_conversations_inbox_by_assignee
  ON parley_conversations
    (organization_id, (coalesce(assignee_id, '')), updated_at DESC, id DESC)
  WHERE has_messages;
-- Retention.
CREATE INDEX parley_conversations_updated
  ON parley_conversations (organization_id, updated_at);

CREATE TABLE parley_messages (
  organization_id text COLLATE "C" NOT NULL,
  conversation_id text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  document jsonb NOT NULL,
  PRIMARY KEY (organization_id, conversation_id, id)
);

-- Each organization's feed: the head row, locked by every writing
-- transaction until it commits, numbers entries without gaps in commit order.
CREATE TABLE parley_feed_heads (
  organization_id text COLLATE "C" NOT NULL PRIMARY KEY,
  seq bigint NOT NULL
);
CREATE TABLE parley_feed (
  organization_id text COLLATE "C" NOT NULL,
  seq bigint NOT NULL,
  at bigint NOT NULL,
  event jsonb NOT NULL,
  PRIMARY KEY (organization_id, seq)
);
CREATE INDEX parley_feed_at ON parley_feed (organization_id, at);
-- Every feed entry tells the hosts' listeners when its transaction commits.
CREATE FUNCTION parley_feed_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('parley_feed', NEW.organization_id);
  RETURN NULL;
END
$$;
CREATE TRIGGER parley_feed_notify AFTER INSERT ON parley_feed
  FOR EACH ROW EXECUTE FUNCTION parley_feed_notify();

-- Webhook deliveries; leased while owner is set, due again once the lease
-- ends.
CREATE TABLE parley_outbox (
  organization_id text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  kind text NOT NULL,
  body text NOT NULL,
  due_at bigint NOT NULL,
  attempts integer NOT NULL,
  owner text,
  lease_until bigint,
  PRIMARY KEY (organization_id, id)
);
CREATE INDEX parley_outbox_next_due
  ON parley_outbox ((coalesce(lease_until, due_at)));

CREATE TABLE parley_presence (
  organization_id text COLLATE "C" NOT NULL,
  holder text COLLATE "C" NOT NULL,
  agent_id text NOT NULL,
  until bigint NOT NULL,
  PRIMARY KEY (organization_id, holder)
);

CREATE TABLE parley_security_counts (
  organization_id text COLLATE "C" NOT NULL,
  hour bigint NOT NULL,
  metric text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  count bigint NOT NULL,
  last_seen bigint NOT NULL,
  PRIMARY KEY (organization_id, hour, metric, key)
);
CREATE INDEX parley_security_counts_hour ON parley_security_counts (hour);
`,
  },
  {
    version: 2,
    name: "outbox due per organization",
    sql: `
-- claim() takes each organization's oldest due deliveries, as many as its
-- share allows, so one organization's backlog is never scanned.
CREATE INDEX parley_outbox_org_next_due
  ON parley_outbox (organization_id, (coalesce(lease_until, due_at)));
DROP INDEX parley_outbox_next_due;
`,
  },
];

/**
 * Brings the database up to the latest migration, under the advisory lock.
 *
 * @param database The store's database.
 * @param migrations The schema (default {@linkcode MIGRATIONS}).
 * @returns The versions applied by this call (empty when already current).
 * @throws {StoreUnavailableError} When the database fails.
 */
export async function migrate(
  database: PgDatabase,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  // One connection of its own: a session-level advisory lock belongs to it.
  // Hosts starting together wait for each other's migration, and a
  // migration may take long: no lock or statement bound here.
  const sql = database.connect({
    max: 1,
    connection: { lock_timeout: 0, statement_timeout: 0 },
  });
  const applied: number[] = [];
  try {
    database.counted();
    await sql`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    database.counted();
    await sql`
      CREATE TABLE IF NOT EXISTS parley_schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`;
    database.counted();
    const rows = await sql<{ version: number }[]>`
      SELECT version FROM parley_schema_migrations`;
    const done = new Set(rows.map((row) => row.version));
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      database.counted();
      await sql.begin(async (transaction) => {
        await transaction.unsafe(migration.sql);
        await transaction`
          INSERT INTO parley_schema_migrations (version, name)
          VALUES (${migration.version}, ${migration.name})`;
      });
      applied.push(migration.version);
    }
    database.counted();
    await sql`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
  } catch (error) {
    throw database.unavailable("Schema migration", error);
  } finally {
    // Ending the session also drops the lock if unlocking never ran.
    await sql.end({ timeout: 5 }).catch(() => {});
  }
  return applied;
}
