/**
 * One interval for many deadlines: a hashed timing wheel of one-second
 * slots. Each entry sits in the slot of the second it is due, and every
 * tick visits the one slot whose second has come. Scheduling, moving and
 * cancelling an entry are O(1), a tick costs what is due in it (plus any
 * entry more than a turn of the wheel away, left in place), and a thousand
 * open streams cost one timer instead of a thousand.
 *
 * Entries carry their own place (`wheelSlot`, `wheelDueAt`), so the wheel
 * allocates nothing per entry beyond its slot's `Set` membership.
 *
 * @module
 */

/** What the wheel writes on each entry it holds. */
export interface WheelEntry {
  /** The slot the entry sits in, or -1 when it is not scheduled. */
  wheelSlot: number;
  /** When it is due, epoch milliseconds. */
  wheelDueAt: number;
}

/** Options of {@linkcode TimerWheel}. */
export interface TimerWheelOptions {
  /** Clock, epoch milliseconds. */
  readonly now?: () => number;
  /** Length of a slot, milliseconds (default 1 000). */
  readonly tickMs?: number;
  /** Slots in one turn (default 64). */
  readonly slots?: number;
  /** Called after each tick's visits, e.g. for work that looks at every entry rarely. */
  readonly onTick?: (now: number) => void;
}

/** Deadlines of many entries, checked by one interval that runs while any is scheduled. */
export class TimerWheel<T extends WheelEntry> {
  readonly #visit: (entry: T, now: number) => void;
  readonly #now: () => number;
  readonly #tickMs: number;
  readonly #slots: Set<T>[];
  readonly #onTick: ((now: number) => void) | undefined;
  #size = 0;
  /** The last slot tick visited (absolute tick count). */
  #visited = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * @param visit Called once per entry when its time has come; the entry is
   *   unscheduled first, so `visit` may schedule it again.
   * @param options Clock, slot length and count.
   */
  constructor(
    visit: (entry: T, now: number) => void,
    options: TimerWheelOptions = {},
  ) {
    this.#visit = visit;
    this.#now = options.now ?? Date.now;
    this.#tickMs = options.tickMs ?? 1_000;
    this.#slots = Array.from({ length: options.slots ?? 64 }, () => new Set());
    this.#onTick = options.onTick;
  }

  /** Entries scheduled now. */
  get size(): number {
    return this.#size;
  }

  /**
   * Schedules `entry` at `dueAt` (moving it if it was scheduled). An entry
   * due now or earlier is visited at the next tick.
   */
  schedule(entry: T, dueAt: number): void {
    this.cancel(entry);
    const tick = Math.max(
      Math.ceil(dueAt / this.#tickMs),
      this.#timer === undefined
        ? Math.floor(this.#now() / this.#tickMs) + 1
        : this.#visited + 1,
    );
    const slot = tick % this.#slots.length;
    entry.wheelSlot = slot;
    entry.wheelDueAt = dueAt;
    this.#slots[slot]!.add(entry);
    this.#size++;
    if (this.#timer === undefined) {
      this.#visited = Math.floor(this.#now() / this.#tickMs);
      this.#timer = setInterval(() => this.#tick(), this.#tickMs);
    }
  }

  /** Unschedules `entry`; nothing happens if it is not scheduled. */
  cancel(entry: T): void {
    if (entry.wheelSlot < 0) return;
    if (this.#slots[entry.wheelSlot]?.delete(entry)) this.#size--;
    entry.wheelSlot = -1;
    if (this.#size === 0) this.#stop();
  }

  /** Unschedules everything and stops the interval. */
  close(): void {
    for (const slot of this.#slots) {
      for (const entry of slot) entry.wheelSlot = -1;
      slot.clear();
    }
    this.#size = 0;
    this.#stop();
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    const now = this.#now();
    const current = Math.floor(now / this.#tickMs);
    // A stalled event loop visits every slot it missed, a whole turn at most.
    const from = Math.max(this.#visited + 1, current - this.#slots.length + 1);
    this.#visited = Math.max(this.#visited, current);
    for (let tick = from; tick <= current; tick++) {
      const slot = this.#slots[tick % this.#slots.length]!;
      for (const entry of slot) {
        // Entries more than a turn away wait for their own turn.
        if (entry.wheelDueAt > now) continue;
        slot.delete(entry);
        this.#size--;
        entry.wheelSlot = -1;
        this.#visit(entry, now);
      }
    }
    this.#onTick?.(now);
    if (this.#size === 0) this.#stop();
  }
}
