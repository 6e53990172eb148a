import assert from "node:assert/strict";
import {
  rateLimitDelay,
  reconnectDelay,
  sessionRenewalDelay,
} from "./backoff.ts";

const lowest = (): number => 0;
const highest = (): number => 0.999999;

Deno.test("rateLimitDelay() waits at least retryAfter and at most 25% more", () => {
  assert.equal(rateLimitDelay(12, lowest), 12_000);
  assert.equal(rateLimitDelay(12, highest), 15_000);
});

Deno.test("rateLimitDelay() waits one second when the server gave no hint", () => {
  assert.equal(rateLimitDelay(undefined, lowest), 1_000);
  assert.equal(rateLimitDelay(0, lowest), 1_000);
});

const reconnectRows: { attempt: number; min: number; max: number }[] = [
  { attempt: 0, min: 500, max: 1_000 },
  { attempt: 1, min: 1_000, max: 2_000 },
  { attempt: 3, min: 4_000, max: 8_000 },
  { attempt: 5, min: 15_000, max: 30_000 }, // 32 s capped at 30 s
  { attempt: 50, min: 15_000, max: 30_000 },
];
for (const row of reconnectRows) {
  Deno.test(`reconnectDelay() attempt ${row.attempt} waits ${row.min}–${row.max} ms`, () => {
    assert.equal(reconnectDelay(row.attempt, lowest), row.min);
    assert.equal(reconnectDelay(row.attempt, highest), row.max);
  });
}

const now = Date.parse("2026-01-01T00:00:00Z");
const renewalRows: { name: string; expiresAt: string; delay: number }[] = [
  {
    name: "a 15 minute session renews at 80% of its life",
    expiresAt: "2026-01-01T00:15:00Z",
    delay: 720_000,
  },
  {
    name: "a 4 minute session renews a minute before expiry",
    expiresAt: "2026-01-01T00:04:00Z",
    delay: 180_000,
  },

  {
    name: "an already expired session waits 5 s, not 0",
    expiresAt: "2025-12-31T23:00:00Z",
    delay: 5_000,
  },
  {
    name: "an unreadable expiry renews in a minute",
    expiresAt: "soon",
    delay: 60_000,
  },
  {
    name: "a far future expiry fits in setTimeout",
    expiresAt: "2030-01-01T00:00:00Z",
    delay: 2_147_483_647,
  },
];
for (const row of renewalRows) {
  Deno.test(`sessionRenewalDelay() ${row.name}`, () => {
    assert.equal(sessionRenewalDelay(row.expiresAt, now), row.delay);
  });
}
