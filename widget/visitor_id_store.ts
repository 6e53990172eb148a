/**
 * Keeps the anonymous visitor id between page loads, so a returning visitor
 * sees their conversation. Storage can be missing or throw (Safari private
 * mode, sandboxed iframes, disabled cookies); the widget then simply starts a
 * new visitor each time.
 *
 * @module
 */

/** The `localStorage` key for an organization's visitor id. */
export function visitorIdKey(organizationId: string): string {
  return `parley:visitor:${organizationId}`;
}

/**
 * Reads the stored visitor id of an organization.
 *
 * @returns the id, or `undefined` when absent or storage is unavailable
 */
export function readVisitorId(organizationId: string): string | undefined {
  try {
    return globalThis.localStorage?.getItem(visitorIdKey(organizationId)) ??
      undefined;
  } catch {
    return undefined;
  }
}

/**
 * Stores the visitor id of an organization; ignores storage failures.
 *
 * @returns nothing
 */
export function writeVisitorId(
  organizationId: string,
  visitorId: string,
): void {
  try {
    globalThis.localStorage?.setItem(visitorIdKey(organizationId), visitorId);
  } catch {
    // Storage refused (quota, privacy mode): the visitor stays anonymous per page.
  }
}

/**
 * Removes the stored visitor id (on `shutdown`, e.g. when the user logs out).
 *
 * @returns nothing
 */
export function forgetVisitorId(organizationId: string): void {
  try {
    globalThis.localStorage?.removeItem(visitorIdKey(organizationId));
  } catch {
    // Storage refused: nothing stored to forget.
  }
}
