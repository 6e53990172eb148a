/**
 * The webhook outbox on Deno KV.
 *
 * | key | value |
 * | --- | --- |
 * | `outbox, "item", organizationId, id` | the item, with its lease |
 * | `outbox, "due", dueMs, organizationId, id` | `null`: when the item is next due |
 *
 * An item's `due` entry is at its `dueAt`, or, while leased, at the lease's
 * end: a lease whose holder died simply comes due again, and `claim` only
 * ever scans the range that is due now.
 *
 * @module
 */

import type {
  LeasedOutboxItem,
  OutboxItem,
  OutboxStore,
} from "../outbox_store.ts";
import { kvCall } from "./locked_retry.ts";

/** An item as stored: leased when `owner` is set. */
interface StoredItem extends OutboxItem {
  readonly owner?: string;
  readonly leaseUntil?: number;
}

/** A cleanup hint: no item waits this long (deliveries give up within hours). */
const ITEM_EXPIRE_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Adds items to an atomic operation (the chat store's transactional outbox).
 * Their ids are new (a message id, a stretch's first message id), so they
 * need no check.
 *
 * @param op The commit to add them to.
 * @param items The deliveries.
 */
export function outboxMutations(
  op: Deno.AtomicOperation,
  items: readonly OutboxItem[],
): void {
  for (const item of items) {
    op.set(itemKey(item), item satisfies StoredItem, {
      expireIn: ITEM_EXPIRE_MS,
    })
      .set(dueKey(item.dueAt, item), null, { expireIn: ITEM_EXPIRE_MS });
  }
}

/** The outbox of one Deno KV. */
export class KvOutboxStore implements OutboxStore {
  readonly #kv: Deno.Kv;

  /** @param kv The store; the caller closes it. */
  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  async enqueue(items: readonly OutboxItem[]): Promise<void> {
    for (const item of items) {
      await this.#commit(() => {
        const op = this.#kv.atomic().check({
          key: itemKey(item),
          versionstamp: null,
        });
        outboxMutations(op, [item]);
        return op;
      });
    }
  }

  async claim(
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
  ): Promise<LeasedOutboxItem[]> {
    const due = await this.#read(async () => {
      const keys: Deno.KvKey[] = [];
      const range = this.#kv.list({
        start: ["outbox", "due"],
        end: ["outbox", "due", now + 1],
      }, { limit: limit * 2 });
      for await (const entry of range) keys.push(entry.key);
      return keys;
    });
    const claimed: LeasedOutboxItem[] = [];
    for (const key of due) {
      if (claimed.length >= limit) break;
      const organizationId = String(key[3]);
      const id = String(key[4]);
      const entry = await this.#read(() =>
        this.#kv.get<StoredItem>(["outbox", "item", organizationId, id])
      );
      const stored = entry.value;
      if (stored === null) {
        // Finished since: the due entry is a leftover.
        await this.#commit(() => this.#kv.atomic().delete(key));
        continue;
      }
      if (Number(key[2]) !== nextDue(stored)) {
        await this.#commit(() => this.#kv.atomic().delete(key));
        continue;
      }
      if (stored.leaseUntil !== undefined && stored.leaseUntil > now) continue;
      const leased: LeasedOutboxItem = {
        ...itemOf(stored),
        owner,
        leaseUntil: now + leaseMs,
      };
      const result = await this.#commit(() =>
        this.#kv.atomic()
          .check(entry)
          .set(entry.key, leased satisfies StoredItem, {
            expireIn: ITEM_EXPIRE_MS,
          })
          .delete(key)
          .set(dueKey(leased.leaseUntil, leased), null, {
            expireIn: ITEM_EXPIRE_MS,
          })
      );
      // Another host claimed it first.
      if (result.ok) claimed.push(leased);
    }
    return claimed;
  }

  async finish(item: LeasedOutboxItem): Promise<boolean> {
    return await this.#ifLeased(
      item,
      (op, key) => op.delete(key).delete(dueKey(item.leaseUntil, item)),
    );
  }

  async retry(item: LeasedOutboxItem, dueAt: number): Promise<boolean> {
    const next: OutboxItem = {
      ...itemOf(item),
      dueAt,
      attempts: item.attempts + 1,
    };
    return await this.#ifLeased(
      item,
      (op, key) =>
        op.set(key, next satisfies StoredItem, { expireIn: ITEM_EXPIRE_MS })
          .delete(dueKey(item.leaseUntil, item))
          .set(dueKey(dueAt, item), null, { expireIn: ITEM_EXPIRE_MS }),
    );
  }

  async size(): Promise<number> {
    return await this.#read(async () => {
      let count = 0;
      for await (const _ of this.#kv.list({ prefix: ["outbox", "item"] })) {
        count++;
      }
      return count;
    });
  }

  /** Commits `mutate` when `item`'s lease is still the stored one. */
  async #ifLeased(
    item: LeasedOutboxItem,
    mutate: (op: Deno.AtomicOperation, key: Deno.KvKey) => void,
  ): Promise<boolean> {
    const key = itemKey(item);
    const entry = await this.#read(() => this.#kv.get<StoredItem>(key));
    const stored = entry.value;
    if (
      stored === null || stored.owner !== item.owner ||
      stored.leaseUntil !== item.leaseUntil
    ) {
      return false;
    }
    const result = await this.#commit(() => {
      const op = this.#kv.atomic().check(entry);
      mutate(op, key);
      return op;
    });
    return result.ok;
  }

  async #read<T>(operation: () => Promise<T>): Promise<T> {
    return await kvCall("Webhook outbox", operation);
  }

  async #commit(
    build: () => Deno.AtomicOperation,
  ): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
    return await kvCall("Webhook outbox", () => build().commit());
  }
}

/** The item without its lease fields. */
function itemOf(stored: StoredItem): OutboxItem {
  return {
    organizationId: stored.organizationId,
    id: stored.id,
    kind: stored.kind,
    body: stored.body,
    dueAt: stored.dueAt,
    attempts: stored.attempts,
  };
}

function nextDue(stored: StoredItem): number {
  return stored.leaseUntil ?? stored.dueAt;
}

function itemKey(item: Pick<OutboxItem, "organizationId" | "id">): Deno.KvKey {
  return ["outbox", "item", item.organizationId, item.id];
}

function dueKey(
  dueMs: number,
  item: Pick<OutboxItem, "organizationId" | "id">,
): Deno.KvKey {
  return ["outbox", "due", dueMs, item.organizationId, item.id];
}
