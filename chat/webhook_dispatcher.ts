/**
 * Makes the webhook deliveries waiting in the store's outbox, on whichever
 * host leases them first: a host claims what is due for a lease longer than
 * one attempt, POSTs it signed to the organization's current `webhook.url`,
 * and removes it once answered with a 2xx, or reschedules it with jittered
 * exponential backoff. A host that dies mid-delivery leaves its lease to
 * lapse, and another host (or the same one, restarted) makes the delivery;
 * receivers de-duplicate on `Parley-Delivery`, which every attempt repeats.
 *
 * Organizations are served apart: each has at most `perOrganization`
 * deliveries in flight on a host (the outbox's claim share), and a delivery
 * that ends makes room at once, without waiting for the others it was
 * claimed with. A receiver that hangs holds only its own organization's
 * slots, for one attempt timeout each; every other organization's deliveries
 * go on.
 *
 * Only public addresses are reached (`policy/network_address.ts`): at every
 * attempt the URL's host is resolved, every address it has is checked, and
 * the connection goes to an address that was checked (`pinned_post.ts`), so
 * a DNS answer that changes after the check cannot lead elsewhere. A URL
 * that names or resolves to a private address is refused for good
 * (`private-address`), not retried: the policy has to change. Hosts the
 * operator lists in `server.allowWebhookHosts` are exempt.
 *
 * @module
 */

import { lookup } from "node:dns/promises";
import {
  isAllowedWebhookHost,
  privateAddressKind,
  webhookUrlProblem,
} from "../policy/network_address.ts";
import type { LeasedOutboxItem, OutboxStore } from "../store/outbox_store.ts";
import { postPinned } from "./pinned_post.ts";
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
   * no longer holds, e.g. an agent answered), `private-address` (the URL
   * names or resolves to an address webhooks may not reach), `not-https`
   * (an `http:` URL whose host the operator does not allow), or the network
   * error's message.
   */
  readonly error?: string;
  /** For `private-address`: what the host or one of its addresses is (`loopback`, `metadata`, …). */
  readonly addressKind?: string;
}

