import assert from "node:assert/strict";
import { compileDomainMatcher, parseRequestOrigin } from "./domain_matcher.ts";
import { parseOrigin } from "./host.ts";
import { domainPattern } from "./testing_spec.ts";

const ALLOW = [
  "acme.com",
  "*.acme.com",
  "*.b.acme.com",
  "http://localhost:3000",
  "https://shop.example.net:8443",
  "bücher.example",
  "*.Partner.Example.",
];

// One row per rule or attack: the origin and the rule that admits it (or none).
const CASES: readonly [name: string, origin: string, rule: string | null][] = [
  ["exact host", "https://acme.com", "acme.com"],
  ["wildcard depth 1", "https://www.acme.com", "*.acme.com"],
  ["wildcard depth 3", "https://a.x.y.acme.com", "*.acme.com"],
  ["nearest wildcard parent wins", "https://a.b.acme.com", "*.b.acme.com"],
  [
    "apex of a nearer wildcard falls to the farther one",
    "https://b.acme.com",
    "*.acme.com",
  ],
  ["suffix without a dot boundary", "https://evilacme.com", null],
  ["allowed host as a prefix of another", "https://acme.com.evil.com", null],
  ["upper case", "https://WWW.ACME.COM", "*.acme.com"],
  ["trailing dot", "https://acme.com.", "acme.com"],
  ["bare host admits any port", "https://acme.com:8443", "acme.com"],
  ["bare host is https only", "http://acme.com", null],
  ["http pattern with port", "http://localhost:3000", "http://localhost:3000"],
  ["http pattern, other port", "http://localhost:3001", null],
  ["http pattern, default port", "http://localhost", null],
  ["http pattern, https scheme", "https://localhost:3000", null],
  [
    "https pattern with port",
    "https://shop.example.net:8443",
    "https://shop.example.net:8443",
  ],
  ["https pattern with port, default port", "https://shop.example.net", null],
  ["IDN written in Unicode", "https://bücher.example", "bücher.example"],
  ["IDN sent as punycode", "https://xn--bcher-kva.example", "bücher.example"],
  [
    "wildcard written in mixed case with trailing dot",
    "https://a.partner.example",
    "*.Partner.Example.",
  ],
  ["wildcard never admits its apex", "https://partner.example", null],
  ["unrelated host", "https://example.com", null],
  ["top-level label only", "https://com", null],
];

for (const [name, origin, rule] of CASES) {
  Deno.test(`DomainMatcher.match() ${name}: ${origin}`, () => {
    const matcher = compileDomainMatcher(ALLOW.map(domainPattern));
    const parsed = parseOrigin(origin);
    assert.ok(parsed, `origin "${origin}" parses`);
    assert.equal(matcher.match(parsed)?.source ?? null, rule);
  });
}

Deno.test("DomainMatcher.match() prefers an exact port over any port", () => {
  const matcher = compileDomainMatcher(
    ["https://acme.com:8443", "acme.com"].map(domainPattern),
  );
  assert.equal(
    matcher.match(parseOrigin("https://acme.com:8443")!)?.source,
    "https://acme.com:8443",
  );
  assert.equal(
    matcher.match(parseOrigin("https://acme.com")!)?.source,
    "acme.com",
  );
});

Deno.test("DomainMatcher.match() prefers an exact host over a wildcard", () => {
  const matcher = compileDomainMatcher(
    ["*.acme.com", "www.acme.com"].map(domainPattern),
  );
  assert.equal(
    matcher.match(parseOrigin("https://www.acme.com")!)?.source,
    "www.acme.com",
  );
});

Deno.test("DomainMatcher.match() admits nothing with an empty list", () => {
  const matcher = compileDomainMatcher([]);
  assert.equal(matcher.match(parseOrigin("https://acme.com")!), undefined);
  assert.equal(matcher.size, 0);
});

Deno.test("compileDomainMatcher() returns a frozen matcher", () => {
  assert.ok(Object.isFrozen(compileDomainMatcher([domainPattern("acme.com")])));
});

Deno.test("parseRequestOrigin() refuses an origin over 2048 characters, as parseOrigin() does", () => {
  const long = `https://${"a".repeat(2_040)}.example`;
  assert.equal(parseOrigin(long), undefined);
  assert.equal(parseRequestOrigin(long), undefined);
});

Deno.test("DomainMatcher.match() finds the nearest wildcard parent of a host with many labels", () => {
  const matcher = compileDomainMatcher(
    ["*.acme.com", "*.b.acme.com"].map(domainPattern),
  );
  const host = `${"x.".repeat(500)}b.acme.com`;
  const found = matcher.match({
    scheme: "https",
    host,
    port: 443,
    origin: `https://${host}`,
  });
  assert.equal(found?.source, "*.b.acme.com");
});
