/**
 * Matches a request origin against one organization's `domains.allow` list
 * without building a RegExp per request: exact hosts sit in a Map, and a
 * wildcard `*.acme.com` is found by walking the origin host's parent suffixes
 * (`a.b.acme.com` → `b.acme.com` → `acme.com` → `com`) through a Map of
 * wildcard parents. Cost grows with the host's label count, not the list.
 *
 * @module
 */

import { type ParsedOrigin, parseOrigin } from "./host.ts";
import type { DomainPattern } from "./types.ts";

/**
 * The form browsers send for an ordinary host: lower-case ASCII labels, the
 * last starting with a letter (so never an IPv4 number), an optional port
 * without leading zeros. Such a value is already what `URL` would serialise.
 */
const CANONICAL_ORIGIN =
  /^(https?):\/\/((?:[a-z0-9-]+\.)*[a-z][a-z0-9-]*)(?::([1-9][0-9]{0,4}))?$/;

/**
 * Parses a request's `Origin` exactly like `parseOrigin`, but answers the
 * canonical form browsers send without building a `URL` (about a
 * microsecond saved per request). Anything else takes the full parser.
 *
 * @param value The header value.
 * @returns The parsed origin, or `undefined` when it is not a web origin.
 */
export function parseRequestOrigin(value: string): ParsedOrigin | undefined {
  const match = CANONICAL_ORIGIN.exec(value);
  // Punycode labels are validated by the full parser.
  if (match === null || value.includes("xn--")) return parseOrigin(value);
  const scheme = match[1] === "https" ? "https" : "http";
  const host = match[2]!;
  const defaultPort = scheme === "https" ? 443 : 80;
  if (match[3] === undefined) {
    return { scheme, host, port: defaultPort, origin: value };
  }
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  return {
    scheme,
    host,
    port,
    origin: port === defaultPort ? `${scheme}://${host}` : value,
  };
}

/** The patterns for one host: one for any port, and some for exact ports. */
interface HostEntry {
  anyPort?: DomainPattern;
  byPort?: Map<number, DomainPattern>;
}

/** Exact hosts and wildcard parents of one scheme. */
interface SchemeTable {
  readonly exact: Map<string, HostEntry>;
  readonly wildcard: Map<string, HostEntry>;
}

function addPattern(table: Map<string, HostEntry>, pattern: DomainPattern) {
  let entry = table.get(pattern.host);
  if (entry === undefined) {
    entry = {};
    table.set(pattern.host, entry);
  }
  if (pattern.port === undefined) {
    // The first written entry wins, so the reported rule is stable.
    entry.anyPort ??= pattern;
  } else {
    entry.byPort ??= new Map();
    if (!entry.byPort.has(pattern.port)) {
      entry.byPort.set(pattern.port, pattern);
    }
  }
}

function lookupPort(
  entry: HostEntry | undefined,
  port: number,
): DomainPattern | undefined {
  if (entry === undefined) return undefined;
  return entry.byPort?.get(port) ?? entry.anyPort;
}

/** One organization's allowed origins, compiled. Frozen. */
export class DomainMatcher {
  readonly #https: SchemeTable = { exact: new Map(), wildcard: new Map() };
  readonly #http: SchemeTable = { exact: new Map(), wildcard: new Map() };
  /** How many patterns were compiled. */
  readonly size: number;

  /**
   * Compiles the patterns into lookup tables.
   *
   * @param patterns Normalised `domains.allow` entries, in policy order.
   */
  constructor(patterns: readonly DomainPattern[]) {
    for (const pattern of patterns) {
      const table = pattern.scheme === "https" ? this.#https : this.#http;
      addPattern(pattern.wildcard ? table.wildcard : table.exact, pattern);
    }
    this.size = patterns.length;
    Object.freeze(this);
  }

  /**
   * Finds the pattern that admits an origin. An exact host wins over a
   * wildcard, an exact port over any port, and the nearest wildcard parent
   * over a farther one.
   *
   * @param origin A parsed, normalised origin.
   * @returns The matching pattern, or `undefined` when none admits it.
   */
  match(origin: ParsedOrigin): DomainPattern | undefined {
    const table = origin.scheme === "https" ? this.#https : this.#http;
    const host = origin.host;
    const exact = lookupPort(table.exact.get(host), origin.port);
    if (exact !== undefined) return exact;
    if (table.wildcard.size === 0) return undefined;
    let dot = host.indexOf(".");
    while (dot !== -1) {
      const found = lookupPort(
        table.wildcard.get(host.slice(dot + 1)),
        origin.port,
      );
      if (found !== undefined) return found;
      dot = host.indexOf(".", dot + 1);
    }
    return undefined;
  }
}

/**
 * Compiles an organization's allowed-domain list.
 *
 * @param patterns Normalised `domains.allow` entries, in policy order.
 * @returns A frozen matcher.
 */
export function compileDomainMatcher(
  patterns: readonly DomainPattern[],
): DomainMatcher {
  return new DomainMatcher(patterns);
}
