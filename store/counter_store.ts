/**
 * The counter port: fixed-window rate-limit counters, charged in chains.
 * `limits/` decides what to charge and batches it; an adapter makes each
 * batch one exact step on its engine.
 *
 * @module
 */

/**
 * One counter of one window. The window is part of the counter's identity, so
 * a new window is a new counter: nothing relies on a TTL to reset a count.
 */
export interface CounterSlot {
  /** The organization the counter belongs to; leads every stored key. */
  readonly organizationId: string;
  /** What is counted within it, e.g. `ip:203.0.113.7`, `org`, `session:…`. */
  readonly bucket: string;
  /** Window length, milliseconds. */
  readonly windowMs: number;
  /** End of the window, epoch milliseconds (a multiple of `windowMs`). */
  readonly windowEnd: number;
  /** Admissions per window. */
  readonly limit: number;
  /**
   * Checked, not counted: the chain stops here when the counter has reached
   * its limit, and goes on without incrementing it otherwise.
   */
  readonly peek?: boolean;
}

/** What a charge found at one slot of its chain. */
export interface SlotOutcome {
  /** Whether the slot admitted the request. */
  readonly admitted: boolean;
  /** The count after this charge when admitted, the count found otherwise. */
  readonly count: number;
}

/** Fixed-window counters on one engine. */
export interface CounterStore {
  /**
   * Most distinct slots one {@linkcode CounterStore.charge} call may hold
   * (the engine's limit on checks per commit).
   */
  readonly maxSlotsPerCharge: number;
  /**
   * Charges chains of slots, in order, as one exact step against every other
   * process and host on the store: within a chain, each slot admits when its
   * count — as stored plus what earlier charges of this call added — is below
   * its limit, and is then incremented unless it is a `peek`; a chain stops
   * at its first slot that does not admit.
   *
   * @param chains The chains, in arrival order.
   * @returns Per chain, one outcome per slot up to and including the first
   *   refusal.
   * @throws {StoreUnavailableError} When the engine fails or stays contended.
   */
  charge(
    chains: readonly (readonly CounterSlot[])[],
  ): Promise<SlotOutcome[][]>;
  /**
   * Deletes counters whose window ended before `now`.
   *
   * @returns How many were deleted.
   * @throws {StoreUnavailableError} When the engine fails.
   */
  sweep(now: number): Promise<number>;
}

/**
 * Charges one chain against running counts: the rule every adapter applies.
 *
 * @param chain The slots of one request.
 * @param counts Count by {@linkcode slotId}, as stored plus earlier charges;
 *   admitted slots that are not peeks are incremented in place.
 * @returns The outcomes, up to and including the first refusal.
 */
export function chargeChain(
  chain: readonly CounterSlot[],
  counts: Map<string, number>,
): SlotOutcome[] {
  const outcomes: SlotOutcome[] = [];
  for (const slot of chain) {
    const id = slotId(slot);
    const count = counts.get(id) ?? 0;
    if (count >= slot.limit) {
      outcomes.push({ admitted: false, count });
      break;
    }
    const after = slot.peek ? count : count + 1;
    counts.set(id, after);
    outcomes.push({ admitted: true, count: after });
  }
  return outcomes;
}

/**
 * A slot's identity as one string, for maps.
 *
 * @param slot A slot.
 * @returns Equal for slots of one counter and window.
 */
export function slotId(slot: CounterSlot): string {
  return `${slot.windowEnd}\u0000${slot.windowMs}\u0000${slot.organizationId}\u0000${slot.bucket}`;
}
