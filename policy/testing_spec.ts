/**
 * Builds `PolicySpec` objects for tests and benchmarks without going through
 * the policy text, so the evaluator can be exercised on its own. Not exported
 * from `mod.ts`: real policies come from `validatePolicy`.
 *
 * @module
 */

import { parseDomainPattern } from "./domain_pattern.ts";
import {
  BUILT_IN_DEFAULTS,
  BUILT_IN_SERVER,
  DEFAULT_MAX_MESSAGES,
  DEFAULT_UNANSWERED_AFTER_MS,
} from "./validate.ts";
import type {
  AdminKeySpec,
  DomainMode,
  DomainPattern,
  JwtKeySpec,
  JwtMode,
  OrganizationSpec,
  PolicySpec,
  WidgetSettings,
} from "./types.ts";

/** A pattern written the way a policy author writes `domains.allow` entries. */
export class TestingPatternError extends SyntaxError {
  readonly code = "testing-pattern-invalid";

  /** @param entry The entry that could not be parsed. */
  constructor(entry: string) {
    super(
      `Domain entry "${entry}" is not a host, "*.host" or "scheme://host[:port]"`,
    );
    this.name = "TestingPatternError";
  }
}

/**
 * Parses a `domains.allow` entry (`acme.com`, `*.acme.com`,
 * `http://localhost:3000`) into a normalised `DomainPattern`.
 *
 * @param entry The entry as a policy author writes it.
 * @returns The normalised pattern.
 * @throws {TestingPatternError} When the entry is not a host pattern.
 */
export function domainPattern(entry: string): DomainPattern {
  const pattern = parseDomainPattern(entry);
  if ("code" in pattern) throw new TestingPatternError(entry);
  return pattern;
}

/**
 * A deterministic secret of 32 bytes or more, derived from a label so tests
 * can mint tokens for the same key.
 *
 * @param label Distinguishes keys, e.g. `"acme-2026-11"`.
 * @returns The secret's bytes.
 */
export function testingSecret(label: string): Uint8Array {
  return new TextEncoder().encode(`test-secret:${label}:`.padEnd(40, "x"));
}

/** What a test may set on an organization; everything else has defaults. */
export interface TestingOrganization {
  readonly name?: string;
  readonly appIds?: readonly string[];
  readonly domainMode?: DomainMode;
  /** Entries as written in a policy (`*.acme.com`). */
  readonly allow?: readonly string[];
  readonly jwtMode?: JwtMode;
  readonly keys?: readonly JwtKeySpec[];
  readonly maxLifetimeMs?: number;
  readonly clockToleranceMs?: number;
  /** Secrets (named `key-<n>` after the organization) or whole admin keys. */
  readonly adminKeys?: readonly (string | AdminKeySpec)[];
  readonly widget?: Partial<WidgetSettings>;
}

/**
 * Builds an organization with the policy defaults (`15m` lifetime, `30s`
 * tolerance, the built-in limits, 1000 messages kept).
 *
 * @param id The organization id.
 * @param options The settings under test.
 * @returns A frozen organization spec.
 */
export function testingOrganization(
  id: string,
  options: TestingOrganization = {},
): OrganizationSpec {
  return Object.freeze({
    id,
    name: options.name ?? id,
    appIds: Object.freeze([...(options.appIds ?? [])]),
    domains: Object.freeze({
      mode: options.domainMode ?? "enforce",
      allow: Object.freeze((options.allow ?? []).map(domainPattern)),
    }),
    jwt: Object.freeze({
      mode: options.jwtMode ?? "off",
      keys: Object.freeze([...(options.keys ?? [])]),
      maxLifetimeMs: options.maxLifetimeMs ??
        BUILT_IN_DEFAULTS.jwt.maxLifetimeMs,
      clockToleranceMs: options.clockToleranceMs ??
        BUILT_IN_DEFAULTS.jwt.clockToleranceMs,
    }),
    limits: BUILT_IN_DEFAULTS.limits,
    widget: Object.freeze({
      unansweredAfterMs: DEFAULT_UNANSWERED_AFTER_MS,
      ...(options.widget ?? {}),
    }),
    adminKeys: Object.freeze(
      (options.adminKeys ?? []).map((key, index) =>
        typeof key === "string"
          ? Object.freeze({
            id: `key-${index + 1}`,
            name: options.name ?? id,
            secret: key,
          })
          : key
      ),
    ),
    maxMessages: DEFAULT_MAX_MESSAGES,
  });
}

/**
 * Builds a whole policy from organizations.
 *
 * @param organizations The organizations, ids unique.
 * @returns A frozen policy spec.
 */
export function testingPolicy(
  organizations: readonly OrganizationSpec[],
): PolicySpec {
  return Object.freeze({
    version: 1,
    server: BUILT_IN_SERVER,
    defaults: BUILT_IN_DEFAULTS,
    organizations: new Map(organizations.map((org) => [org.id, org])),
  });
}

/** Encodes bytes or a JSON value as unpadded base64url. */
export function base64url(value: Uint8Array | unknown): string {
  const bytes = value instanceof Uint8Array
    ? value
    : new TextEncoder().encode(JSON.stringify(value));
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

/**
 * A WebCrypto HMAC-SHA256 key of a secret's bytes, for one use.
 *
 * @param secret The key's bytes (copied, so the caller's stay its own).
 * @param usage What the key may do.
 * @returns The key, not extractable.
 */
export async function testingHmacKey(
  secret: Uint8Array,
  usage: "sign" | "verify",
): Promise<CryptoKey> {
  return await crypto.subtle.importKey(
    "raw",
    secret.slice(),
    { name: "HMAC", hash: "SHA-256" },
    false,
    [usage],
  );
}

/**
 * Signs a compact HS256 token by hand with WebCrypto, whatever the header
 * says, so tests can craft tokens that real libraries refuse to mint.
 *
 * @param secret The HMAC key's bytes.
 * @param claims The payload (any JSON value).
 * @param header The header; defaults to `{alg: "HS256", typ: "JWT"}`.
 * @returns `header.payload.signature`.
 */
export async function signTestingToken(
  secret: Uint8Array,
  claims: unknown,
  header: unknown = { alg: "HS256", typ: "JWT" },
): Promise<string> {
  const signingInput = `${base64url(header)}.${base64url(claims)}`;
  const key = await testingHmacKey(secret, "sign");
  const signature = await crypto.subtle.sign(
    "HMAC",
    key,
    new TextEncoder().encode(signingInput),
  );
  return `${signingInput}.${base64url(new Uint8Array(signature))}`;
}
