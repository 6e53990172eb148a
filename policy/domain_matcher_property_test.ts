import assert from "node:assert/strict";
import fc from "fast-check";
import { compileDomainMatcher, parseRequestOrigin } from "./domain_matcher.ts";
import { parseOrigin } from "./host.ts";
import type { DomainPattern } from "./types.ts";

/**
 * The slow, obvious matcher: one RegExp per pattern over the origin written
 * out in full (`scheme://host:port`), built from `URL` rather than
 * `parseOrigin`, so it shares no code with the compiled matcher.
 */
function referenceAdmits(pattern: DomainPattern, origin: string): boolean {
  const url = new URL(origin);
  const scheme = url.protocol.slice(0, -1);
  const port = url.port || (scheme === "https" ? "443" : "80");
  const host = url.hostname.replace(/\.$/, "");
  const escaped = pattern.host.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const source = `^${pattern.scheme}://${
    pattern.wildcard ? "(?:[^.:/]+\\.)+" : ""
  }${escaped}:${pattern.port ?? "\\d+"}$`;
  return new RegExp(source).test(`${scheme}://${host}:${port}`);
}

// A tiny label alphabet makes shared suffixes, and so near misses, likely.
const label = fc.constantFrom(
  "a",
  "b",
  "acme",
  "evilacme",
  "xn--bcher-kva",
  "com",
);
const host = fc.array(label, { minLength: 1, maxLength: 5 }).map((labels) =>
  labels.join(".")
);
const port = fc.option(fc.constantFrom(80, 443, 3000, 8443), {
  nil: undefined,
});
const scheme = fc.constantFrom<"http" | "https">("http", "https");

const pattern = fc.record({ scheme, host, wildcard: fc.boolean(), port }).map(
  (p): DomainPattern => ({
    source: `${p.scheme}://${p.wildcard ? "*." : ""}${p.host}${
      p.port === undefined ? "" : `:${p.port}`
    }`,
    scheme: p.scheme,
    host: p.host,
    wildcard: p.wildcard,
    ...(p.port === undefined ? {} : { port: p.port }),
  }),
);
const origin = fc.record({ scheme, host, port, trailingDot: fc.boolean() }).map(
  (o) =>
    `${o.scheme}://${o.host}${o.trailingDot ? "." : ""}${
      o.port === undefined ? "" : `:${o.port}`
    }`,
);

Deno.test("DomainMatcher.match() agrees with a RegExp-per-pattern reference", () => {
  fc.assert(
    fc.property(
      fc.array(pattern, { maxLength: 12 }),
      fc.array(origin, { minLength: 1, maxLength: 8 }),
      (patterns, origins) => {
        const matcher = compileDomainMatcher(patterns);
        for (const value of origins) {
          const parsed = parseOrigin(value);
          assert.ok(parsed, `origin "${value}" parses`);
          const found = matcher.match(parsed);
          const expected = patterns.some((p) => referenceAdmits(p, value));
          assert.equal(found !== undefined, expected, value);
          if (found) assert.ok(referenceAdmits(found, value), found.source);
        }
      },
    ),
    { numRuns: 2_000 },
  );
});

// Origin-shaped strings near the fast path's edges: case, digits, hex and
// numeric labels, punycode, dots, ports with zeros or out of range.
const originish = fc.tuple(
  fc.constantFrom("http", "https", "HTTPS", "ftp"),
  fc.array(
    fc.constantFrom(
      "a",
      "B",
      "acme",
      "0x1f",
      "127",
      "1",
      "xn--bcher-kva",
      "xn--zz",
      "-x",
      "a_b",
      "",
    ),
    { minLength: 1, maxLength: 4 },
  ),
  fc.constantFrom("", ".", ".."),
  fc.constantFrom(
    "",
    ":",
    ":0",
    ":80",
    ":443",
    ":0443",
    ":8443",
    ":65535",
    ":65536",
    ":99999",
    ":x",
  ),
).map(([scheme, labels, dots, port]) =>
  `${scheme}://${labels.join(".")}${dots}${port}`
);

Deno.test("parseRequestOrigin() agrees with parseOrigin()", () => {
  fc.assert(
    fc.property(originish, (value) => {
      assert.deepEqual(parseRequestOrigin(value), parseOrigin(value), value);
    }),
    { numRuns: 5_000 },
  );
});
