/**
 * Security counts on PostgreSQL (`parley_security_counts`): one row per
 * (organization, hour, metric, key), added to by upserts that sum counts and
 * keep the later `last_seen`, so hosts add without reading. A batch is
 * summed per row first (an upsert may touch a row once) and written in key
 * order (two hosts' batches never deadlock).
 *
 * A batch with capped keys (origins) is one transaction that first takes a
 * transaction-level advisory lock per (organization, hour) it touches, in
 * lock-key order, then reads which capped keys each holds, admits what room
 * is left and upserts: writers of one hour take turns, so the cap holds
 * across hosts. Reads sum the capped metrics over the window in SQL and
 * return only the keys a report lists.
 *
 * @module
 */

import {
  addCount,
  type KeyCap,
  type SecurityCount,
  type SecurityCounterStore,
  type SumOptions,
} from "../security_counter_store.ts";
import {
  admittedKeys,
  cappedGroups,
  groupId,
  overflowUnheld,
} from "../security_key_cap.ts";
import type postgres from "postgres";
import {
  BACKGROUND_DEADLINE_MS,
  type PgDatabase,
  type Sql,
} from "./pg_database.ts";
import { ceilMs, floorMs } from "./whole_ms.ts";

/** The advisory locks' first key (`'parl'`), so they share no key with other users of the database. */
const CAP_LOCK_CLASS = 0x7061726c;

/** The security counters of one PostgreSQL database. */
export class PgSecurityCounterStore implements SecurityCounterStore {
  readonly #database: PgDatabase;

  /** @param database The store's database. */
  constructor(database: PgDatabase) {
    this.#database = database;
  }

  async add(counts: readonly SecurityCount[], cap?: KeyCap): Promise<void> {
    if (counts.length === 0) return;
    const groups = cap === undefined ? [] : cappedGroups(counts, cap);
    if (cap === undefined || groups.length === 0) {
      await this.#database.run(
        "Security counters",
        (sql) => upsert(sql, counts),
      );
      return;
    }
    // begin, lock, read, upsert, commit: counted as the statements they are.
    for (let i = 0; i < 4; i++) this.#database.counted();
    await this.#database.run(
      "Security counters",
      (sql) =>
        sql.begin(async (transaction) => {
          const organizations = groups.map((group) => group.organizationId);
          const hours = groups.map((group) => floorMs(group.hour));
          await transaction`
          SELECT pg_advisory_xact_lock(${CAP_LOCK_CLASS}, lock_key)
          FROM (
            SELECT DISTINCT hashtext(organization_id || '/' || hour) AS lock_key
            FROM unnest(${organizations}::text[], ${hours}::bigint[])
              AS g (organization_id, hour)
            ORDER BY lock_key
          ) AS locks`;
          const rows = await transaction<
            { organization_id: string; hour: number; key: string }[]
          >`
          SELECT organization_id, hour, key
          FROM parley_security_counts
          WHERE (organization_id, hour) IN (
              SELECT * FROM unnest(${organizations}::text[], ${hours}::bigint[]))
            AND metric = ANY(${cap.metrics as string[]}::text[])
            AND key <> ${cap.overflowKey}
          GROUP BY organization_id, hour, key`;
          const held = new Map<string, Set<string>>();
          for (const row of rows) {
            const id = groupId(row.organization_id, row.hour);
            let keys = held.get(id);
            if (keys === undefined) held.set(id, keys = new Set());
            keys.add(row.key);
          }
          for (const group of groups) {
            const id = groupId(group.organizationId, group.hour);
            const keys = held.get(id) ?? new Set<string>();
            for (const key of admittedKeys(group, keys, cap)) keys.add(key);
            held.set(id, keys);
          }
          await upsert(transaction, overflowUnheld(counts, cap, held));
          return [];
        }),
    );
  }

  async read(
    organizationId: string,
    fromHour: number,
    toHour: number,
  ): Promise<SecurityCount[]> {
    return await this.#hourly(organizationId, fromHour, toHour, []);
  }

  async readSummed(
    organizationId: string,
    fromHour: number,
    toHour: number,
    sum: SumOptions,
  ): Promise<SecurityCount[]> {
    const metrics = sum.metrics as string[];
    const sumFrom = ceilMs(Math.max(fromHour, sum.fromHour));
    const [hourly, summed] = await Promise.all([
      this.#hourly(organizationId, fromHour, toHour, metrics),
      this.#database.run(
        "Security counters",
        (sql) =>
          sql<Omit<CountRow, "hour">[]>`
          WITH sums AS (
            SELECT metric, key, sum(count)::bigint AS count,
              max(last_seen) AS last_seen
            FROM parley_security_counts
            WHERE organization_id = ${organizationId}
              AND hour >= ${sumFrom} AND hour < ${ceilMs(toHour)}
              AND metric = ANY(${metrics}::text[])
            GROUP BY metric, key
          ), ranked AS (
            SELECT metric, key, count, last_seen, row_number() OVER (
              PARTITION BY metric ORDER BY count DESC, key) AS rank
            FROM sums
          ), ranked_first AS (
            SELECT key FROM ranked
            WHERE metric = ${sum.rankBy} AND rank <= ${sum.limit}
          )
          SELECT metric,
            CASE WHEN rank <= ${sum.limit} OR key IN (SELECT key FROM ranked_first)
              THEN key ELSE ${sum.restKey} END AS key,
            sum(count)::bigint AS count, max(last_seen) AS last_seen
          FROM ranked
          GROUP BY 1, 2`,
      ),
    ]);
    return [
      ...hourly,
      ...summed.map((row) =>
        fromRow(organizationId, { ...row, hour: sum.fromHour })
      ),
    ];
  }

  /** The hours' counts, per hour, of every metric but the `except` ones. */
  async #hourly(
    organizationId: string,
    fromHour: number,
    toHour: number,
    except: readonly string[],
  ): Promise<SecurityCount[]> {
    const rows = await this.#database.run(
      "Security counters",
      (sql) =>
        sql<CountRow[]>`
        SELECT hour, metric, key, count, last_seen
        FROM parley_security_counts
        WHERE organization_id = ${organizationId}
          AND hour >= ${ceilMs(fromHour)} AND hour < ${ceilMs(toHour)}
          AND metric <> ALL(${except as string[]}::text[])
        ORDER BY hour, metric, key`,
    );
    return rows.map((row) => fromRow(organizationId, row));
  }

  async sweep(beforeHour: number): Promise<number> {
    const rows = await this.#database.run(
      "Security counters",
      (sql) =>
        sql`DELETE FROM parley_security_counts WHERE hour < ${
          ceilMs(beforeHour)
        }`,
      { deadlineMs: BACKGROUND_DEADLINE_MS },
    );
    return rows.count;
  }
}

