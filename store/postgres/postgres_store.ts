/**
 * The PostgreSQL adapter: every part of the storage port on one database
 * that many hosts share. `openPostgresStore` migrates the schema (under an
 * advisory lock, see `migrations.ts`) and returns the store; connections
 * open on use, fail within seconds when the database is unreachable, and
 * come back by themselves when it returns.
 *
 * @module
 */

import type { Store } from "../store.ts";
import { migrate } from "./migrations.ts";
import { PgChangeFeed } from "./pg_change_feed.ts";
import { PgConversationStore } from "./pg_conversation_store.ts";
import { PgCounterStore } from "./pg_counter_store.ts";
import {
  parsePostgresUrl,
  PgDatabase,
  type PgDatabaseOptions,
} from "./pg_database.ts";
import { PgOutboxStore } from "./pg_outbox_store.ts";
import { PgPresenceStore } from "./pg_presence_store.ts";
import { PgSecurityCounterStore } from "./pg_security_counter_store.ts";
import { PgSettingStore } from "./pg_setting_store.ts";

/** `/healthz` answers within 2 s: its statement gets half of that. */
const PING_DEADLINE_MS = 1_000;

/** Options of {@linkcode openPostgresStore}. */
export interface PostgresStoreOptions extends PgDatabaseOptions {
  /** Clock, epoch milliseconds (default `Date.now`). */
  readonly now?: () => number;
}

/** A store on PostgreSQL, with what only this adapter has. */
export interface PostgresStore extends Store {
  readonly engine: "postgres";
  /** Statements sent so far (each one round trip). */
  roundTrips(): number;
  /** The change feed, which tests can disconnect. */
  readonly changes: PgChangeFeed;
}

/**
 * Opens a PostgreSQL store and brings its schema up to date.
 *
 * @param url `postgres://user:password@host:port/database`.
 * @param options Pool size, connect timeout, clock.
 * @returns The store; the caller closes it.
 * @throws {RangeError} For a URL that is not a PostgreSQL URL.
 * @throws {StoreUnavailableError} When the database cannot be reached or migrated.
 *
 * @example Open the store many hosts share
 * ```ts ignore
 * const store = await openPostgresStore("postgres://parley@db:5432/parley");
 * ```
 */
export async function openPostgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<PostgresStore> {
  const database = new PgDatabase(parsePostgresUrl(url), options);
  try {
    await migrate(database);
  } catch (error) {
    await database.end().catch(() => {});
    throw error;
  }
  const changes = new PgChangeFeed(database);
  const now = options.now ?? Date.now;
  return {
    engine: "postgres",
    location: database.location,
    counters: new PgCounterStore(database),
    conversations: new PgConversationStore(
      database,
      (organizationId, written) => changes.wrote(organizationId, written),
      now,
    ),
    changes,
    settings: new PgSettingStore(database),
    outbox: new PgOutboxStore(database),
    presence: new PgPresenceStore(database),
    securityCounters: new PgSecurityCounterStore(database),
    roundTrips: () => database.roundTrips(),
    async ping() {
      await database.run("Health check", (sql) => sql`SELECT 1`, {
        deadlineMs: PING_DEADLINE_MS,
      });
    },
    async close() {
      await changes.close();
      await database.end();
    },
  };
}
