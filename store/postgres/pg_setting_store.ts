/**
 * Deployment settings on PostgreSQL (`parley_settings`, under the `_parley`
 * organization): the session secret is created once and shared by every
 * host. Hosts racing to create it insert with `ON CONFLICT DO NOTHING`; the
 * losers read the winner's value in a later statement (a statement's
 * snapshot predates the winner's commit, so it must be a new one).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { GLOBAL_ORGANIZATION, type SettingStore } from "../store.ts";
import { StoreUnavailableError } from "../store_unavailable_error.ts";
import type { PgDatabase } from "./pg_database.ts";

/** The settings of one PostgreSQL database. */
export class PgSettingStore implements SettingStore {
  readonly #database: PgDatabase;

  /** @param database The store's database. */
  constructor(database: PgDatabase) {
    this.#database = database;
  }

  async getOrCreate(
    name: string,
    create: () => Uint8Array,
  ): Promise<Uint8Array> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const found = await this.#database.run(
        "Settings",
        (sql) =>
          sql<{ value: Uint8Array }[]>`
          SELECT value FROM parley_settings
          WHERE organization_id = ${GLOBAL_ORGANIZATION} AND name = ${name}`,
      );
      if (found[0] !== undefined) return new Uint8Array(found[0].value);
      const fresh = create();
      const inserted = await this.#database.run("Settings", (sql) =>
        sql`
          INSERT INTO parley_settings (organization_id, name, value)
          VALUES (${GLOBAL_ORGANIZATION}, ${name}, ${Buffer.from(fresh)})
          ON CONFLICT DO NOTHING
          RETURNING name`);
      if (inserted.length === 1) return fresh;
    }
    throw new StoreUnavailableError(`Setting "${name}" stayed contended`);
  }
}
