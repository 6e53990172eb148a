/**
 * Unguessable identifiers for visitors and conversations.
 *
 * @module
 */

import { encodeBase64url } from "../policy/base64url.ts";

/**
 * A crypto-random, URL-safe identifier (base64url without padding).
 *
 * @param bytes Random bytes to encode; 16 bytes carry 128 bits.
 * @returns `bytes × 4⁄3` characters of `[A-Za-z0-9_-]`.
 */
export function randomId(bytes: number): string {
  const random = crypto.getRandomValues(new Uint8Array(bytes));
  return encodeBase64url(random);
}
