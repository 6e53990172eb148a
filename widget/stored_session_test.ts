import assert from "node:assert/strict";
import type { WidgetConfig } from "../wire/mod.ts";
import {
  forgetStoredSession,
  identityOf,
  isReusable,
  readStoredSession,
  REUSE_MARGIN_MS,
  reuseMargin,
  sessionKey,
  type SessionStorage,
  type StoredSession,
  tokenSubject,
  writeStoredSession,
} from "./stored_session.ts";

const NOW = 1_800_000_000_000;
const MINUTE = 60_000;

const config = {
  organizationId: "acme",
  name: "Acme",
  widget: {
    title: "Acme Support",
    greeting: "Hi!",
    language: "en",
    color: "#0b5fff",
    position: "right",
  },
  jwt: { mode: "off" },
  domains: { mode: "enforce" },
  limits: { organization: "100/minute", ip: "20/minute" },
  agentsOnline: false,
  withinHours: true,
} satisfies WidgetConfig;

function stored(changes: Partial<StoredSession> = {}): StoredSession {
  return {
    token: "v1.payload.signature",
    expiresAt: NOW + 30 * MINUTE,
    lifetime: 30 * MINUTE,
    identity: "visitor:v-1",
    inputs: "[null,null,null]",
    config,
    conversation: false,
    ...changes,
  };
}

