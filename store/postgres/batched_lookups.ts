/**
 * Coalescing the single-row lookups of one event-loop turn into one
 * statement, as `store/kv/batched_reads.ts` does for Deno KV: concurrent
 * `chat.boot`s finding their conversations pay one round trip, not one each.
 *
 * @module
 */

interface Pending<K, V> {
  readonly key: K;
  resolve(value: V): void;
  reject(error: unknown): void;
}

/**
 * Lookups by key, answered together: every `get` of one turn goes into one
 * call of `fetch`, which sees every write completed before `get` was called.
 *
 * @example One statement for two conversations
 * ```ts ignore
 * const byId = new BatchedLookups((ids: string[]) => selectMany(ids));
 * const [a, b] = await Promise.all([byId.get("a"), byId.get("b")]);
 * ```
 */
export class BatchedLookups<K, V> {
  readonly #fetch: (keys: K[]) => Promise<V[]>;
  readonly #maxKeys: number;
  #pending: Pending<K, V>[] = [];

  /**
   * @param fetch Answers keys by position, one statement per call.
   * @param maxKeys Most keys per call.
   */
  constructor(fetch: (keys: K[]) => Promise<V[]>, maxKeys = 500) {
    this.#fetch = fetch;
    this.#maxKeys = maxKeys;
  }

  /**
   * Looks one key up with the others of this turn.
   *
   * @returns What `fetch` answered for it.
   * @throws What `fetch` threw.
   */
  get(key: K): Promise<V> {
    const { promise, resolve, reject } = Promise.withResolvers<V>();
    if (this.#pending.length === 0) queueMicrotask(() => this.#flush());
    this.#pending.push({ key, resolve, reject });
    return promise;
  }

  #flush(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (let start = 0; start < pending.length; start += this.#maxKeys) {
      const chunk = pending.slice(start, start + this.#maxKeys);
      this.#fetch(chunk.map((entry) => entry.key)).then(
        (values) => chunk.forEach((entry, i) => entry.resolve(values[i]!)),
        (error) => chunk.forEach((entry) => entry.reject(error)),
      );
    }
  }
}
