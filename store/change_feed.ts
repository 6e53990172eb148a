/**
 * The change port: how a process learns that an organization's feed may
 * have grown, so its live streams read it instead of polling it each. An
 * adapter tells this process's own writes at once and other processes' and
 * hosts' writes within about a second; a notice may be spurious or cover
 * several writes, since readers catch up by reading the feed past what they
 * have seen. A notice of this process's own write may carry the entries it
 * wrote, so a reader that has read up to just before them takes them
 * without a read.
 *
 * @module
 */

import type { FeedEntry } from "./conversation_store.ts";

/**
 * Told that a feed may have grown; `written` holds the entries when this
 * process wrote them itself (consecutive seqs, in order).
 */
export type ChangeListener = (written?: readonly FeedEntry[]) => void;

/** Notices of feed growth, per organization. */
export interface ChangeFeed {
  /**
   * Calls `listener` whenever `organizationId`'s feed may have new entries,
   * and once for every watched organization after the adapter reconnects
   * (a notice may have been missed meanwhile).
   *
   * @returns A function that stops the calls.
   */
  watch(organizationId: string, listener: ChangeListener): () => void;
}

/**
 * The listeners of each organization, for adapters: who to tell, and which
 * organizations anybody watches.
 */
export class ChangeListeners {
  readonly #byOrganization = new Map<string, Set<ChangeListener>>();
  readonly #onWatchedChange: (() => void) | undefined;

  /**
   * @param onWatchedChange Called when the set of watched organizations grows or shrinks.
   */
  constructor(onWatchedChange?: () => void) {
    this.#onWatchedChange = onWatchedChange;
  }

  /**
   * Adds a listener.
   *
   * @returns A function that removes it.
   */
  add(organizationId: string, listener: ChangeListener): () => void {
    let listeners = this.#byOrganization.get(organizationId);
    if (listeners === undefined) {
      listeners = new Set();
      this.#byOrganization.set(organizationId, listeners);
      this.#onWatchedChange?.();
    }
    // One wrapper per call, so the same function may be added twice.
    const entry: ChangeListener = (written) => listener(written);
    listeners.add(entry);
    return () => {
      const current = this.#byOrganization.get(organizationId);
      if (current === undefined || !current.delete(entry)) return;
      if (current.size === 0) {
        this.#byOrganization.delete(organizationId);
        this.#onWatchedChange?.();
      }
    };
  }

  /** Organizations with at least one listener. */
  organizations(): string[] {
    return [...this.#byOrganization.keys()];
  }

  /**
   * Tells `organizationId`'s listeners, with the entries this process wrote
   * when it did; a listener's error is theirs.
   */
  notify(organizationId: string, written?: readonly FeedEntry[]): void {
    const listeners = this.#byOrganization.get(organizationId);
    if (listeners === undefined) return;
    for (const listener of [...listeners]) {
      try {
        listener(written);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  /** Tells every listener (after a reconnect). */
  notifyAll(): void {
    for (const organizationId of this.organizations()) {
      this.notify(organizationId);
    }
  }
}
