/**
 * The widget's session across page loads: kept in `localStorage` per
 * (apiBaseUrl, organizationId, app_id) with the identity it was issued for,
 * its expiry, the widget settings and whether the visitor has an open
 * conversation, so a returning visitor's page view asks the server nothing.
 *
 * A stored session is reused while it has at least a minute left (a third
 * of its lifetime, when that is shorter) and the page's identity inputs are
 * the ones it was booted with: the token's `sub` (read, not verified — it
 * is only compared; the server verified it at boot), or no token and the
 * same anonymous visitor id, and the same `user_id`, `email` and `name`.
 * Anything else boots again. Storage that is missing or throws (Safari
 * private mode, blocked cookies) reads as nothing stored, so the widget
 * then boots on every page, as it did before sessions were kept.
 *
 * Keeping the token here adds nothing a script on the page could not do
 * already: it could boot the widget itself. The server checks every call
 * against the policy in force, so a revoked session is refused at its next
 * call, and the widget then removes it.
 *
 * @module
 */

import type { WidgetConfig } from "../wire/mod.ts";

/** What is kept of a session. */
export interface StoredSession {
  /** The session token. */
  readonly token: string;
  /** Expiry, epoch milliseconds. */
  readonly expiresAt: number;
  /** How long it had to live when issued, milliseconds. */
  readonly lifetime: number;
  /** Who it was booted for: `user:<sub>` or `visitor:<visitorId>`. */
  readonly identity: string;
  /** The unverified attributes it was booted with (`user_id`, `email`, `name`). */
  readonly inputs: string;
  /** The widget settings of its boot, or of the latest stream. */
  readonly config: WidgetConfig;
  /** Whether the visitor has an open conversation (a message written, not closed). */
  readonly conversation: boolean;
}

/** The part of `Storage` the widget uses. */
export type SessionStorage = Pick<
  Storage,
  "getItem" | "setItem" | "removeItem"
>;

/** The longest a stored session must still have to be reused, milliseconds. */
export const REUSE_MARGIN_MS = 60_000;

/**
 * @returns The storage key of one widget installation's session.
 */
export function sessionKey(
  apiBaseUrl: string,
  organizationId: string,
  appId: string | undefined,
): string {
  return `parley:session:${
    JSON.stringify([apiBaseUrl.replace(/\/+$/, ""), organizationId, appId])
  }`;
}

/**
 * Who a page says the visitor is: the `sub` of its user token, else the
 * anonymous visitor id it has kept.
 *
 * @param userToken The page's JWT, if any.
 * @param visitorId The stored anonymous visitor id, if any.
 * @returns `user:<sub>` or `visitor:<id>`.
 */
export function identityOf(
  userToken: string | undefined,
  visitorId: string | undefined,
): string {
  if (!userToken) return `visitor:${visitorId ?? ""}`;
  // A token without a readable sub matches only itself.
  return `user:${tokenSubject(userToken) ?? `\0${userToken}`}`;
}

/**
 * The `sub` claim of a JWT, read without verifying it: the widget only
 * compares it with the one its stored session was issued for.
 *
 * @returns The subject, or `undefined` when the token is not readable.
 */
export function tokenSubject(jwt: string): string | undefined {
  try {
    // atob is forgiving about the padding base64url leaves out.
    const binary = atob(
      (jwt.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/"),
    );
    const payload = JSON.parse(
      new TextDecoder().decode(
        Uint8Array.from(binary, (char) => char.charCodeAt(0)),
      ),
    ) as { sub?: unknown } | null;
    return typeof payload?.sub === "string" ? payload.sub : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How long before its expiry a stored session stops being reused: a
 * minute, or a third of its lifetime when that is shorter.
 */
export function reuseMargin(lifetime: number): number {
  return Math.min(REUSE_MARGIN_MS, Math.max(0, lifetime) / 3);
}

/**
 * Whether a stored session may serve this page load.
 *
 * @param stored What storage holds.
 * @param identity The page's identity ({@linkcode identityOf}).
 * @param inputs The page's unverified attributes.
 * @param now Epoch milliseconds.
 */
export function isReusable(
  stored: StoredSession | undefined,
  identity: string,
  inputs: string,
  now: number,
): stored is StoredSession {
  return stored !== undefined && stored.identity === identity &&
    stored.inputs === inputs &&
    stored.expiresAt - now >= reuseMargin(stored.lifetime);
}

/**
 * @returns The stored session, or `undefined` when none, unreadable, or storage throws.
 */
export function readStoredSession(
  key: string,
  storage: SessionStorage | undefined = defaultStorage(),
): StoredSession | undefined {
  try {
    const value = JSON.parse(storage?.getItem(key) ?? "null") as
      | Partial<StoredSession>
      | null;
    if (
      typeof value?.token === "string" &&
      typeof value.expiresAt === "number" &&
      typeof value.lifetime === "number" &&
      typeof value.identity === "string" &&
      typeof value.inputs === "string" &&
      typeof value.config?.widget === "object" &&
      typeof value.conversation === "boolean"
    ) return value as StoredSession;
  } catch {
    // Unavailable or not ours: as if nothing were stored.
  }
  return undefined;
}

/** Stores a session; a storage that refuses is ignored (the next page boots). */
export function writeStoredSession(
  key: string,
  session: StoredSession,
  storage: SessionStorage | undefined = defaultStorage(),
): void {
  try {
    storage?.setItem(key, JSON.stringify(session));
  } catch {
    // Quota or privacy mode: every page boots.
  }
}

/** Removes a stored session (`shutdown()`, or a session the server refused). */
export function forgetStoredSession(
  key: string,
  storage: SessionStorage | undefined = defaultStorage(),
): void {
  try {
    storage?.removeItem(key);
  } catch {
    // Nothing could have been stored.
  }
}

function defaultStorage(): SessionStorage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    // Reading `localStorage` itself throws where storage is blocked.
    return undefined;
  }
}