/** A JWT whose payload says `claims` (unsigned: the widget never verifies). */
function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) =>
    btoa(
      String.fromCharCode(...new TextEncoder().encode(JSON.stringify(value))),
    )
      .replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${part({ alg: "HS256" })}.${part(claims)}.signature`;
}

class MapStorage implements SessionStorage {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

/** Safari private mode and blocked cookies: every access throws. */
const throwingStorage: SessionStorage = {
  getItem() {
    throw new DOMException("denied", "SecurityError");
  },
  setItem() {
    throw new DOMException("quota", "QuotaExceededError");
  },
  removeItem() {
    throw new DOMException("denied", "SecurityError");
  },
};

Deno.test("sessionKey() keeps installations apart by API base URL, organization and app id", () => {
  const keys = [
    sessionKey("https://chat.example.com", "acme", undefined),
    sessionKey("https://chat.example.com/", "acme", undefined),
    sessionKey("https://other.example.com", "acme", undefined),
    sessionKey("https://chat.example.com", "globex", undefined),
    sessionKey("https://chat.example.com", "acme", "acme_web"),
  ];
  assert.equal(keys[0], keys[1], "a trailing slash is the same base URL");
  assert.equal(new Set(keys).size, 4);
  // Parts cannot run into each other.
  assert.notEqual(
    sessionKey("https://a", "b|c", undefined),
    sessionKey("https://a|b", "c", undefined),
  );
});

Deno.test("tokenSubject() reads sub without verifying, and nothing from what is not a JWT", () => {
  assert.equal(tokenSubject(jwt({ sub: "alice" })), "alice");
  assert.equal(tokenSubject(jwt({ sub: "ü-ñ-用户" })), "ü-ñ-用户");
  for (const token of ["", "abc", "a.b.c", jwt({ sub: 42 }), jwt({})]) {
    assert.equal(tokenSubject(token), undefined, token);
  }
});

Deno.test("identityOf() is the token's sub, else the anonymous visitor id", () => {
  assert.equal(identityOf(jwt({ sub: "alice" }), "v-1"), "user:alice");
  assert.equal(identityOf(undefined, "v-1"), "visitor:v-1");
  assert.equal(identityOf("", "v-1"), "visitor:v-1");
  assert.equal(identityOf(undefined, undefined), "visitor:");
  // Two unreadable tokens are two identities; the same one is one.
  assert.notEqual(
    identityOf("x.y.z", undefined),
    identityOf("q.r.s", undefined),
  );
  assert.equal(identityOf("x.y.z", undefined), identityOf("x.y.z", undefined));
});

Deno.test("reuseMargin() is a minute, or a third of a shorter lifetime", () => {
  assert.equal(reuseMargin(30 * MINUTE), REUSE_MARGIN_MS);
  assert.equal(reuseMargin(3 * MINUTE), REUSE_MARGIN_MS);
  assert.equal(reuseMargin(20_000), 20_000 / 3);
  assert.equal(reuseMargin(-5), 0);
});

const reuseRows: {
  name: string;
  session: StoredSession | undefined;
  identity?: string;
  inputs?: string;
  now?: number;
  reusable: boolean;
}[] = [
  {
    name: "the same visitor with time left",
    session: stored(),
    reusable: true,
  },
  {
    name: "exactly a minute left",
    session: stored({ expiresAt: NOW + MINUTE }),
    reusable: true,
  },
  {
    name: "less than a minute left",
    session: stored({ expiresAt: NOW + MINUTE - 1 }),
    reusable: false,
  },
  {
    name: "expired",
    session: stored({ expiresAt: NOW - 1 }),
    reusable: false,
  },
  {
    name: "a 20 s lifetime with 7 s left (a third of it)",
    session: stored({ expiresAt: NOW + 7_000, lifetime: 20_000 }),
    reusable: true,
  },
  {
    name: "a 20 s lifetime with 6 s left",
    session: stored({ expiresAt: NOW + 6_000, lifetime: 20_000 }),
    reusable: false,
  },
  { name: "nothing stored", session: undefined, reusable: false },
  {
    name: "another anonymous visitor id",
    session: stored(),
    identity: "visitor:v-2",
    reusable: false,
  },
  {
    name: "a token where there was none",
    session: stored(),
    identity: "user:alice",
    reusable: false,
  },
  {
    name: "no token where there was one",
    session: stored({ identity: "user:alice" }),
    identity: "visitor:v-1",
    reusable: false,
  },
  {
    name: "a token with a different sub",
    session: stored({ identity: "user:alice" }),
    identity: "user:bob",
    reusable: false,
  },
  {
    name: "a token with the same sub",
    session: stored({ identity: "user:alice" }),
    identity: "user:alice",
    reusable: true,
  },
  {
    name: "other unverified attributes (a new name)",
    session: stored(),
    inputs: '[null,null,"Ada"]',
    reusable: false,
  },
];
for (const row of reuseRows) {
  Deno.test(`isReusable() is ${row.reusable} for ${row.name}`, () => {
    assert.equal(
      isReusable(
        row.session,
        row.identity ?? "visitor:v-1",
        row.inputs ?? "[null,null,null]",
        row.now ?? NOW,
      ),
      row.reusable,
    );
  });
}

Deno.test("a stored session reads back as written, and forget removes it", () => {
  const storage = new MapStorage();
  const key = sessionKey("https://chat.example.com", "acme", undefined);
  assert.equal(readStoredSession(key, storage), undefined);
  const session = stored({ conversation: true });
  writeStoredSession(key, session, storage);
  assert.deepEqual(readStoredSession(key, storage), session);
  forgetStoredSession(key, storage);
  assert.equal(readStoredSession(key, storage), undefined);
});

Deno.test("readStoredSession() ignores what is not a session (another version, tampering, junk)", () => {
  const storage = new MapStorage();
  const key = "k";
  const { conversation: _, ...withoutFlag } = stored();
  for (
    const value of [
      "not json",
      "null",
      "[]",
      JSON.stringify({ token: "t" }),
      JSON.stringify({ ...stored(), expiresAt: "tomorrow" }),
      JSON.stringify({ ...stored(), config: null }),
      JSON.stringify(withoutFlag),
    ]
  ) {
    storage.setItem(key, value);
    assert.equal(readStoredSession(key, storage), undefined, value);
  }
});

Deno.test("storage that throws reads as nothing stored, and writing or forgetting never throws", () => {
  const key = "k";
  assert.equal(readStoredSession(key, throwingStorage), undefined);
  writeStoredSession(key, stored(), throwingStorage);
  forgetStoredSession(key, throwingStorage);
  assert.equal(readStoredSession(key, undefined), undefined);
});
