/**
 * The per-organization webhook: every visitor message is POSTed, signed, to
 * the policy's `webhook.url`, so a bot or helpdesk can answer through
 * `agent.reply`.
 *
 * Signing is Stripe-style: header `Parley-Signature: t=<unix seconds>,v1=<hex
 * HMAC-SHA256 of "<t>.<body>">`, keyed with the UTF-8 bytes of the secret.
 * A receiver recomputes the HMAC over the raw body, compares in constant time
 * and rejects timestamps outside its tolerance (replays), e.g. with
 * {@linkcode verifyWebhookSignature}. `Parley-Delivery` carries an id that is
 * the same on every retry of one message, for de-duplication.
 *
 * Retries are in memory: a failing or slow receiver is retried with jittered
 * exponential backoff and never delays the visitor, but a delivery still
 * pending when the process stops is dropped (the message itself is stored).
 *
 * @module
 */

import type { ChatMessage } from "../rpc/wire.ts";

/** Where an organization's events go (the policy's `webhook`). */
export interface WebhookTarget {
  /** The receiver's `https://` (or loopback `http://`) URL. */
  readonly url: string;
  /** HMAC key. Never sent, never logged. */
  readonly secret: string;
}

/** The event sent for every visitor message. */
export interface MessageCreatedEvent {
  /** The only event type so far. */
  readonly type: "message.created";
  /** The organization whose webhook fires. */
  readonly organizationId: string;
  /** The conversation; answer with `agent.reply` to it. */
  readonly conversationId: string;
  /** The visitor's message. */
  readonly message: ChatMessage;
}

/** What happened to one delivery attempt. */
export interface WebhookOutcome {
  /** The receiver. */
  readonly url: string;
  /** `Parley-Delivery`: the same for every attempt of one event. */
  readonly deliveryId: string;
  /** 1-based. */
  readonly attempt: number;
  /** A 2xx reply. */
  readonly ok: boolean;
  /** `true` when no further attempt will follow. */
  readonly final: boolean;
  /** The receiver's status, when it replied. */
  readonly status?: number;
  /** `timeout`, `queue-full`, or the network error's message. */
  readonly error?: string;
}

/** Settings of a {@linkcode WebhookDispatcher}. */
export interface WebhookDispatcherOptions {
  /** Attempts per event, the first included (default 5). */
  readonly maxAttempts?: number;
  /** Backoff before the second attempt, doubled after each (default 500). */
  readonly baseDelayMs?: number;
  /** Per-attempt timeout, milliseconds (default 5000). */
  readonly timeoutMs?: number;
  /** Events in flight or waiting to retry; more are dropped and reported (default 1000). */
  readonly maxPending?: number;
  /** Told about every attempt (for logs and metrics); its errors are ignored. */
  readonly onOutcome?: (outcome: WebhookOutcome) => void;
  /** Clock, epoch milliseconds, for the signature timestamp (default `Date.now`). */
  readonly now?: () => number;
}

/** The request header that carries the signature. */
export const SIGNATURE_HEADER = "Parley-Signature";
/** The request header that carries the delivery id. */
export const DELIVERY_HEADER = "Parley-Delivery";

const encoder = new TextEncoder();

async function hmacKey(secret: string): Promise<CryptoKey> {
  return await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}

/**
 * Signs a webhook body.
 *
 * @param secret The organization's webhook secret.
 * @param body The exact request body.
 * @param timestamp Unix seconds.
 * @returns The `Parley-Signature` header value, `t=<timestamp>,v1=<hex>`.
 *
 * @example Sign a body
 * ```ts ignore
 * const header = await signWebhook(secret, body, Math.floor(Date.now() / 1000));
 * ```
 */
export async function signWebhook(
  secret: string,
  body: string,
  timestamp: number,
): Promise<string> {
  const t = Math.floor(timestamp);
  const mac = await crypto.subtle.sign(
    "HMAC",
    await hmacKey(secret),
    encoder.encode(`${t}.${body}`),
  );
  return `t=${t},v1=${new Uint8Array(mac).toHex()}`;
}

/**
 * Checks a `Parley-Signature` header as a receiver should: any `v1` entry
 * matching the HMAC of `<t>.<body>` (compared in constant time by WebCrypto),
 * and `t` within the tolerance of the receiver's clock.
 *
 * @param secret The shared webhook secret.
 * @param header The `Parley-Signature` header, or `null` when absent.
 * @param body The raw request body, exactly as received.
 * @param options `toleranceSec` (default 300), `now` in epoch milliseconds (default `Date.now()`).
 * @returns `true` only for an authentic, fresh request.
 *
 * @example Verify in a receiver
 * ```ts ignore
 * const body = await request.text();
 * const ok = await verifyWebhookSignature(secret, request.headers.get("Parley-Signature"), body);
 * ```
 */
