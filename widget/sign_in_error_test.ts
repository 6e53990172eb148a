import assert from "node:assert/strict";
import { signInError } from "./sign_in_error.ts";

Deno.test("signInError() says a refused key was not accepted for that organization, and clears only the key", () => {
  const refused = signInError(
    { code: "SESSION_INVALID", reason: "agent.key_invalid" },
    "acme",
  );
  assert.match(
    refused.text,
    /admin key was not accepted for organization “acme”/,
  );
  assert.equal(refused.keyRefused, true);
});

const ROWS: [string, Parameters<typeof signInError>[0], RegExp][] = [
  [
    "an unknown organization",
    { code: "ORGANIZATION_NOT_FOUND" },
    /no organization “acme”/,
  ],
  [
    "a spent failed-sign-in limit",
    { code: "RATE_LIMITED", retryAfter: 41.2 },
    /Try again in 42 s/,
  ],
  [
    "an unreachable server",
    { code: "UNAVAILABLE", reason: "network" },
    /could not be reached/,
  ],
  [
    "a store outage",
    { code: "UNAVAILABLE", reason: "store.unavailable" },
    /cannot reach its storage/,
  ],
  [
    "anything else, by its code",
    { code: "INTERNAL" },
    /Sign-in failed \(INTERNAL\)/,
  ],
];

for (const [name, failure, says] of ROWS) {
  Deno.test(`signInError() words ${name}, keeping the key`, () => {
    const error = signInError(failure, "acme");
    assert.match(error.text, says);
    assert.equal(error.keyRefused, false);
  });
}
