/**
 * Feed notices on PostgreSQL: one `LISTEN parley_feed` connection per
 * process, started with the first watch. Every feed entry's transaction
 * sends `pg_notify('parley_feed', organizationId)` (a trigger), so other
 * hosts' writes arrive as soon as they commit; this process's own writes are
 * told at once, without the round trip.
 *
 * Notices sent while the listener was disconnected are lost, so whenever it
 * (re)connects every watched organization is told: the live feed's hubs then
 * read past what they have seen, and nothing is missed. A heartbeat finds a
 * listener whose connection died silently.
 *
 * @module
 */

import {
  type ChangeFeed,
  type ChangeListener,
  ChangeListeners,
} from "../change_feed.ts";
import type { FeedEntry } from "../conversation_store.ts";
import type { PgDatabase, Sql } from "./pg_database.ts";

/** The channel every feed entry notifies. */
export const FEED_CHANNEL = "parley_feed";
/** Longest wait between two reconnection attempts, milliseconds. */
const MAX_RECONNECT_MS = 1_000;
/** How often a quiet listener checks its connection, milliseconds. */
const HEARTBEAT_MS = 5_000;

/** The change feed of one PostgreSQL database. */
export class PgChangeFeed implements ChangeFeed {
  readonly #database: PgDatabase;
  readonly #listeners = new ChangeListeners(() => this.#start());
  #sql: Sql | undefined;
  #listening = false;
  #connecting = false;
  #failures = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  /** Incremented on every connection, so a stale connection's close is ignored. */
  #generation = 0;

  /** @param database The store's database. */
  constructor(database: PgDatabase) {
    this.#database = database;
  }

  watch(organizationId: string, listener: ChangeListener): () => void {
    return this.#listeners.add(organizationId, listener);
  }

  /** Tells the listeners of a feed this process just wrote to, with what it wrote. */
  wrote(organizationId: string, written?: readonly FeedEntry[]): void {
    this.#listeners.notify(organizationId, written);
  }

  /** Whether the listener is connected (for tests and health). */
  get listening(): boolean {
    return this.#listening;
  }

  /**
   * Drops the listener connection as a network failure would; it reconnects
   * and tells every watcher (for tests).
   */
  async disconnect(): Promise<void> {
    const sql = this.#sql;
    if (sql === undefined) return;
    this.#dropped(this.#generation);
    await sql.end({ timeout: 0 }).catch(() => {});
  }

  /** Stops listening. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    clearInterval(this.#heartbeat);
    const sql = this.#sql;
    this.#sql = undefined;
    this.#listening = false;
    await sql?.end({ timeout: 1 }).catch(() => {});
  }

  #start(): void {
    if (this.#closed || this.#listeners.organizations().length === 0) return;
    if (this.#sql !== undefined || this.#connecting) return;
    void this.#connect();
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    this.#connecting = true;
    const generation = ++this.#generation;
    const sql = this.#database.connect(
      {
        max: 1,
        idle_timeout: null as unknown as number,
        max_lifetime: null as unknown as number,
        fetch_types: false,
        onnotify: (_channel: string, organizationId: string) =>
          this.#listeners.notify(organizationId),
        onclose: () => this.#dropped(generation),
      } as Parameters<PgDatabase["connect"]>[0],
    );
    this.#sql = sql;
    try {
      this.#database.counted();
      await sql.unsafe(`LISTEN ${FEED_CHANNEL}`);
      if (generation !== this.#generation || this.#closed) return;
      this.#listening = true;
      this.#failures = 0;
      this.#heartbeat ??= setInterval(() => void this.#beat(), HEARTBEAT_MS);
      Deno.unrefTimer(this.#heartbeat);
      // Notices may have been missed while not listening: everyone reads.
      this.#listeners.notifyAll();
    } catch {
      this.#dropped(generation);
      await sql.end({ timeout: 0 }).catch(() => {});
    } finally {
      this.#connecting = false;
    }
  }

  /** The listener of `generation` is gone: connect again soon. */
  #dropped(generation: number): void {
    if (generation !== this.#generation) return;
    this.#generation++;
    this.#listening = false;
    this.#sql = undefined;
    if (this.#closed) return;
    clearTimeout(this.#retry);
    const delay = Math.min(MAX_RECONNECT_MS, 100 * 2 ** this.#failures++);
    this.#retry = setTimeout(() => this.#start(), delay);
  }

  async #beat(): Promise<void> {
    const sql = this.#sql;
    if (!this.#listening || sql === undefined) return;
    const generation = this.#generation;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      this.#database.counted();
      await Promise.race([
        sql`SELECT 1`,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error("heartbeat")),
            HEARTBEAT_MS,
          );
        }),
      ]);
    } catch {
      this.#dropped(generation);
      await sql.end({ timeout: 0 }).catch(() => {});
    } finally {
      clearTimeout(timer);
    }
  }
}
