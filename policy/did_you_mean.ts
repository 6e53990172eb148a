/**
 * The hint of an unknown key: the closest allowed key by edit distance
 * (optimal string alignment, so a swap of neighbours counts as one edit),
 * or the list of allowed keys when none is close.
 *
 * @module
 */

/**
 * A "did you mean" hint for an unknown key.
 *
 * @param key The key as written.
 * @param allowed The keys allowed where it is written.
 * @returns The hint.
 */
export function suggestKey(key: string, allowed: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const tolerance = Math.max(2, Math.ceil(key.length / 3));
  if (best !== undefined && bestDistance <= tolerance) {
    return `Did you mean "${best}"?`;
  }
  return allowed.length === 0
    ? "No keys are allowed here"
    : `Allowed keys: ${allowed.map((name) => `"${name}"`).join(", ")}`;
}

function editDistance(a: string, b: string): number {
  if (a.length > 100 || b.length > 100) return Infinity;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const above = rows[i - 1] ?? [];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (above[j] ?? Infinity) + 1,
        (row[j - 1] ?? Infinity) + 1,
        (above[j - 1] ?? Infinity) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (rows[i - 2]?.[j - 2] ?? Infinity) + 1);
      }
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? Infinity;
}
