/**
 * Coalescing single-key Deno KV reads into `getMany` calls.
 *
 * @module
 */

import { isDatabaseLocked } from "./locked_retry.ts";

/** Deno KV refuses `getMany` with more keys than this. */
const MAX_KEYS_PER_READ = 10;

interface PendingRead {
  readonly key: Deno.KvKey;
  resolve(entry: Deno.KvEntryMaybe<unknown>): void;
  reject(error: unknown): void;
}

/**
 * Reads single keys the way `kv.get` does, but every `get` issued in the same
 * turn of the event loop shares `getMany` calls of up to ten keys. Each KV
 * operation costs the main thread a trip through the event loop whatever it
 * reads, so on a loaded server concurrent requests that read one key each
 * (`chat.boot` finding a conversation) wait for, and pay for, one operation
 * instead of one each.
 *
 * A read sees every write that completed before `get` was called: the
 * `getMany` starts after it. Keys of one call are read from one snapshot.
 *
 * @example Two reads, one operation
 * ```ts ignore
 * const reads = new BatchedReads(kv);
 * const [a, b] = await Promise.all([reads.get(["a"]), reads.get(["b"])]);
 * ```
 */
export class BatchedReads {
  readonly #kv: Deno.Kv;
  #pending: PendingRead[] = [];

  /**
   * Reads through `kv`, which the caller opens and closes.
   *
   * @param kv The store.
   */
  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  /**
   * Reads one key.
   *
   * @param key The key.
   * @returns The entry, with `value: null` when absent.
   * @throws What `kv.get` of this key would throw (e.g. `database is
   * locked`, an invalid key, a closed store).
   */
  get<T>(key: Deno.KvKey): Promise<Deno.KvEntryMaybe<T>> {
    const { promise, resolve, reject } = Promise.withResolvers<
      Deno.KvEntryMaybe<T>
    >();
    if (this.#pending.length === 0) queueMicrotask(() => this.#flush());
    this.#pending.push({
      key,
      resolve: resolve as (entry: Deno.KvEntryMaybe<unknown>) => void,
      reject,
    });
    return promise;
  }

  #flush(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (let start = 0; start < pending.length; start += MAX_KEYS_PER_READ) {
      const chunk = pending.slice(start, start + MAX_KEYS_PER_READ);
      this.#read(chunk.map((entry) => entry.key)).then(
        (entries) => chunk.forEach((entry, i) => entry.resolve(entries[i]!)),
        (error) => {
          // A locked or closed store fails every key alike: no point asking
          // again key by key.
          if (chunk.length === 1 || isStoreWide(error)) {
            for (const entry of chunk) entry.reject(error);
            return;
          }
          // One bad key must not fail the others: read them one by one.
          for (const entry of chunk) {
            this.#read([entry.key]).then(
              ([found]) => entry.resolve(found!),
              entry.reject,
            );
          }
        },
      );
    }
  }

  async #read(keys: Deno.KvKey[]): Promise<Deno.KvEntryMaybe<unknown>[]> {
    return await this.#kv.getMany(keys);
  }
}

function isStoreWide(error: unknown): boolean {
  return isDatabaseLocked(error) ||
    error instanceof Deno.errors.BadResource;
}
