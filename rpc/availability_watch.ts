/**
 * Tells visitors' open streams when their organization's availability
 * changes — an agent opened or closed the inbox on any host, or the
 * business hours opened or closed — so the widget lifts or shows its away
 * form without booting again.
 *
 * One interval per process looks at the organizations that have visitor
 * streams here (`AgentPresence.online` is cached per process, so that is at
 * most one presence read per organization and interval), and this
 * process's own agents are told at once (`refresh`). Another host's agent
 * reaches visitors here within an interval plus the presence cache.
 *
 * @module
 */

import type { Availability } from "../wire/mod.ts";

/** A stream that wants to hear of changes. */
export interface AvailabilityListener {
  /** The availability changed to `value`. */
  availability(value: Availability): void;
}

/** Options of {@linkcode AvailabilityWatch}. */
export interface AvailabilityWatchOptions {
  /** How often watched organizations are looked at, milliseconds (default 5 000). */
  readonly intervalMs?: number;
}

interface Watched {
  last: Availability;
  readonly listeners: Set<AvailabilityListener>;
  reading: boolean;
}

/** Availability changes of the organizations with visitor streams here. */
export class AvailabilityWatch {
  readonly #read: (organizationId: string) => Promise<Availability | undefined>;
  readonly #intervalMs: number;
  readonly #watched = new Map<string, Watched>();
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * @param read An organization's availability now (`undefined`: the policy no longer has it).
   * @param options The interval.
   */
  constructor(
    read: (organizationId: string) => Promise<Availability | undefined>,
    options: AvailabilityWatchOptions = {},
  ) {
    this.#read = read;
    this.#intervalMs = options.intervalMs ?? 5_000;
  }

  /** Organizations watched now. */
  get size(): number {
    return this.#watched.size;
  }

  /**
   * Tells `listener` of each change after `current` (what it was last told).
   */
  subscribe(
    organizationId: string,
    listener: AvailabilityListener,
    current: Availability,
  ): void {
    let watched = this.#watched.get(organizationId);
    if (watched === undefined) {
      watched = { last: current, listeners: new Set(), reading: false };
      this.#watched.set(organizationId, watched);
    }
    watched.listeners.add(listener);
    this.#timer ??= setInterval(() => this.#refreshAll(), this.#intervalMs);
  }

  /** Stops telling `listener`. */
  unsubscribe(organizationId: string, listener: AvailabilityListener): void {
    const watched = this.#watched.get(organizationId);
    if (watched === undefined || !watched.listeners.delete(listener)) return;
    if (watched.listeners.size > 0) return;
    this.#watched.delete(organizationId);
    if (this.#watched.size === 0) this.close();
  }

  /** Looks at one organization now (this process's agent came or went). */
  refresh(organizationId: string): void {
    const watched = this.#watched.get(organizationId);
    if (watched !== undefined) void this.#refresh(organizationId, watched);
  }

  /** Stops the interval (listeners stay until they unsubscribe). */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #refreshAll(): void {
    for (const [organizationId, watched] of this.#watched) {
      void this.#refresh(organizationId, watched);
    }
  }

  async #refresh(organizationId: string, watched: Watched): Promise<void> {
    if (watched.reading) return;
    watched.reading = true;
    try {
      const value = await this.#read(organizationId);
      if (value === undefined || sameAvailability(value, watched.last)) return;
      watched.last = value;
      for (const listener of [...watched.listeners]) {
        listener.availability(value);
      }
    } catch {
      // Unknown now; the next interval asks again.
    } finally {
      watched.reading = false;
    }
  }
}

function sameAvailability(a: Availability, b: Availability): boolean {
  return a.agentsOnline === b.agentsOnline && a.withinHours === b.withinHours;
}