/** Finds a host's addresses (A and AAAA). */
export type ResolveHost = (hostname: string) => Promise<string[]>;

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
  /** Deliveries of one organization in flight on this host at most (default 4). */
  readonly perOrganization?: number;
  /** Deliveries in flight on this host at most, all organizations (default 64). */
  readonly maxInFlight?: number;
  /**
   * `server.allowWebhookHosts` as the policy says now: hosts that may use
   * `http:` and private addresses (default none).
   */
  readonly allowHosts?: () => readonly string[];
  /**
   * Finds a host's addresses (default: the system resolver, `/etc/hosts`
   * included, as `fetch` would); tests stand in a resolver of their own.
   */
  readonly resolve?: ResolveHost;
  /** Extra root certificates (PEM) for `https:` receivers, e.g. a test CA. */
  readonly caCerts?: readonly string[];
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
  readonly #perOrganization: number;
  readonly #maxInFlight: number;
  readonly #allowHosts: () => readonly string[];
  readonly #resolve: ResolveHost;
  readonly #caCerts: readonly string[] | undefined;
  readonly #leaseMs: number;
  readonly #onOutcome: ((outcome: WebhookOutcome) => void) | undefined;
  readonly #now: () => number;
  /** Leases name their holder: this process. */
  readonly #owner = randomId(12);
  readonly #inFlight = new Set<AbortController>();
  /** Deliveries under way here, by organization (the claim share's `held`). */
  readonly #held = new Map<string, number>();
  /** Deliveries under way here, settled or not yet. */
  readonly #deliveries = new Set<Promise<void>>();
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
    this.#perOrganization = Math.max(1, options.perOrganization ?? 4);
    this.#maxInFlight = Math.max(1, options.maxInFlight ?? 64);
    this.#allowHosts = options.allowHosts ?? (() => []);
    this.#resolve = options.resolve ?? resolveWithSystem;
    this.#caCerts = options.caCerts;
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
   * Makes the deliveries due now, once, and waits for them (tests; `start`
   * does this on a timer and as deliveries end).
   *
   * @returns How many were attempted.
   */
  async runOnce(): Promise<number> {
    const started = await this.#claimAndStart();
    await Promise.all(started);
    return started.length;
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
    await Promise.all([...this.#deliveries]);
  }

  async #run(): Promise<void> {
    // As many looks as there is room and the last one was full.
    while (!this.#closed) {
      const wanted = this.#room();
      if (wanted === 0) return;
      const started = await this.#claimAndStart();
      if (started.length < wanted) return;
    }
  }

  /** How many deliveries one look may claim now. */
  #room(): number {
    return Math.max(
      0,
      Math.min(this.#batch, this.#maxInFlight - this.#deliveries.size),
    );
  }

  /** Claims what is due and has room, and starts each delivery on its own. */
  async #claimAndStart(): Promise<Promise<void>[]> {
    const wanted = this.#room();
    if (wanted === 0) return [];
    let claimed: LeasedOutboxItem[];
    try {
      claimed = await this.#outbox.claim(
        this.#owner,
        this.#now(),
        this.#leaseMs,
        wanted,
        { perOrganization: this.#perOrganization, held: this.#held },
      );
    } catch {
      return []; // The store is down: the next round tries again.
    }
    return claimed.map((item) => this.#start(item));
  }

  /** Runs one delivery, holding its organization's slot until it ends. */
  #start(item: LeasedOutboxItem): Promise<void> {
    const organizationId = item.organizationId;
    this.#held.set(organizationId, (this.#held.get(organizationId) ?? 0) + 1);
    const delivery = this.#deliver(item).catch(() => {
      // #deliver reports its failures; nothing else is left to do here.
    }).finally(() => {
      const left = (this.#held.get(organizationId) ?? 1) - 1;
      if (left > 0) this.#held.set(organizationId, left);
      else this.#held.delete(organizationId);
      this.#deliveries.delete(delivery);
      // A slot is free: the organization's next delivery need not wait for the poll.
      this.kick();
    });
    this.#deliveries.add(delivery);
    return delivery;
  }

  async #deliver(item: LeasedOutboxItem): Promise<void> {
    const attempt = item.attempts + 1;
    const report = (result: Omit<AttemptResult, "refused">, final: boolean) =>
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
    // A refused address is not retried: only a policy change can fix it.
    const final = result.ok || result.refused === true ||
      attempt >= this.#maxAttempts;
    await this.#settle(() =>
      final
        ? this.#outbox.finish(item)
        : this.#outbox.retry(item, this.#now() + this.#backoff(attempt))
    );
    const { refused: _refused, ...outcome } = result;
    report(outcome, final);
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
  ): Promise<AttemptResult | undefined> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    this.#inFlight.add(controller);
    try {
      const url = new URL(target.url);
      const destination = await this.#destination(url, controller.signal);
      if ("refused" in destination) return destination.refused;
      const signature = await signWebhook(
        target.secret,
        body,
        this.#now() / 1000,
      );
      // A redirect could point the signed body anywhere: a 3xx is a failure
      // like any other status, and its Location is never followed.
      const status = await postPinned(url, {
        addresses: destination.addresses,
        headers: {
          "Content-Type": "application/json",
          "User-Agent": "Parley-Webhook/1",
          [SIGNATURE_HEADER]: signature,
          [DELIVERY_HEADER]: item.id,
          "Parley-Attempt": String(attempt),
        },
        body,
        signal: controller.signal,
        ...(this.#caCerts === undefined ? {} : { caCerts: this.#caCerts }),
      });
      return status >= 200 && status < 300
        ? { ok: true, status }
        : { ok: false, status };
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

  /**
   * Where the delivery may connect: an address of the URL's host that was
   * checked, or the refusal. A host the operator allows is not checked.
   */
  async #destination(
    url: URL,
    signal: AbortSignal,
  ): Promise<{ addresses: string[] } | { refused: AttemptResult }> {
    const allowed = isAllowedWebhookHost(url.hostname, this.#allowHosts());
    const refused = (
      error: "private-address" | "not-https",
      addressKind?: string,
    ) => ({
      refused: {
        ok: false,
        refused: true,
        error,
        ...(addressKind === undefined ? {} : { addressKind }),
      },
    });
    if (!allowed) {
      const problem = webhookUrlProblem(url, []);
      if (problem?.code === "webhook-private-address") {
        return refused("private-address", problem.kind);
      }
      if (problem?.code === "webhook-not-https") return refused("not-https");
    }
    // The URL parser writes IPv4 as four decimals and IPv6 in brackets.
    const host = url.hostname;
    const literal = host.startsWith("[")
      ? host.slice(1, -1)
      : /^\d+\.\d+\.\d+\.\d+$/.test(host)
      ? host
      : undefined;
    const addresses = literal !== undefined
      ? [literal]
      : await abortable(this.#resolve(host), signal);
    if (addresses.length === 0) {
      throw new Error(`"${host}" has no address`);
    }
    if (!allowed) {
      // Every address, not just the one used: a name that also points
      // inside is refused, whichever answer a connection would have taken.
      for (const address of addresses) {
        const kind = privateAddressKind(address);
        if (kind !== undefined) return refused("private-address", kind);
      }
    }
    return { addresses };
  }

  #report(outcome: WebhookOutcome): void {
    try {
      this.#onOutcome?.(outcome);
    } catch {
      // A listener's bug must not stop deliveries.
    }
  }
}

/** One attempt's result; `refused` attempts are final. */
interface AttemptResult {
  readonly ok: boolean;
  readonly status?: number;
  readonly error?: string;
  readonly addressKind?: string;
  readonly refused?: boolean;
}

/** A and AAAA through the system resolver (`getaddrinfo`), as `fetch` finds hosts. */
async function resolveWithSystem(hostname: string): Promise<string[]> {
  const found = await lookup(hostname, { all: true, verbatim: true });
  return found.map((entry) => entry.address);
}

/** `promise`, or the signal's reason once it aborts (a lookup cannot be cancelled). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() =>
      signal.removeEventListener("abort", onAbort)
    );
  });
}
