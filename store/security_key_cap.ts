/**
 * The engine-neutral half of {@linkcode KeyCap}: which of a batch's new
 * capped keys an (organization, hour) admits, given the keys it already
 * holds, and the batch rewritten so the others count under the overflow key.
 * Each adapter supplies the atomic part (reading what is held and recording
 * what it admits, against every other writer).
 *
 * @module
 */

import type { KeyCap, SecurityCount } from "./security_counter_store.ts";

/** The capped keys of one (organization, hour) in a batch. */
export interface CappedGroup {
  readonly organizationId: string;
  readonly hour: number;
  /** Each key's summed count in the batch, over every capped metric. */
  readonly keys: ReadonlyMap<string, number>;
}

/**
 * The batch's capped keys, by (organization, hour), in a stable order (by
 * organization, then hour), so writers that lock per group lock alike.
 *
 * @param counts A batch.
 * @param cap The cap.
 * @returns One group per (organization, hour) with capped keys.
 */
export function cappedGroups(
  counts: readonly SecurityCount[],
  cap: KeyCap,
): CappedGroup[] {
  const groups = new Map<string, CappedGroup & { keys: Map<string, number> }>();
  for (const count of counts) {
    if (!cap.metrics.includes(count.metric) || count.key === cap.overflowKey) {
      continue;
    }
    const id = groupId(count.organizationId, count.hour);
    let group = groups.get(id);
    if (group === undefined) {
      group = {
        organizationId: count.organizationId,
        hour: count.hour,
        keys: new Map(),
      };
      groups.set(id, group);
    }
    group.keys.set(count.key, (group.keys.get(count.key) ?? 0) + count.count);
  }
  return [...groups.values()].sort((a, b) =>
    a.organizationId < b.organizationId
      ? -1
      : a.organizationId > b.organizationId
      ? 1
      : a.hour - b.hour
  );
}

/**
 * The keys a group admits besides those held: while fewer than
 * `cap.maxKeys` are held, the batch's most counted new keys first (ties by
 * key), so what one flush cannot keep is its rarest.
 *
 * @param group The batch's keys of one (organization, hour).
 * @param held The keys it holds already.
 * @param cap The cap.
 * @returns The new keys to record as held.
 */
export function admittedKeys(
  group: CappedGroup,
  held: ReadonlySet<string>,
  cap: KeyCap,
): string[] {
  const room = cap.maxKeys - held.size;
  if (room <= 0) return [];
  return [...group.keys]
    .filter(([key]) => !held.has(key))
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, room)
    .map(([key]) => key);
}

/**
 * The batch with every capped key its (organization, hour) does not hold
 * counted under `cap.overflowKey` (merged per metric: counts summed, the
 * later `lastSeen`).
 *
 * @param counts A batch.
 * @param cap The cap.
 * @param held The keys each (organization, hour) holds, admitted ones
 *   included, by {@linkcode groupId}.
 * @returns The counts to add.
 */
export function overflowUnheld(
  counts: readonly SecurityCount[],
  cap: KeyCap,
  held: ReadonlyMap<string, ReadonlySet<string>>,
): SecurityCount[] {
  const kept: SecurityCount[] = [];
  const overflow = new Map<string, SecurityCount>();
  for (const count of counts) {
    const capped = cap.metrics.includes(count.metric) &&
      count.key !== cap.overflowKey;
    if (
      !capped ||
      held.get(groupId(count.organizationId, count.hour))?.has(count.key)
    ) {
      kept.push(count);
      continue;
    }
    const id = `${
      groupId(count.organizationId, count.hour)
    }\u0000${count.metric}`;
    const found = overflow.get(id);
    overflow.set(
      id,
      found === undefined ? { ...count, key: cap.overflowKey } : {
        ...found,
        count: found.count + count.count,
        lastSeen: Math.max(found.lastSeen, count.lastSeen),
      },
    );
  }
  return [...kept, ...overflow.values()];
}

/**
 * The id of one (organization, hour).
 *
 * @param organizationId The organization.
 * @param hour Start of the hour, epoch milliseconds.
 * @returns A string no other pair shares.
 */
export function groupId(organizationId: string, hour: number): string {
  return `${organizationId}\u0000${hour}`;
}
