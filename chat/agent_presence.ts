/**
 * Whether an organization has an agent online: one while any agent's live
 * stream is open, on any host. Each open stream beats in the store every
 * 15 s with a 45 s lease, so a host that dies takes its agents offline
 * within one lease; visitors' boots read it through a short per-process
 * cache, so a busy site does not read the store once per boot.
 *
 * @module
 */

import type { PresenceStore } from "../store/presence_store.ts";
import { randomId } from "./random_id.ts";

/** How often an open stream renews its presence, milliseconds. */
const BEAT_MS = 15_000;
/** How long one beat holds: three beats, so one lost write costs nothing. */
const LEASE_MS = 45_000;
/** How long a read of another host's presence is reused, milliseconds. */
const CACHE_MS = 2_000;

/** Agent presence of every organization, for this process. */
export class AgentPresence {
  readonly #store: PresenceStore;
  readonly #now: () => number;
  /** Streams held here, by organization: online without asking the store. */
  readonly #held = new Map<string, number>();
  readonly #cache = new Map<string, { at: number; online: Promise<boolean> }>();
  #onChange: ((organizationId: string) => void) | undefined;

  /**
   * @param store Where presence is shared with other hosts.
   * @param now Clock, epoch milliseconds.
   */
  constructor(store: PresenceStore, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  /**
   * Calls `listener` whenever an agent's stream opens or ends here (another
   * host's agents are only seen by reading {@linkcode online}).
   */
  onChange(listener: (organizationId: string) => void): void {
    this.#onChange = listener;
  }

  /**
   * Marks an agent present for as long as one stream of theirs lasts.
   *
   * @returns A function that ends the presence (idempotent).
   */
  hold(organizationId: string, agentId: string): () => void {
    const holder = randomId(12);
    this.#held.set(organizationId, (this.#held.get(organizationId) ?? 0) + 1);
    this.#cache.delete(organizationId);
    const beat = () =>
      this.#store.beat(organizationId, holder, agentId, this.#now() + LEASE_MS)
        .catch(() => {
          // The store is down: the next beat tries again; the lease covers two misses.
        });
    void beat();
    this.#onChange?.(organizationId);
    const timer = setInterval(beat, BEAT_MS);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      clearInterval(timer);
      const left = (this.#held.get(organizationId) ?? 1) - 1;
      if (left === 0) this.#held.delete(organizationId);
      else this.#held.set(organizationId, left);
      this.#cache.delete(organizationId);
      // Told once the store no longer lists the agent, so a read then agrees.
      void this.#store.leave(organizationId, holder).catch(() => {}).then(
        () => this.#onChange?.(organizationId),
      );
    };
  }

  /**
   * Whether any agent of the organization has a stream open on any host.
   * A store that cannot answer reads as nobody online (the widget then
   * offers to leave an email, which is never wrong).
   */
  online(organizationId: string): Promise<boolean> {
    if (this.#held.has(organizationId)) return Promise.resolve(true);
    const now = this.#now();
    const cached = this.#cache.get(organizationId);
    if (cached !== undefined && now - cached.at < CACHE_MS) {
      return cached.online;
    }
    const online = this.#store.present(organizationId, now).then(
      (agents) => agents.length > 0,
      () => false,
    );
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(organizationId, { at: now, online });
    return online;
  }
}
