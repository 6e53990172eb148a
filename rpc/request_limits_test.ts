import assert from "node:assert/strict";
import type { LimitVerdict } from "../limits/rate_limiter.ts";
import { compilePolicy } from "../policy/compile.ts";
import type { AppliedLimit } from "./rate_limit_headers.ts";
import {
  applyVerdicts,
  AUTH_FAILURES_REASON,
  authFailuresLimit,
  ipLimit,
  organizationLimit,
} from "./request_limits.ts";
import { RpcError } from "./rpc_error.ts";

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

Deno.test("authFailuresLimit() counts a failed authentication and peeks for any other request", () => {
  const failed = authFailuresLimit(acme, "203.0.113.7", true);
  const other = authFailuresLimit(acme, "203.0.113.7", false);
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

Deno.test("applyVerdicts() leaves out a peek that admitted: it spent nothing of the request", () => {
  const applied: AppliedLimit[] = [];
  applyVerdicts(
    [
      ipLimit(evaluator, acme, "203.0.113.7"),
      authFailuresLimit(acme, "203.0.113.7", false),
      organizationLimit(acme),
    ],
    [admitted(19), admitted(10), admitted(99)],
    applied,
  );
  assert.deepEqual(applied.map((limit) => limit.name), ["ip", "organization"]);
});

Deno.test("applyVerdicts() refuses a spent failed-authentication limit with reason limits.auth_failures", () => {
  const applied: AppliedLimit[] = [];
  assert.throws(
    () =>
      applyVerdicts(
        [
          ipLimit(evaluator, acme, "203.0.113.7"),
          authFailuresLimit(acme, "203.0.113.7", false),
        ],
        [admitted(19), refused],
        applied,
      ),
    (error: unknown) =>
      error instanceof RpcError && error.code === "RATE_LIMITED" &&
      error.reason === AUTH_FAILURES_REASON &&
      error.retryAfter !== undefined && error.retryAfter >= 400 &&
      error.retryAfter <= 405,
  );
  assert.deepEqual(applied.map((limit) => [limit.name, limit.remaining]), [
    ["ip", 19],
    ["authFailures", 0],
  ]);
});

Deno.test("applyVerdicts() names the other limits' refusals limit.<name>, as before", () => {
  assert.throws(
    () => applyVerdicts([ipLimit(evaluator, acme, "1.2.3.4")], [refused], []),
    (error: unknown) =>
      error instanceof RpcError && error.reason === "limit.ip",
  );
});
