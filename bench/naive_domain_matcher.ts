/**
 * The naive way to check an origin, kept as the benchmark's reference: every
 * request scans every allow-list row of every organization and builds a
 * RegExp per pattern. The compiled `DomainMatcher` is measured against it.
 *
 * @module
 */

/** One `domains.allow` entry of one organization. */
export interface NaiveAllowRow {
  readonly organizationId: string;
  /** The entry as written: `acme.com`, `*.acme.com`, `http://localhost:3000`. */
  readonly source: string;
}

function patternSource(entry: string): string {
  const match = /^(?:(https?):\/\/)?(\*\.)?([^:/]+)(?::(\d+))?$/.exec(entry);
  if (!match) return "(?!)";
  const [, scheme = "https", star, host = "", port] = match;
  const escaped = host.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return `^${scheme}://${star ? "(?:[^./:]+\\.)+" : ""}${escaped}${
    port ? `:${port}` : "(?::\\d+)?"
  }$`;
}

/**
 * Finds the rule that admits an origin the slow way.
 *
 * @param rows Every allow-list entry of every organization.
 * @param organizationId The organization named by the request.
 * @param origin The `Origin` header, already lower-case.
 * @returns The matching entry, or `undefined`.
 */
export function naiveMatchOrigin(
  rows: readonly NaiveAllowRow[],
  organizationId: string,
  origin: string,
): string | undefined {
  let found: string | undefined;
  for (const row of rows) {
    const pattern = new RegExp(patternSource(row.source), "i");
    if (
      found === undefined && row.organizationId === organizationId &&
      pattern.test(origin)
    ) {
      found = row.source;
    }
  }
  return found;
}
