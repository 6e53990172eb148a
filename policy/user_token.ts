/**
 * What the token minters (`deno task policy token`, the policy test runner),
 * the verifier and `chat.getJWTDocs` agree on: the audience of every user
 * token, and which of an organization's keys is in force.
 *
 * One rule for `until`: a key is in force up to and including its `until`
 * instant, and refused from the next millisecond on (`now <= until`). The
 * verifier refuses a token naming a retired key with `jwt.key_expired`.
 *
 * @module
 */

/** The only accepted audience (`aud`) of a user token. */
export const AUDIENCE = "chat-widget";

/**
 * Whether a key is in force at `now`.
 *
 * @param key A key, with its `until` in epoch milliseconds when it has one.
 * @param now Epoch milliseconds.
 * @returns `true` up to and including `until`.
 */
export function isKeyActive(
  key: { readonly until?: number },
  now: number,
): boolean {
  return key.until === undefined || now <= key.until;
}

/**
 * The key to sign with: the one named `kid`, else the first key in force.
 *
 * @param keys The organization's keys, in policy order.
 * @param now Epoch milliseconds.
 * @param kid A key id, when the caller names one.
 * @returns The key, or `undefined` when there is none.
 */
export function activeKey<
  K extends { readonly id: string; readonly until?: number },
>(
  keys: readonly K[],
  now: number,
  kid?: string,
): K | undefined {
  return kid === undefined
    ? keys.find((key) => isKeyActive(key, now))
    : keys.find((key) => key.id === kid);
}
