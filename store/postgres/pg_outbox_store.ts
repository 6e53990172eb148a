/**
 * The webhook outbox on PostgreSQL (`parley_outbox`). An item is leased while
 * `owner` and `lease_until` are set; it is due when `coalesce(lease_until,
 * due_at)` has passed, so a lease whose holder died simply comes due again.
 * `claim` takes due rows `FOR UPDATE SKIP LOCKED`: hosts claiming at once
 * split the due items between them instead of waiting on each other, and no
 * item is leased to two of them. It walks the organizations that have items
 * (a skip scan of the primary key, one probe each) and takes each one's
 * oldest due rows through `parley_outbox_org_next_due`, as many as its
 * share leaves room for: one organization's backlog is never scanned.
 *
 * @module
 */

import type {
  ClaimShare,
  LeasedOutboxItem,
  OutboxItem,
  OutboxStore,
} from "../outbox_store.ts";
import type { PgDatabase } from "./pg_database.ts";
import { ceilMs, floorMs } from "./whole_ms.ts";

interface Row {
  readonly organization_id: string;
  readonly id: string;
  readonly kind: string;
  readonly body: string;
  readonly due_at: number;
  readonly attempts: number;
  readonly owner: string;
  readonly lease_until: number;
}

/** The outbox of one PostgreSQL database. */
export class PgOutboxStore implements OutboxStore {
  readonly #database: PgDatabase;

  /** @param database The store's database. */
  constructor(database: PgDatabase) {
    this.#database = database;
  }

  async enqueue(items: readonly OutboxItem[]): Promise<void> {
    if (items.length === 0) return;
    await this.#database.run("Webhook outbox", (sql) =>
      sql`
        INSERT INTO parley_outbox
          (organization_id, id, kind, body, due_at, attempts)
        SELECT * FROM unnest(
          ${items.map((item) => item.organizationId)}::text[],
          ${items.map((item) => item.id)}::text[],
          ${items.map((item) => item.kind)}::text[],
          ${items.map((item) => item.body)}::text[],
          ${items.map((item) => ceilMs(item.dueAt))}::bigint[],
          ${items.map((item) => item.attempts)}::integer[])
        ON CONFLICT DO NOTHING`);
  }

  async claim(
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
    share?: ClaimShare,
  ): Promise<LeasedOutboxItem[]> {
    // Columns hold whole milliseconds; a lease never ends early.
    const at = floorMs(now);
    const leaseUntil = ceilMs(now + leaseMs);
    const most = Math.max(0, Math.floor(limit));
    const perOrganization = Math.max(
      0,
      Math.floor(share?.perOrganization ?? most),
    );
    // An object, not two arrays: the client cannot type an empty array.
    const held = JSON.stringify(Object.fromEntries(share?.held ?? []));
    const rows = await this.#database.run("Webhook outbox", (sql) =>
      sql<Row[]>`
        WITH RECURSIVE organizations AS (
          (SELECT organization_id FROM parley_outbox
            ORDER BY organization_id LIMIT 1)
          UNION ALL
          SELECT (SELECT o.organization_id FROM parley_outbox o
              WHERE o.organization_id > organizations.organization_id
              ORDER BY o.organization_id LIMIT 1)
          FROM organizations WHERE organizations.organization_id IS NOT NULL
        ), due AS (
          SELECT picked.organization_id, picked.id FROM organizations
          CROSS JOIN LATERAL (
            SELECT o.organization_id, o.id,
              coalesce(o.lease_until, o.due_at) AS next_due
            FROM parley_outbox o
            WHERE o.organization_id = organizations.organization_id
              AND coalesce(o.lease_until, o.due_at) <= ${at}
            ORDER BY coalesce(o.lease_until, o.due_at)
            LIMIT greatest(0, ${perOrganization} - coalesce(
              (${held}::text::jsonb ->> organizations.organization_id)::integer,
              0))
            FOR UPDATE SKIP LOCKED
          ) picked
          ORDER BY picked.next_due
          LIMIT ${most}
        )
        UPDATE parley_outbox o
        SET owner = ${owner}, lease_until = ${leaseUntil}
        FROM due
        WHERE o.organization_id = due.organization_id AND o.id = due.id
        RETURNING o.organization_id, o.id, o.kind, o.body, o.due_at,
          o.attempts, o.owner, o.lease_until`);
    return rows
      .map((row) => ({
        organizationId: row.organization_id,
        id: row.id,
        kind: row.kind,
        body: row.body,
        dueAt: row.due_at,
        attempts: row.attempts,
        owner: row.owner,
        leaseUntil: row.lease_until,
      }))
      .sort((a, b) => a.dueAt - b.dueAt);
  }

  async finish(item: LeasedOutboxItem): Promise<boolean> {
    const rows = await this.#database.run("Webhook outbox", (sql) =>
      sql`
        DELETE FROM parley_outbox
        WHERE organization_id = ${item.organizationId} AND id = ${item.id}
          AND owner = ${item.owner} AND lease_until = ${item.leaseUntil}`);
    return rows.count === 1;
  }

  async retry(item: LeasedOutboxItem, dueAt: number): Promise<boolean> {
    const rows = await this.#database.run("Webhook outbox", (sql) =>
      sql`
        UPDATE parley_outbox
        SET due_at = ${ceilMs(dueAt)}, attempts = ${item.attempts + 1},
          owner = NULL, lease_until = NULL
        WHERE organization_id = ${item.organizationId} AND id = ${item.id}
          AND owner = ${item.owner} AND lease_until = ${item.leaseUntil}`);
    return rows.count === 1;
  }

  async size(): Promise<number> {
    const rows = await this.#database.run(
      "Webhook outbox",
      (sql) =>
        sql<{ size: number }[]>`
        SELECT count(*)::integer AS size FROM parley_outbox`,
    );
    return rows[0]?.size ?? 0;
  }
}
