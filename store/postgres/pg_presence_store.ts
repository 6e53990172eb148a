/**
 * Agent presence on PostgreSQL (`parley_presence`): one row per open
 * stream, renewed by its beats. `present` compares `until` with the clock;
 * each beat also deletes the organization's beats that lapsed a minute ago.
 *
 * @module
 */

import type { PresenceStore } from "../presence_store.ts";
import type { PgDatabase } from "./pg_database.ts";
import { ceilMs, floorMs } from "./whole_ms.ts";

/** Lapsed beats are kept this long before a beat deletes them. */
const LAPSED_KEEP_MS = 60_000;

/** The presence of one PostgreSQL database. */
export class PgPresenceStore implements PresenceStore {
  readonly #database: PgDatabase;

  /** @param database The store's database. */
  constructor(database: PgDatabase) {
    this.#database = database;
  }

  async beat(
    organizationId: string,
    holder: string,
    agentId: string,
    until: number,
  ): Promise<void> {
    await this.#database.run("Presence", (sql) =>
      sql`
        WITH lapsed AS (
          DELETE FROM parley_presence
          WHERE organization_id = ${organizationId}
            AND until < ${floorMs(Date.now() - LAPSED_KEEP_MS)}
            AND holder <> ${holder}
        )
        INSERT INTO parley_presence (organization_id, holder, agent_id, until)
        VALUES (${organizationId}, ${holder}, ${agentId}, ${ceilMs(until)})
        ON CONFLICT (organization_id, holder)
          DO UPDATE SET agent_id = excluded.agent_id, until = excluded.until`);
  }

  async leave(organizationId: string, holder: string): Promise<void> {
    await this.#database.run("Presence", (sql) =>
      sql`
        DELETE FROM parley_presence
        WHERE organization_id = ${organizationId} AND holder = ${holder}`);
  }

  async present(organizationId: string, now: number): Promise<string[]> {
    const rows = await this.#database.run(
      "Presence",
      (sql) =>
        sql<{ agent_id: string }[]>`
        SELECT DISTINCT agent_id FROM parley_presence
        WHERE organization_id = ${organizationId} AND until > ${floorMs(now)}`,
    );
    return rows.map((row) => row.agent_id);
  }
}
