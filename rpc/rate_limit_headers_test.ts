import assert from "node:assert/strict";
import {
  type AppliedLimit,
  rateLimitHeaders,
  retryAfterSeconds,
  tightestLimit,
} from "./rate_limit_headers.ts";

const ip: AppliedLimit = {
  name: "ip",
  limit: 20,
  windowMs: 60_000,
  remaining: 17,
  resetMs: 41_200,
};
const organization: AppliedLimit = {
  name: "organization",
  limit: 100,
  windowMs: 60_000,
  remaining: 3,
  resetMs: 41_200,
};

Deno.test("rateLimitHeaders() writes the IETF draft's structured lists", () => {
  assert.deepEqual(rateLimitHeaders([ip, organization]), [
    ["RateLimit-Policy", '"ip";q=20;w=60, "organization";q=100;w=60'],
    ["RateLimit", '"ip";r=17;t=42, "organization";r=3;t=42'],
  ]);
  assert.deepEqual(rateLimitHeaders([]), []);
});

Deno.test("tightestLimit() picks the fewest remaining, then the later reset", () => {
  assert.deepEqual(tightestLimit([ip, organization]), {
    limit: 100,
    remaining: 3,
    reset: 42,
  });
  const later = { ...ip, remaining: 3, resetMs: 50_000 };
  assert.deepEqual(tightestLimit([organization, later]), {
    limit: 20,
    remaining: 3,
    reset: 50,
  });
  assert.equal(tightestLimit([]), undefined);
});

Deno.test("retryAfterSeconds() waits out the window plus bounded jitter", () => {
  for (let i = 0; i < 200; i++) {
    const seconds = retryAfterSeconds(12_300, 60_000);
    assert.ok(seconds >= 13 && seconds <= 13 + 5, `${seconds}`);
    assert.ok(Number.isInteger(seconds));
  }
  assert.equal(retryAfterSeconds(0, 1_000), 1);
});