interface CountRow {
  hour: number;
  metric: string;
  key: string;
  count: number;
  last_seen: number;
}

function fromRow(organizationId: string, row: CountRow): SecurityCount {
  return {
    organizationId,
    hour: row.hour,
    metric: row.metric,
    key: row.key,
    count: row.count,
    lastSeen: row.last_seen,
  };
}

/** Sums a batch into the table: merged per row, written in key order. */
async function upsert(
  sql: Sql | postgres.TransactionSql,
  counts: readonly SecurityCount[],
): Promise<readonly unknown[]> {
  const merged = new Map<string, SecurityCount>();
  for (const count of counts) {
    const id = JSON.stringify([
      count.organizationId,
      count.hour,
      count.metric,
      count.key,
    ]);
    merged.set(id, addCount(merged.get(id), count));
  }
  const rows = [...merged.entries()].sort(([a], [b]) => a < b ? -1 : 1)
    .map(([, count]) => count);
  if (rows.length === 0) return [];
  return await sql`
    INSERT INTO parley_security_counts AS s
      (organization_id, hour, metric, key, count, last_seen)
    SELECT * FROM unnest(
      ${rows.map((row) => row.organizationId)}::text[],
      ${rows.map((row) => floorMs(row.hour))}::bigint[],
      ${rows.map((row) => row.metric)}::text[],
      ${rows.map((row) => row.key)}::text[],
      ${rows.map((row) => row.count)}::bigint[],
      ${rows.map((row) => floorMs(row.lastSeen))}::bigint[])
    ON CONFLICT (organization_id, hour, metric, key) DO UPDATE SET
      count = s.count + excluded.count,
      last_seen = greatest(s.last_seen, excluded.last_seen)`;
}
