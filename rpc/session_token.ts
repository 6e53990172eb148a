/**
 * Session tokens: what `chat.boot` hands the widget so later calls need no
 * user JWT. A token is `v1.<payload>.<HMAC-SHA256>` (base64url), signed with the
 * server's session secret and bound to organization, origin, identity and the
 * organization's security revision — a policy change that touches domains,
 * app ids or JWT settings revokes every session of that organization.
 *
 * A token names the participant, not a conversation: every session call acts
 * on the participant's open conversation, which the first message creates.
 * Tokens of servers before that named the boot's conversation; the field is
 * ignored.
 *
 * @module
 */

import { timingSafeEqual } from "node:crypto";
import { decodeBase64url, encodeBase64url } from "../policy/base64url.ts";
import { type HmacSha256, hmacSha256 } from "../policy/hmac_sha256.ts";
import { parseRequestOrigin } from "../policy/domain_matcher.ts";
import type { ConversationAttributes } from "../store/conversation_store.ts";
import type { SettingStore } from "../store/store.ts";
import { RpcError } from "./rpc_error.ts";

/** Who a session speaks for. */
export type SessionParticipant =
  | { readonly kind: "user"; readonly subject: string }
  | { readonly kind: "visitor"; readonly visitorId: string };

/** What a session token asserts. */
export interface SessionClaims {
  /**
   * Random, one per boot: what per-session budgets and stream caps count.
   * Tokens issued before it existed read their signature's first characters.
   */
  readonly sessionId: string;
  readonly organizationId: string;
  /** The normalised origin of the page that booted, or `null`. */
  readonly origin: string | null;
  readonly participant: SessionParticipant;
  readonly verified: boolean;
  /**
   * What the page said at boot (`user_id`, `email`, `name`, the verified
   * token's `user_data`), kept for the conversation the visitor's first
   * message creates: a boot itself stores nothing.
   */
  readonly attributes?: ConversationAttributes;
  readonly securityRevision: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

/**
 * The origin a session is bound to: the page's `Origin` as the evaluator
 * normalises it (or as sent, when it is not a web origin), `null` without one.
 * Issuing and checking both use this, so they cannot disagree.
 *
 * @param origin The request's `Origin` header.
 * @returns The binding.
 */
export function sessionOrigin(origin: string | null): string | null {
  return origin === null ? null : parseRequestOrigin(origin)?.origin ?? origin;
}

/**
 * Whether a request's `Origin` is the one a session is bound to. A header that
 * already equals the binding needs no parsing: the binding is normalised, and
 * normalising is idempotent.
 *
 * @param origin The request's `Origin` header.
 * @param bound The session's `origin` (from {@linkcode sessionOrigin}).
 * @returns `true` when they name the same origin.
 */
export function matchesSessionOrigin(
  origin: string | null,
  bound: string | null,
): boolean {
  return origin === bound || sessionOrigin(origin) === bound;
}

/** How long a session lives; the widget boots again before it ends. */
export const SESSION_TTL_MS = 30 * 60 * 1000;

const PREFIX = "v1";
/**
 * Longest token accepted, characters: a token carries the boot's
 * attributes, `user_data` (≤ 4 KiB of JSON) included, about 9 KB encoded.
 */
export const MAX_SESSION_TOKEN_LENGTH = 12_288;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Signs and checks session tokens with one HMAC key. Every session call
 * verifies one and every boot signs one, so this uses the synchronous HMAC
 * of `hmac_sha256.ts` (the key's state hashed once) rather than WebCrypto
 * (about 60 µs a call in Deno, and a thread hop), as the policy core does
 * for user tokens.
 */
export class SessionSigner {
  readonly #mac: HmacSha256;

  /**
   * @param secret At least 32 bytes.
   * @throws {RangeError} When the secret is shorter.
   */
  constructor(secret: Uint8Array) {
    if (secret.byteLength < 32) {
      throw new RangeError("Session secret must be at least 32 bytes");
    }
    this.#mac = hmacSha256(secret);
  }

  /**
   * @param claims What the token asserts.
   * @returns The compact token.
   */
  issue(claims: SessionClaims): string {
    const signed = `${PREFIX}.${
      encodeBase64url(encoder.encode(JSON.stringify(claims)))
    }`;
    return `${signed}.${encodeBase64url(this.#mac(signed))}`;
  }

  /**
   * @param token A compact session token.
   * @param now Epoch milliseconds.
   * @returns The verified claims.
   * @throws {RpcError} `SESSION_INVALID` with reason `session.malformed`,
   *   `session.signature` or `session.expired`.
   */
  verify(token: string, now: number): SessionClaims {
    const parts = token.split(".");
    if (
      parts.length !== 3 || parts[0] !== PREFIX ||
      token.length > MAX_SESSION_TOKEN_LENGTH
    ) {
      throw invalid("session.malformed");
    }
    const signature = decodeBase64url(parts[2]!);
    if (signature === undefined) throw invalid("session.malformed");
    const expected = this.#mac(`${parts[0]}.${parts[1]}`);
    if (
      signature.byteLength !== expected.byteLength ||
      !timingSafeEqual(signature, expected)
    ) {
      throw invalid("session.signature");
    }
    const payload = decodeBase64url(parts[1]!);
    if (payload === undefined) throw invalid("session.malformed");
    const claims = JSON.parse(decoder.decode(payload)) as SessionClaims;
    if (!(claims.expiresAt > now)) throw invalid("session.expired");
    return typeof claims.sessionId === "string"
      ? claims
      : { ...claims, sessionId: parts[2]!.slice(0, 22) };
  }
}

/**
 * The session secret: `PARLEY_SESSION_SECRET` when set, else one generated
 * once and kept in the store, so every worker, host and restart signs alike.
 *
 * @param settings The store's settings.
 * @param configured The configured secret, if any.
 * @returns The secret bytes.
 * @throws {RangeError} When the configured secret is under 32 bytes.
 * @throws {StoreUnavailableError} When the store cannot give it.
 */
export async function loadSessionSecret(
  settings: SettingStore,
  configured: string | undefined,
): Promise<Uint8Array> {
  if (configured !== undefined && configured !== "") {
    const bytes = encoder.encode(configured);
    if (bytes.byteLength < 32) {
      throw new RangeError("PARLEY_SESSION_SECRET must be at least 32 bytes");
    }
    return bytes;
  }
  return await settings.getOrCreate(
    "session-secret",
    () => crypto.getRandomValues(new Uint8Array(32)),
  );
}

function invalid(reason: string): RpcError {
  return new RpcError(
    "SESSION_INVALID",
    "Session is missing, expired or invalid",
    {
      reason,
    },
  );
}
