import assert from "node:assert/strict";
import type { LimitVerdict } from "../limits/rate_limiter.ts";
import { compilePolicy } from "../policy/compile.ts";
import {
  type ChainOutcome,
  ipLimit,
  limitChain,
  limitOf,
  readVerdicts,
} from "./request_limits.ts";

const evaluator = compilePolicy(`version: 1
organizations:
  acme:
    limits: { ip: 20/minute, authFailures: 10/10m }
`);
const acme = evaluator.organization("acme")!;

const admitted = (remaining: number): LimitVerdict => ({
  allowed: true,
  limit: 10,
  remaining,
  resetMs: 1_000,
});
const refused: LimitVerdict = {
  allowed: false,
  limit: 10,
  remaining: 0,
  resetMs: 400_000,
  retryAfterMs: 400_000,
};

Deno.test('limitOf("authFailures") counts a failed authentication and peeks for any other request', () => {
  const ip = "203.0.113.7";
  const failed = limitOf("authFailures", acme, {
    ip,
    failedAuthentication: true,
  });
  const other = limitOf("authFailures", acme, { ip });
  assert.equal(failed.peek, undefined);
  assert.equal(other.peek, true);
  for (const limit of [failed, other]) {
    assert.equal(limit.name, "authFailures");
    assert.equal(limit.organizationId, "acme");
    assert.equal(limit.bucket, "auth:203.0.113.7");
    assert.equal(limit.rate.text, "10/10m");
  }
  assert.notEqual(
    failed.bucket,
    ipLimit(evaluator, acme, "203.0.113.7").bucket,
  );
});

Deno.test("readVerdicts() leaves out a peek that admitted: it spent nothing of the request", () => {
  const outcome = readVerdicts(
    limitChain(["ip", "authFailures", "organization"], acme, {
      ip: "203.0.113.7",
    }),
    [admitted(19), admitted(10), admitted(99)],
  );
  assert.equal(outcome.admitted, true);
  assert.deepEqual(outcome.charged.map((limit) => limit.name), [
    "ip",
    "organization",
  ]);
});

/** The refusal of a chain that a limit refused; fails the test otherwise. */
function refusalOf(outcome: ChainOutcome) {
  assert.equal(outcome.admitted, false);
  if (outcome.admitted) throw new Error("admitted");
  return outcome;
}

Deno.test("readVerdicts() refuses a spent failed-authentication limit with reason limits.auth_failures", () => {
  const outcome = refusalOf(readVerdicts(
    limitChain(["ip", "authFailures"], acme, { ip: "203.0.113.7" }),
    [admitted(19), refused],
  ));
  const error = outcome.refusal;
  assert.ok(
    error.code === "RATE_LIMITED" &&
      error.reason === "limits.auth_failures" &&
      error.retryAfter !== undefined && error.retryAfter >= 400 &&
      error.retryAfter <= 405,
  );
  assert.equal(outcome.refusedBy.name, "authFailures");
  assert.deepEqual(
    outcome.charged.map((limit) => [limit.name, limit.remaining]),
    [
      ["ip", 19],
      ["authFailures", 0],
    ],
  );
});

Deno.test("readVerdicts() names the other limits' refusals limit.<name>, as before", () => {
  const outcome = refusalOf(
    readVerdicts([ipLimit(evaluator, acme, "1.2.3.4")], [refused]),
  );
  assert.equal(outcome.refusal.reason, "limit.ip");
});
