/**
 * Feed notices on Deno KV. This process's own writes are told at once. A
 * `kv.watch` on a SQLite file does not see other processes' writes (the
 * workers of `deno serve --parallel`), so one poller per process reads the
 * feed heads of the organizations someone watches, ten per `getMany`, once a
 * second, and tells those whose head moved: one read a second per ten
 * watched organizations, however many streams watch them.
 *
 * @module
 */

import { type ChangeFeed, ChangeListeners } from "../change_feed.ts";
import { BatchedReads } from "./batched_reads.ts";
import { headKey } from "./kv_conversation_store.ts";

/** How often other processes' writes are looked for, milliseconds. */
const POLL_MS = 1_000;

/** The change feed of one Deno KV. */
export class KvChangeFeed implements ChangeFeed {
  readonly #reads: BatchedReads;
  readonly #listeners = new ChangeListeners(() => this.#schedule());
  /** Versionstamp of each watched head when last read. */
  readonly #seen = new Map<string, string | null>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #polling = false;

  /** @param kv The store; the caller closes it. */
  constructor(kv: Deno.Kv) {
    this.#reads = new BatchedReads(kv);
  }

  watch(organizationId: string, listener: () => void): () => void {
    return this.#listeners.add(organizationId, listener);
  }

  /** Tells the listeners of a feed this process just wrote to. */
  wrote(organizationId: string): void {
    this.#listeners.notify(organizationId);
  }

  /** Stops polling. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    const watched = this.#listeners.organizations();
    for (const organizationId of this.#seen.keys()) {
      if (!watched.includes(organizationId)) this.#seen.delete(organizationId);
    }
    if (watched.length === 0) {
      this.close();
    } else if (this.#timer === undefined) {
      this.#timer = setInterval(() => void this.#poll(), POLL_MS);
    }
  }

  async #poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      const watched = this.#listeners.organizations();
      const heads = await Promise.all(
        watched.map((organizationId) =>
          this.#reads.get(headKey(organizationId))
        ),
      );
      watched.forEach((organizationId, index) => {
        const versionstamp = heads[index]!.versionstamp;
        const known = this.#seen.has(organizationId);
        const before = this.#seen.get(organizationId);
        this.#seen.set(organizationId, versionstamp);
        // A first sight may follow a write its watchers have not read yet:
        // a spurious notice costs one read, a missed one a lost message.
        if (!known || before !== versionstamp) {
          this.#listeners.notify(organizationId);
        }
      });
    } catch {
      // A locked or closed store: the next poll tries again.
    } finally {
      this.#polling = false;
    }
  }
}
