/**
 * The webhook outbox on Deno KV.
 *
 * | key | value |
 * | --- | --- |
 * | `outbox, "item", organizationId, id` | the item, with its lease |
 * | `outbox, "queue", organizationId, dueMs, id` | `null`: when the item is next due |
 *
 * An item's `queue` entry is at its `dueAt`, or, while leased, at the
 * lease's end: a lease whose holder died simply comes due again. `claim`
 * steps from one organization with entries to the next (one read each) and
 * reads only the part of each queue that is due now and that its share
 * leaves room for, so one organization's backlog is never scanned.
 *
 * Stores written before the queues were per organization kept one global
 * `outbox, "due", dueMs, organizationId, id` index; the first `claim` of a
 * process moves what is left of it over.
 *
 * @module
 */

import type {
  ClaimShare,
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
      .set(queueKey(item.dueAt, item), null, { expireIn: ITEM_EXPIRE_MS });
  }
}

/** The outbox of one Deno KV. */
export class KvOutboxStore implements OutboxStore {
  readonly #kv: Deno.Kv;
  #legacyMoved: Promise<void> | undefined;

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
    share?: ClaimShare,
  ): Promise<LeasedOutboxItem[]> {
    this.#legacyMoved ??= this.#moveLegacyDue().catch((error) => {
      this.#legacyMoved = undefined; // Tried again by the next claim.
      throw error;
    });
    await this.#legacyMoved;
    const most = Math.max(0, Math.floor(limit));
    if (most === 0) return [];
    const perOrganization = Math.max(
      0,
      Math.floor(share?.perOrganization ?? most),
    );
    const due = await this.#read(async () => {
      const found: { key: Deno.KvKey; dueMs: number }[] = [];
      let after: string | undefined;
      for (;;) {
        const organizationId = await this.#nextQueue(after);
        if (organizationId === undefined) break;
        after = organizationId;
        const room = perOrganization -
          (share?.held?.get(organizationId) ?? 0);
        if (room <= 0) continue;
        const queue = ["outbox", "queue", organizationId];
        // Twice the room: some entries may be leftovers of finished items.
        const entries = this.#kv.list({
          prefix: queue,
          end: [...queue, now + 1],
        }, {
          limit: Math.min(room, most) * 2,
        });
        for await (const entry of entries) {
          found.push({ key: entry.key, dueMs: Number(entry.key[3]) });
        }
      }
      return found.sort((a, b) => a.dueMs - b.dueMs).map(({ key }) => key);
    });
    const claimed: LeasedOutboxItem[] = [];
    const taken = new Map<string, number>();
    for (const key of due) {
      if (claimed.length >= most) break;
      const organizationId = String(key[2]);
      const id = String(key[4]);
      const room = perOrganization - (share?.held?.get(organizationId) ?? 0);
      if ((taken.get(organizationId) ?? 0) >= room) continue;
      const entry = await this.#read(() =>
        this.#kv.get<StoredItem>(["outbox", "item", organizationId, id])
      );
      const stored = entry.value;
      if (stored === null) {
        // Finished since: the due entry is a leftover.
        await this.#commit(() => this.#kv.atomic().delete(key));
        continue;
      }
      if (Number(key[3]) !== nextDue(stored)) {
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
          .set(queueKey(leased.leaseUntil, leased), null, {
            expireIn: ITEM_EXPIRE_MS,
          })
      );
      // Another host claimed it first.
      if (!result.ok) continue;
      claimed.push(leased);
      taken.set(organizationId, (taken.get(organizationId) ?? 0) + 1);
    }
    return claimed;
  }

  /** The first organization after `after` whose queue has entries. */
  async #nextQueue(after: string | undefined): Promise<string | undefined> {
    // A key ["outbox", "queue", id + "\0"] sorts after every key of `id`'s
    // queue and before the next organization's.
    const entries = this.#kv.list(
      after === undefined ? { prefix: ["outbox", "queue"] } : {
        prefix: ["outbox", "queue"],
        start: ["outbox", "queue", `${after}\0`],
      },
      { limit: 1 },
    );
    for await (const entry of entries) return String(entry.key[2]);
    return undefined;
  }

  /** Moves the entries of the global due index of older stores to the queues. */
  async #moveLegacyDue(): Promise<void> {
    const legacy = await this.#read(async () => {
      const keys: Deno.KvKey[] = [];
      for await (const entry of this.#kv.list({ prefix: ["outbox", "due"] })) {
        keys.push(entry.key);
      }
      return keys;
    });
    for (const key of legacy) {
      const [, , dueMs, organizationId, id] = key;
      await this.#commit(() =>
        this.#kv.atomic().delete(key).set(
          queueKey(Number(dueMs), {
            organizationId: String(organizationId),
            id: String(id),
          }),
          null,
          { expireIn: ITEM_EXPIRE_MS },
        )
      );
    }
  }

  async finish(item: LeasedOutboxItem): Promise<boolean> {
    return await this.#ifLeased(
      item,
      (op, key) => op.delete(key).delete(queueKey(item.leaseUntil, item)),
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
          .delete(queueKey(item.leaseUntil, item))
          .set(queueKey(dueAt, item), null, { expireIn: ITEM_EXPIRE_MS }),
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

function queueKey(
  dueMs: number,
  item: Pick<OutboxItem, "organizationId" | "id">,
): Deno.KvKey {
  return ["outbox", "queue", item.organizationId, dueMs, item.id];
}
