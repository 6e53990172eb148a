/**
 * The outbox port: webhook deliveries waiting to be made, durable across
 * restarts and shared by every host. A host leases what is due, so a delivery
 * is attempted by one host at a time; a lease that ends without an answer
 * (its host died) makes the delivery due again for any host.
 *
 * Items hold the event body only: the receiver's URL and secret are read
 * from the policy when the delivery is made, so no secret is ever stored.
 *
 * @module
 */

/** A delivery to make. */
export interface OutboxItem {
  /** The organization whose webhook it goes to. */
  readonly organizationId: string;
  /**
   * Unique within the organization and stable across retries (sent as
   * `Parley-Delivery`); enqueuing an id that is already there does nothing.
   */
  readonly id: string;
  /** The event type, e.g. `message.created`. */
  readonly kind: string;
  /** The JSON body to send. */
  readonly body: string;
  /** Epoch milliseconds before which it is not attempted. */
  readonly dueAt: number;
  /** Attempts made so far. */
  readonly attempts: number;
}

/** An item leased to one owner until `leaseUntil`. */
export interface LeasedOutboxItem extends OutboxItem {
  /** Who holds the lease (one process). */
  readonly owner: string;
  /** Epoch milliseconds. */
  readonly leaseUntil: number;
}

/**
 * How `claim` shares its leases between organizations, so one organization's
 * backlog (a receiver that hangs, a flood of messages) cannot take every
 * delivery slot of a host.
 */
export interface ClaimShare {
  /** Most items of one organization the owner holds at a time, `held` included. */
  readonly perOrganization: number;
  /** Items the owner holds now, by organization. */
  readonly held?: ReadonlyMap<string, number>;
}

/** Deliveries of every organization. */
export interface OutboxStore {
  /**
   * Adds items whose (organization, id) is not there yet.
   *
   * @throws {StoreUnavailableError}
   */
  enqueue(items: readonly OutboxItem[]): Promise<void>;
  /**
   * Leases up to `limit` items that are due at `now` and not leased to
   * anyone else, to `owner` for `leaseMs`: each organization's oldest due
   * first, and with `share`, no more of one organization than it leaves
   * room for. The cost grows with the organizations that have items and
   * the items leased, not with one organization's backlog.
   */
  claim(
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
    share?: ClaimShare,
  ): Promise<LeasedOutboxItem[]>;
  /**
   * Removes a leased item (delivered, or given up), if the lease is still
   * `item`'s.
   *
   * @returns Whether it was removed.
   */
  finish(item: LeasedOutboxItem): Promise<boolean>;
  /**
   * Releases a leased item to be attempted again at `dueAt`, counting the
   * attempt, if the lease is still `item`'s.
   *
   * @returns Whether it was rescheduled.
   */
  retry(item: LeasedOutboxItem, dueAt: number): Promise<boolean>;
  /** Items waiting, leased or not (for metrics and tests). */
  size(): Promise<number>;
}
