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
 * Deliveries wait in the store's outbox and are made by
 * `webhook_dispatcher.ts`, on whichever host leases them first.
 *
 * @module
 */

import type { ChatMessage } from "../wire/records.ts";

/** Where an organization's events go (the policy's `webhook`). */
export interface WebhookTarget {
  /**
   * The receiver's `https://` URL on a public host; `http://` or a private
   * address only for a host the operator lists in `server.allowWebhookHosts`.
   */
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
