/**
 * HMAC-SHA256 (RFC 2104) under one key for many messages, on `node:crypto`'s
 * synchronous hashes: the key's inner and outer blocks are hashed once, and
 * each message continues copies of those two states.
 *
 * Why not `createHmac`: in Deno it builds a key object and a native HMAC for
 * every call, which measured about four times the cost of two hash copies,
 * and the hot path signs or checks one of these per request (the session
 * token of every boot and session call, a user token's signature, the
 * visitor references of an agent's inbox). WebCrypto's `sign` is
 * asynchronous, and its thread hop costs a loaded server more than the hash.
 * `hmac_sha256_test.ts` proves it equal to `createHmac` for keys shorter
 * than, as long as and longer than a block.
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";

/** SHA-256's block, bytes: a longer key is hashed first, a shorter one padded. */
const BLOCK_BYTES = 64;
const INNER_PAD = 0x36;
const OUTER_PAD = 0x5c;

/** The HMAC-SHA256 of messages under one key. */
export type HmacSha256 = (message: string | Uint8Array) => Uint8Array;

/**
 * Prepares HMAC-SHA256 under `key`.
 *
 * @param key Any bytes (a key longer than 64 bytes is hashed first, as the RFC says).
 * @returns A function giving the 32-byte MAC of a message (a string is
 *   taken as UTF-8, as `createHmac` takes it).
 */
export function hmacSha256(key: Uint8Array): HmacSha256 {
  const block = new Uint8Array(BLOCK_BYTES);
  block.set(
    key.byteLength > BLOCK_BYTES
      ? createHash("sha256").update(key).digest()
      : key,
  );
  const inner = createHash("sha256").update(
    block.map((byte) => byte ^ INNER_PAD),
  );
  const outer = createHash("sha256").update(
    block.map((byte) => byte ^ OUTER_PAD),
  );
  block.fill(0);
  return (message) =>
    continued(outer, continued(inner, message).digest()).digest();
}

function continued(state: Hash, data: string | Uint8Array): Hash {
  return state.copy().update(data);
}
