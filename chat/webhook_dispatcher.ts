/**
 * Makes the webhook deliveries waiting in the store's outbox, on whichever
 * host leases them first: a host claims what is due for a lease longer than
 * one attempt, POSTs it signed to the organization's current `webhook.url`,
 * and removes it once answered with a 2xx, or reschedules it with jittered
 * exponential backoff. A host that dies mid-delivery leaves its lease to
 * lapse, and another host (or the same one, restarted) makes the delivery;
 * receivers de-duplicate on `Parley-Delivery`, which every attempt repeats.
 *
 * @module
 */

import type { LeasedOutboxItem, OutboxStore } from "../store/outbox_store.ts";
import { randomId } from "./random_id.ts";
import {
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  signWebhook,
  type WebhookTarget,
} from "./webhook.ts";

/** What happened to one delivery attempt. */
export interface WebhookOutcome {
  readonly organizationId: string;
  /** `Parley-Delivery`: the same for every attempt of one event. */
  readonly deliveryId: string;
  /** The event type. */
  readonly kind: string;
  /** 1-based. */
  readonly attempt: number;
  /** A 2xx reply. */
  readonly ok: boolean;
  /** `true` when no further attempt will follow. */
  readonly final: boolean;
  /** The receiver's status, when it replied. */
  readonly status?: number;
  /**
   * `timeout`, `no-webhook` (the policy has none now), `not-due` (the event
   * no longer holds, e.g. an agent answered), or the network error's message.
   */
  readonly error?: string;
}

/** Settings of a {@linkcode WebhookDispatcher}. */
export interface WebhookDispatcherOptions {
  /** The organization's webhook as the policy says now; `undefined` drops the delivery. */
  readonly target: (organizationId: string) => WebhookTarget | undefined;
  /**
   * The body to send, made when the delivery is due (default: the stored
   * body); `undefined` drops it because the event no longer holds.
   */
  readonly body?: (item: LeasedOutboxItem) => Promise<string | undefined>;
  /** Attempts per event, the first included (default 5). */
  readonly maxAttempts?: number;
  /** Backoff before the second attempt, doubled after each (default 500). */
  readonly baseDelayMs?: number;
  /** Per-attempt timeout, milliseconds (default 5000). */
  readonly timeoutMs?: number;
  /** How often the outbox is looked at, milliseconds (default 1000). */
  readonly pollMs?: number;
  /** Deliveries leased per look (default 20). */
  readonly batch?: number;
  /**
   * How long a lease lasts, milliseconds (default twice the timeout plus
   * 10 s: longer than any attempt, so a live holder never loses it).
   */
  readonly leaseMs?: number;
  /** Told about every attempt (for logs and metrics); its errors are ignored. */
  readonly onOutcome?: (outcome: WebhookOutcome) => void;
  /** Clock, epoch milliseconds (default `Date.now`). */
  readonly now?: () => number;
}

/**
 * The outbox worker of one process.
 *
 * @example Start with the server, stop with it
 * ```ts ignore
 * const webhooks = new WebhookDispatcher(store.outbox, {
 *   target: (id) => evaluator.organization(id)?.spec.webhook,
 * });
 * webhooks.start();
 * await webhooks.close(); // at shutdown
 * ```
 */
export class WebhookDispatcher {
  readonly #outbox: OutboxStore;
  readonly #target: WebhookDispatcherOptions["target"];
  readonly #body: NonNullable<WebhookDispatcherOptions["body"]>;
  readonly #maxAttempts: number;
  readonly #baseDelayMs: number;
  readonly #timeoutMs: number;
  readonly #pollMs: number;
  readonly #batch: number;
  readonly #leaseMs: number;
  readonly #onOutcome: ((outcome: WebhookOutcome) => void) | undefined;
  readonly #now: () => number;
  /** Leases name their holder: this process. */
  readonly #owner = randomId(12);
  readonly #inFlight = new Set<AbortController>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #round: Promise<void> | undefined;
  #again = false;
  #closed = false;

