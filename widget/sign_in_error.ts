/**
 * What the agent inbox says when signing in fails, in words an agent can act
 * on — "this key was not accepted for acme" rather than `SESSION_INVALID` —
 * and whether the key field should be cleared for another try. Pure and
 * browser-safe; its words are `inbox_strings.ts`'s.
 *
 * @module
 */

import { inboxText } from "./inbox_strings.ts";

/** A failed sign-in, as the RPC client reports it. */
export interface SignInFailure {
  readonly code?: string;
  readonly reason?: string;
  readonly retryAfter?: number;
}

/** What the sign-in form shows. */
export interface SignInError {
  /** The message, shown prominently above the button. */
  readonly text: string;
  /** Whether the key was refused, so its field is cleared and focused. */
  readonly keyRefused: boolean;
}

/**
 * @param failure What the first inbox call threw.
 * @param organizationId The organization id the agent typed.
 * @returns The message, and whether the key was refused.
 */
export function signInError(
  failure: SignInFailure,
  organizationId: string,
): SignInError {
  const organization = organizationId;
  switch (failure.code) {
    case "SESSION_INVALID":
      return {
        text: inboxText("keyRefused", { organization }),
        keyRefused: true,
      };
    case "ORGANIZATION_NOT_FOUND":
      return {
        text: inboxText("organizationUnknown", { organization }),
        keyRefused: false,
      };
    case "RATE_LIMITED":
      return {
        text: failure.retryAfter === undefined
          ? inboxText("signInThrottledLater")
          : inboxText("signInThrottled", {
            count: Math.max(1, Math.ceil(failure.retryAfter)),
          }),
        keyRefused: false,
      };
    case "UNAVAILABLE":
      return {
        text: failure.reason === "network"
          ? inboxText("serverUnreachable")
          : inboxText("storeUnavailable"),
        keyRefused: false,
      };
    default:
      return {
        text: inboxText("signInFailed", { code: failure.code ?? "error" }),
        keyRefused: false,
      };
  }
}