export async function verifyWebhookSignature(
  secret: string,
  header: string | null,
  body: string,
  options: { readonly toleranceSec?: number; readonly now?: number } = {},
): Promise<boolean> {
  if (header === null) return false;
  let timestamp: number | undefined;
  const signatures: Uint8Array<ArrayBuffer>[] = [];
  for (const part of header.split(",")) {
    const [name, value = ""] = part.trim().split("=", 2);
    if (name === "t" && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    if (name === "v1" && /^[0-9a-f]{64}$/.test(value)) {
      signatures.push(Uint8Array.fromHex(value) as Uint8Array<ArrayBuffer>);
    }
  }
  if (timestamp === undefined || signatures.length === 0) return false;
  const nowSec = (options.now ?? Date.now()) / 1000;
  if (Math.abs(nowSec - timestamp) > (options.toleranceSec ?? 300)) {
    return false;
  }
  const key = await hmacKey(secret);
  const data = encoder.encode(`${timestamp}.${body}`);
  for (const signature of signatures) {
    if (await crypto.subtle.verify("HMAC", key, signature, data)) return true;
  }
  return false;
}

/**
 * Delivers webhook events in the background: `deliver` returns at once, each
 * attempt has a timeout, failures (network errors, timeouts, non-2xx replies,
 * redirects) are retried with jittered exponential backoff, and `close`
 * cancels whatever is pending.
 *
 * @example Fire on every visitor message
 * ```ts ignore
 * const webhooks = new WebhookDispatcher({ onOutcome: (o) => log(o) });
 * webhooks.deliver(org.webhook, { type: "message.created", organizationId, conversationId, message });
 * await webhooks.close(); // at shutdown
 * ```
 */
export class WebhookDispatcher {
  readonly #maxAttempts: number;
  readonly #baseDelayMs: number;
  readonly #timeoutMs: number;
  readonly #maxPending: number;
  readonly #onOutcome: ((outcome: WebhookOutcome) => void) | undefined;
  readonly #now: () => number;
  readonly #pending = new Set<Promise<void>>();
  readonly #inFlight = new Set<AbortController>();
  /** Backoff timers, with the function that ends each wait early. */
  readonly #waits = new Map<ReturnType<typeof setTimeout>, () => void>();
  #closed = false;

  /**
   * Creates an idle dispatcher; it starts no timer until `deliver`.
   *
   * @param options Retry bounds, timeout and outcome listener.
   */
  constructor(options: WebhookDispatcherOptions = {}) {
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.#baseDelayMs = Math.max(0, options.baseDelayMs ?? 500);
    this.#timeoutMs = Math.max(1, options.timeoutMs ?? 5000);
    this.#maxPending = Math.max(1, options.maxPending ?? 1000);
    this.#onOutcome = options.onOutcome;
    this.#now = options.now ?? Date.now;
  }

  /** Events in flight or waiting for a retry. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Queues an event for delivery. Never blocks and never throws; what
   * happens is reported through `onOutcome`.
   *
   * @param target The organization's webhook.
   * @param event The visitor message.
   */
  deliver(target: WebhookTarget, event: MessageCreatedEvent): void {
    const deliveryId = `${event.conversationId}.${event.message.id}`;
    if (this.#closed) return;
    if (this.#pending.size >= this.#maxPending) {
      this.#report({
        url: target.url,
        deliveryId,
        attempt: 0,
        ok: false,
        final: true,
        error: "queue-full",
      });
      return;
    }
    const body = JSON.stringify({
      id: deliveryId,
      type: event.type,
      organizationId: event.organizationId,
      conversationId: event.conversationId,
      message: event.message,
    });
    const run: Promise<void> = this.#run(target, body, deliveryId)
      .catch(() => {})
      .finally(() => this.#pending.delete(run));
    this.#pending.add(run);
  }

  /**
   * Stops: cancels backoff timers and in-flight requests, and waits for every
   * delivery to wind down, so no timer or connection outlives the dispatcher.
   *
   * @returns When nothing is pending.
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (const [timer, wake] of this.#waits) {
      clearTimeout(timer);
      wake();
    }
    this.#waits.clear();
    for (const controller of this.#inFlight) controller.abort();
    await Promise.allSettled([...this.#pending]);
  }

  async #run(
    target: WebhookTarget,
    body: string,
    deliveryId: string,
  ): Promise<void> {
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      if (this.#closed) return;
      const result = await this.#attempt(target, body, deliveryId, attempt);
      const final = result.ok || attempt === this.#maxAttempts || this.#closed;
      this.#report({
        url: target.url,
        deliveryId,
        attempt,
        final,
        ...result,
      });
      if (final) return;
      const ceiling = this.#baseDelayMs * 2 ** (attempt - 1);
      await this.#wait(ceiling / 2 + Math.random() * ceiling / 2);
    }
  }

  async #attempt(
    target: WebhookTarget,
    body: string,
    deliveryId: string,
    attempt: number,
  ): Promise<{ ok: boolean; status?: number; error?: string }> {
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
          [DELIVERY_HEADER]: deliveryId,
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

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.#closed) return resolve();
      const timer = setTimeout(() => {
        this.#waits.delete(timer);
        resolve();
      }, ms);
      this.#waits.set(timer, resolve);
    });
  }

  #report(outcome: WebhookOutcome): void {
    try {
      this.#onOutcome?.(outcome);
    } catch {
      // A listener's bug must not stop deliveries.
    }
  }
}