  /**
   * Creates an idle dispatcher; it looks at the outbox once `start`ed.
   *
   * @param outbox The store's outbox.
   * @param options Targets, retry bounds and outcome listener.
   */
  constructor(outbox: OutboxStore, options: WebhookDispatcherOptions) {
    this.#outbox = outbox;
    this.#target = options.target;
    this.#body = options.body ?? ((item) => Promise.resolve(item.body));
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.#baseDelayMs = Math.max(0, options.baseDelayMs ?? 500);
    this.#timeoutMs = Math.max(1, options.timeoutMs ?? 5000);
    this.#pollMs = Math.max(10, options.pollMs ?? 1000);
    this.#batch = Math.max(1, options.batch ?? 20);
    this.#leaseMs = Math.max(
      this.#timeoutMs + 1,
      options.leaseMs ?? this.#timeoutMs * 2 + 10_000,
    );
    this.#onOutcome = options.onOutcome;
    this.#now = options.now ?? Date.now;
  }

  /** Looks at the outbox now and then every `pollMs`. */
  start(): void {
    if (this.#closed || this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.kick(), this.#pollMs);
    this.kick();
  }

  /** Looks at the outbox soon (something was just enqueued here). */
  kick(): void {
    if (this.#closed) return;
    if (this.#round !== undefined) {
      this.#again = true;
      return;
    }
    this.#round = this.#run().finally(() => {
      this.#round = undefined;
      if (this.#again) {
        this.#again = false;
        this.kick();
      }
    });
  }

  /**
   * Makes the deliveries due now, once (tests; `start` does this on a timer).
   *
   * @returns How many were attempted.
   */
  async runOnce(): Promise<number> {
    let claimed: LeasedOutboxItem[];
    try {
      claimed = await this.#outbox.claim(
        this.#owner,
        this.#now(),
        this.#leaseMs,
        this.#batch,
      );
    } catch {
      return 0; // The store is down: the next round tries again.
    }
    await Promise.all(claimed.map((item) => this.#deliver(item)));
    return claimed.length;
  }

  /**
   * Stops: no new round, in-flight attempts aborted. Their leases lapse, so
   * another host, or this one restarted, makes them; nothing is lost.
   *
   * @returns When nothing is in flight.
   */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    for (const controller of this.#inFlight) controller.abort();
    await this.#round;
  }

  async #run(): Promise<void> {
    // A full batch may mean more is due.
    while (!this.#closed && await this.runOnce() >= this.#batch);
  }

  async #deliver(item: LeasedOutboxItem): Promise<void> {
    const attempt = item.attempts + 1;
    const report = (
      result: { ok: boolean; status?: number; error?: string },
      final: boolean,
    ) =>
      this.#report({
        organizationId: item.organizationId,
        deliveryId: item.id,
        kind: item.kind,
        attempt,
        final,
        ...result,
      });
    const target = this.#target(item.organizationId);
    if (target === undefined) {
      await this.#settle(() => this.#outbox.finish(item));
      report({ ok: false, error: "no-webhook" }, true);
      return;
    }
    let body: string | undefined;
    try {
      body = await this.#body(item);
    } catch {
      return; // The store is down: the lease lapses and it is tried again.
    }
    if (body === undefined) {
      await this.#settle(() => this.#outbox.finish(item));
      report({ ok: false, error: "not-due" }, true);
      return;
    }
    const result = await this.#attempt(target, item, body, attempt);
    // Cut short by close(): neither delivered nor failed; the lease lapses.
    if (result === undefined) return;
    const final = result.ok || attempt >= this.#maxAttempts;
    await this.#settle(() =>
      final
        ? this.#outbox.finish(item)
        : this.#outbox.retry(item, this.#now() + this.#backoff(attempt))
    );
    report(result, final);
  }

  #backoff(attempt: number): number {
    const ceiling = this.#baseDelayMs * 2 ** (attempt - 1);
    return ceiling / 2 + Math.random() * ceiling / 2;
  }

  /** Records the outcome; a store failure leaves the lease to lapse. */
  async #settle(write: () => Promise<boolean>): Promise<void> {
    try {
      await write();
    } catch {
      // The delivery comes due again when its lease ends.
    }
  }

  async #attempt(
    target: WebhookTarget,
    item: LeasedOutboxItem,
    body: string,
    attempt: number,
  ): Promise<{ ok: boolean; status?: number; error?: string } | undefined> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    this.#inFlight.add(controller);
    try {
      const signature = await signWebhook(
        target.secret,
        body,
        this.#now() / 1000,
      );
      const response = await fetch(target.url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "User-Agent": "Parley-Webhook/1",
          [SIGNATURE_HEADER]: signature,
          [DELIVERY_HEADER]: item.id,
          "Parley-Attempt": String(attempt),
        },
        body,
        signal: controller.signal,
        // A redirect could point the signed body anywhere; it counts as a failure.
        redirect: "manual",
      });
      await response.body?.cancel();
      return response.status >= 200 && response.status < 300
        ? { ok: true, status: response.status }
        : { ok: false, status: response.status };
    } catch (error) {
      if (this.#closed && !timedOut) return undefined;
      return {
        ok: false,
        error: timedOut
          ? "timeout"
          : error instanceof Error
          ? error.message
          : String(error),
      };
    } finally {
      clearTimeout(timer);
      this.#inFlight.delete(controller);
    }
  }

  #report(outcome: WebhookOutcome): void {
    try {
      this.#onOutcome?.(outcome);
    } catch {
      // A listener's bug must not stop deliveries.
    }
  }
}
