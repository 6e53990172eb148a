/**
 * Finds which admin key an `agent.*` bearer key is, in time that does not
 * grow with the number of keys and does not tell how close a guess was.
 *
 * Comparing the given key with every stored one cost 15 ms per wrong key at
 * 50,000 keys. Here each stored key is indexed by a keyed hash, SHA-256 of
 * a random 32-byte key made once per index followed by the secret: a
 * lookup hashes the given key once and reads one `Map` entry. The map's
 * timing depends only on that digest, which an attacker cannot compute for
 * their guesses without the random key (and never sees, so SHA-256's length
 * extension gives nothing), so it leaks nothing about the stored secrets;
 * the match is then confirmed with a timing-safe comparison of the bytes.
 * (An HMAC would do the same at four times the cost in Deno's `node:crypto`,
 * which builds a key object per call.)
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";

/** An index of one organization's admin key secrets. */
export interface AdminKeyIndex {
  /**
   * The position of the key `given` is.
   *
   * @param given The bearer key presented.
   * @returns The index of the first stored key equal to it, or -1.
   */
  indexOf(given: string): number;
}

const utf8 = new TextEncoder();

/**
 * Indexes admin key secrets.
 *
 * @param secrets The secrets, in policy order (a secret written twice is found at its first place).
 * @returns The index.
 */
export function createAdminKeyIndex(
  secrets: readonly string[],
): AdminKeyIndex {
  return new HashedAdminKeys(secrets);
}

class HashedAdminKeys implements AdminKeyIndex {
  readonly #hashKey = crypto.getRandomValues(new Uint8Array(32));
  readonly #secrets: readonly Uint8Array[];
  readonly #byDigest = new Map<string, number>();

  constructor(secrets: readonly string[]) {
    this.#secrets = secrets.map((secret) => utf8.encode(secret));
    this.#secrets.forEach((secret, index) => {
      const digest = this.#digest(secret);
      if (!this.#byDigest.has(digest)) this.#byDigest.set(digest, index);
    });
  }

  indexOf(given: string): number {
    if (given.length === 0 || this.#byDigest.size === 0) return -1;
    const bytes = utf8.encode(given);
    const index = this.#byDigest.get(this.#digest(bytes));
    if (index === undefined) return -1;
    const stored = this.#secrets[index]!;
    return stored.length === bytes.length && timingSafeEqual(stored, bytes)
      ? index
      : -1;
  }

  #digest(bytes: Uint8Array): string {
    return createHash("sha256").update(this.#hashKey).update(bytes).digest(
      "base64",
    );
  }
}
