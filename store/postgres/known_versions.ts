/**
 * The versions of the conversations this process read or wrote last, so a
 * change to one of them can be written without reading it first: a
 * visitor's message right after the lookup that found its conversation, the
 * agent's reply to it, the page a returning visitor's stream records.
 *
 * A remembered version is a guess, never an answer: the write that uses it
 * still checks the version, and one that missed (another host wrote since)
 * returns the row as it is, so a stale guess costs the statement it saved
 * and nothing else. Only the most recent `capacity` conversations are kept,
 * so memory stays bounded however many conversations pass through.
 *
 * @module
 */

/** A bounded map that forgets its least recently used entry first. */
export class KnownVersions<V> {
  readonly #capacity: number;
  /** Insertion order is recency order: a `set` moves its key to the end. */
  readonly #entries = new Map<string, V>();

  /** @param capacity Most entries kept (at least 1). */
  constructor(capacity: number) {
    this.#capacity = Math.max(1, Math.floor(capacity));
  }

  /** Entries held now. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The value last remembered for `key`.
   *
   * @returns It, or `undefined` when never remembered or forgotten since.
   */
  get(key: string): V | undefined {
    return this.#entries.get(key);
  }

  /** Remembers `value` for `key` as the most recent entry. */
  set(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  /** Forgets `key`. */
  delete(key: string): void {
    this.#entries.delete(key);
  }
}
