/**
 * What the agent inbox says when signing in fails, in words an agent can act
 * on — "this key was not accepted for acme" rather than `SESSION_INVALID` —
 * and whether the key field should be cleared for another try. Pure and
 * browser-safe.
 *
 * @module
 */

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
  const organization = `“${organizationId}”`;
  switch (failure.code) {
    case "SESSION_INVALID":
      return {
        text:
          `This admin key was not accepted for organization ${organization}. Check the key (it is case-sensitive) and that it belongs to this organization.`,
        keyRefused: true,
      };
    case "ORGANIZATION_NOT_FOUND":
      return {
        text:
          `There is no organization ${organization} on this server. Check the organization id.`,
        keyRefused: false,
      };
    case "RATE_LIMITED":
      return {
        text: `Too many failed sign-ins from this address. Try again${
          failure.retryAfter === undefined
            ? " later"
            : ` in ${Math.max(1, Math.ceil(failure.retryAfter))} s`
        }.`,
        keyRefused: false,
      };
    case "UNAVAILABLE":
      return {
        text: failure.reason === "network"
          ? "The server could not be reached. Check the connection and try again."
          : "The server cannot reach its storage right now. Try again shortly.",
        keyRefused: false,
      };
    default:
      return {
        text: `Sign-in failed (${failure.code ?? "error"}).`,
        keyRefused: false,
      };
  }
}
