/**
 * Security counts on PostgreSQL (`parley_security_counts`): one row per
 * (organization, hour, metric, key), added to by upserts that sum counts and
 * keep the later `last_seen`, so hosts add without reading. A batch is
 * summed per row first (an upsert may touch a row once) and written in key
 * order (two hosts' batches never deadlock).
 *
 * @module
 */

import type {
  SecurityCount,
  SecurityCounterStore,
} from "../security_counter_store.ts";
import { BACKGROUND_DEADLINE_MS, type PgDatabase } from "./pg_database.ts";
import { ceilMs, floorMs } from "./whole_ms.ts";

/** The security counters of one PostgreSQL database. */
export class PgSecurityCounterStore implements SecurityCounterStore {
  readonly #database: PgDatabase;

  /** @param database The store's database. */
  constructor(database: PgDatabase) {
    this.#database = database;
  }

  async add(counts: readonly SecurityCount[]): Promise<void> {
    const merged = new Map<string, SecurityCount>();
    for (const count of counts) {
      const id = JSON.stringify([
        count.organizationId,
        count.hour,
        count.metric,
        count.key,
      ]);
      const known = merged.get(id);
      merged.set(
        id,
        known === undefined ? count : {
          ...known,
          count: known.count + count.count,
          lastSeen: Math.max(known.lastSeen, count.lastSeen),
        },
      );
    }
    const rows = [...merged.entries()].sort(([a], [b]) => a < b ? -1 : 1)
      .map(([, count]) => count);
    if (rows.length === 0) return;
    await this.#database.run("Security counters", (sql) =>
      sql`
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
          last_seen = greatest(s.last_seen, excluded.last_seen)`);
  }

  async read(
    organizationId: string,
    fromHour: number,
    toHour: number,
  ): Promise<SecurityCount[]> {
    const rows = await this.#database.run("Security counters", (sql) =>
      sql<
        {
          hour: number;
          metric: string;
          key: string;
          count: number;
          last_seen: number;
        }[]
      >`
        SELECT hour, metric, key, count, last_seen
        FROM parley_security_counts
        WHERE organization_id = ${organizationId}
          AND hour >= ${ceilMs(fromHour)} AND hour < ${ceilMs(toHour)}
        ORDER BY hour, metric, key`);
    return rows.map((row) => ({
      organizationId,
      hour: row.hour,
      metric: row.metric,
      key: row.key,
      count: row.count,
      lastSeen: row.last_seen,
    }));
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
