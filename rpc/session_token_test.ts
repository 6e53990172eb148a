import assert from "node:assert/strict";
import { RpcError } from "./rpc_error.ts";
import {
  matchesSessionOrigin,
  MAX_SESSION_TOKEN_LENGTH,
  type SessionClaims,
  sessionOrigin,
  SessionSigner,
} from "./session_token.ts";

const secret = new TextEncoder().encode(
  "session-secret-0123456789abcdef0123456789",
);
const claims: SessionClaims = {
  sessionId: "s1",
  organizationId: "acme",
  origin: "https://shop.acme.com",
  participant: { kind: "user", subject: "user_1" },
  verified: true,
  attributes: { name: "Ada", userData: { plan: "pro" } },
  securityRevision: "abc",
  expiresAt: 2_000_000,
};

function reasonOf(verify: () => unknown): string | undefined {
  try {
    verify();
  } catch (error) {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, "SESSION_INVALID");
    return error.reason;
  }
  return undefined;
}

Deno.test("SessionSigner round-trips its own tokens until they expire", () => {
  const signer = new SessionSigner(secret);
  const token = signer.issue(claims);
  assert.deepEqual(signer.verify(token, 1_999_999), claims);
  assert.equal(
    reasonOf(() => signer.verify(token, 2_000_000)),
    "session.expired",
  );
});

Deno.test("SessionSigner refuses tokens it did not sign as they are", () => {
  const signer = new SessionSigner(secret);
  const other = new SessionSigner(
    new TextEncoder().encode("another-secret-0123456789abcdef012345678"),
  );
  const token = signer.issue(claims);
  const [prefix, payload, signature] = token.split(".");
  const forged = btoa(
    JSON.stringify({
      ...claims,
      verified: true,
      participant: { kind: "user", subject: "admin" },
    }),
  )
    .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  const rows: [string, string, string][] = [
    ["another server's secret", other.issue(claims), "session.signature"],
    [
      "a swapped payload",
      `${prefix}.${forged}.${signature}`,
      "session.signature",
    ],
    ["no signature", `${prefix}.${payload}.`, "session.signature"],
    ["two parts", `${prefix}.${payload}`, "session.malformed"],
    ["another version", `v2.${payload}.${signature}`, "session.malformed"],
    [
      "non-base64url signature",
      `${prefix}.${payload}.%%%`,
      "session.malformed",
    ],
    ["a padded signature", `${token}=`, "session.malformed"],
    [
      "the signature's unused bits set (same bytes, other text)",
      `${prefix}.${payload}.${signature!.slice(0, -1)}${
        nudgeUnusedBits(signature!.at(-1)!)
      }`,
      "session.malformed",
    ],
    [
      "an oversized token",
      `${prefix}.${"A".repeat(MAX_SESSION_TOKEN_LENGTH)}.${signature}`,
      "session.malformed",
    ],
  ];
  for (const [name, candidate, reason] of rows) {
    assert.equal(reasonOf(() => signer.verify(candidate, 0)), reason, name);
  }
});

Deno.test("SessionSigner carries the largest boot attributes (user_data of 4 KiB) within its length bound", () => {
  const signer = new SessionSigner(secret);
  const largest: SessionClaims = {
    ...claims,
    participant: { kind: "user", subject: "u".repeat(256) },
    attributes: {
      userId: "u".repeat(256),
      email: "\u00e9".repeat(254),
      name: "\u4e2d".repeat(200),
      userData: { blob: "\u00e9".repeat(2040) },
    },
  };
  const token = signer.issue(largest);
  assert.ok(token.length <= MAX_SESSION_TOKEN_LENGTH, `${token.length}`);
  assert.deepEqual(signer.verify(token, 0), largest);
});

Deno.test("SessionSigner needs a secret of at least 32 bytes", () => {
  assert.throws(
    () => new SessionSigner(new TextEncoder().encode("short")),
    RangeError,
  );
});

Deno.test("sessionOrigin() binds sessions to the normalised page origin", () => {
  const rows: [string | null, string | null][] = [
    ["HTTPS://Shop.Acme.com:443", "https://shop.acme.com"],
    ["http://localhost:3000", "http://localhost:3000"],
    ["null", "null"],
    [null, null],
  ];
  for (const [origin, bound] of rows) {
    assert.equal(sessionOrigin(origin), bound, String(origin));
  }
});

Deno.test("matchesSessionOrigin() accepts the bound origin however it is spelled, and nothing else", () => {
  const bound = sessionOrigin("https://shop.acme.com");
  const rows: [string | null, boolean][] = [
    ["https://shop.acme.com", true],
    ["HTTPS://Shop.Acme.com:443", true],
    ["https://shop.acme.com:8443", false],
    ["http://shop.acme.com", false],
    ["https://evil.test", false],
    ["null", false],
    [null, false],
  ];
  for (const [origin, matches] of rows) {
    assert.equal(matchesSessionOrigin(origin, bound), matches, String(origin));
  }
  assert.equal(matchesSessionOrigin(null, sessionOrigin(null)), true);
});

/** The base64url character one above `last`: a 32-byte signature's last character carries 2 unused bits. */
function nudgeUnusedBits(last: string): string {
  const alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  return alphabet[alphabet.indexOf(last) + 1]!;
}
