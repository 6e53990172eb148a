import assert from "node:assert/strict";
import type { SecurityReport } from "../wire/mod.ts";
import {
  relativeTime,
  summarizeSecurityReport,
  windowInWords,
} from "./security_summary.ts";

const NOW = Date.UTC(2026, 11, 10, 12, 0);
const ago = (ms: number) => new Date(NOW - ms).toISOString();
const DAY = 24 * 3_600_000;

/** The example: 5,120 boots admitted, 112 without a valid token. */
function report(overrides: Partial<SecurityReport> = {}): SecurityReport {
  return {
    organizationId: "acme",
    hours: 24,
    from: ago(23 * 3_600_000),
    to: new Date(NOW).toISOString(),
    modes: { jwt: "optional", domains: "report" },
    boots: {
      total: 5_135,
      verified: 5_008,
      absent: 112,
      invalid: 15,
      admitted: 5_120,
    },
    invalidReasons: { "jwt.expired": 12, "jwt.signature": 3 },
    keys: [
      { id: "2026-11", verified: 5_008, lastSeen: ago(60_000) },
      { id: "2026-08", verified: 0, lastSeen: ago(3 * DAY) },
    ],
    origins: [],
    ifRequired: {
      refused: 112,
      origins: [
        { origin: "https://shop.acme.com", refused: 100 },
        { origin: "https://blog.acme.com", refused: 12 },
      ],
    },
    ifEnforced: {
      refused: 0,
      origins: [],
    },
    authFailures: {
      limit: "10/10m",
      invalidTokens: 15,
      wrongAdminKeys: 1,
      blocked: 4,
    },
    hourly: [],
    ...overrides,
  };
}

Deno.test("summarizeSecurityReport() says the issue's example in words", () => {
  const summary = summarizeSecurityReport(report(), NOW);
  assert.equal(
    summary.tokens,
    "97.8% of the 5,120 boots admitted in the last 24 h carried a valid token.",
  );
  assert.equal(
    summary.required,
    "`required` would have refused 112 of 5,120, from these origins: https://shop.acme.com (100), https://blog.acme.com (12).",
  );
  assert.equal(
    summary.enforced,
    "`enforce` would have refused none of 5,120: it is safe to switch.",
  );
  assert.equal(
    summary.invalid,
    "15 boots carried an invalid token: jwt.expired 12, jwt.signature 3.",
  );
  assert.equal(
    summary.throttle,
    "The failed-authentication limit (10/10m per address) blocked 4 requests. 1 wrong admin key was tried.",
  );
  assert.deepEqual(summary.keys, [
    {
      id: "2026-11",
      advice: "in_use",
      text: "key 2026-11 last used 1 minute ago: still in use",
    },
    {
      id: "2026-08",
      advice: "retire",
      text: "key 2026-08 last used 3 days ago: safe to retire",
    },
  ]);
});

Deno.test("summarizeSecurityReport() retires a key only while another one is in use", () => {
  const keys = (lastSeen: string | null) => [
    { id: "2026-11", verified: 0, lastSeen: null },
    { id: "2026-08", verified: 0, lastSeen },
  ];
  const none = summarizeSecurityReport(
    report({ keys: keys(ago(3 * DAY)) }),
    NOW,
  );
  assert.deepEqual(none.keys.map((key) => key.advice), ["idle", "idle"]);
  assert.equal(none.keys[0]!.text, "key 2026-11 not used in the last 7 days");
  const one = summarizeSecurityReport(
    report({ keys: keys(ago(DAY - 60_000)) }),
    NOW,
  );
  assert.deepEqual(one.keys.map((key) => key.advice), ["retire", "in_use"]);
  assert.equal(
    one.keys[0]!.text,
    "key 2026-11 not used in the last 7 days: safe to retire",
  );
});

Deno.test("summarizeSecurityReport() tells a key past its until to be removed", () => {
  const summary = summarizeSecurityReport(
    report({
      keys: [{
        id: "2026-08",
        verified: 0,
        lastSeen: ago(9 * DAY),
        until: ago(DAY),
      }],
    }),
    NOW,
  );
  assert.equal(summary.keys[0]!.advice, "remove");
  assert.equal(
    summary.keys[0]!.text,
    `key 2026-08 is refused since ${
      ago(DAY).slice(0, 10)
    }: remove it from the policy`,
  );
});

Deno.test("summarizeSecurityReport() says what each mode can and cannot tell", () => {
  const off = summarizeSecurityReport(
    report({ modes: { jwt: "off", domains: "off" } }),
    NOW,
  );
  assert.match(off.required, /^`jwt\.mode` is `off`/);
  assert.match(off.enforced, /^`domains\.mode` is `off`/);
  // No token is verified under `off`: no share of valid tokens is claimed.
  assert.doesNotMatch(off.tokens, /%/);
  assert.match(off.tokens, /not checked/);
  assert.match(off.required, /`optional`.*share of boots with a valid token/);
  const strict = summarizeSecurityReport(
    report({ modes: { jwt: "required", domains: "enforce" } }),
    NOW,
  );
  assert.match(strict.required, /^`jwt\.mode` is `required`/);
  assert.match(strict.enforced, /^`domains\.mode` is `enforce`/);
  const quiet = summarizeSecurityReport(
    report({
      boots: { total: 0, verified: 0, absent: 0, invalid: 0, admitted: 0 },
    }),
    NOW,
  );
  assert.equal(quiet.tokens, "No boots were admitted in the last 24 h.");
  assert.equal(quiet.invalid, undefined);
});

Deno.test("summarizeSecurityReport() never rounds a share short of all up to 100%", () => {
  const summary = summarizeSecurityReport(
    report({
      boots: {
        total: 5120,
        verified: 5119,
        absent: 1,
        invalid: 0,
        admitted: 5120,
      },
    }),
    NOW,
  );
  assert.match(summary.tokens, /^99\.9% of/);
});

Deno.test("summarizeSecurityReport() names five origins and counts the rest", () => {
  const origins = Array.from({ length: 8 }, (_, index) => ({
    origin: `https://site-${index}.example`,
    refused: 8 - index,
  }));
  const summary = summarizeSecurityReport(
    report({ ifEnforced: { refused: 36, origins } }),
    NOW,
  );
  assert.equal(
    summary.enforced,
    "`enforce` would have refused 36 of 5,120, from these origins: https://site-0.example (8), https://site-1.example (7), https://site-2.example (6), https://site-3.example (5), https://site-4.example (4) and 3 more.",
  );
});

Deno.test("relativeTime() and windowInWords() read as people write", () => {
  assert.equal(relativeTime(30_000), "just now");
  assert.equal(relativeTime(5 * 60_000), "5 minutes ago");
  assert.equal(relativeTime(3 * 3_600_000), "3 hours ago");
  assert.equal(relativeTime(47 * 3_600_000), "47 hours ago");
  assert.equal(relativeTime(3 * DAY + 60_000), "3 days ago");
  assert.equal(windowInWords(24), "24 h");
  assert.equal(windowInWords(1), "1 h");
  assert.equal(windowInWords(168), "7 days");
  assert.equal(windowInWords(50), "50 h");
});
