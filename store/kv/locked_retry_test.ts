import assert from "node:assert/strict";
import { isDatabaseLocked, retryWhileLocked } from "./locked_retry.ts";

Deno.test("isDatabaseLocked() recognises SQLite lock contention only", () => {
  assert.equal(isDatabaseLocked(new TypeError("database is locked")), true);
  assert.equal(isDatabaseLocked(new Error("Database is busy")), true);
  assert.equal(isDatabaseLocked(new Error("Value too large")), false);
  assert.equal(isDatabaseLocked("database is locked"), false);
});

Deno.test("retryWhileLocked() repeats a locked call until it succeeds", async () => {
  let calls = 0;
  const result = await retryWhileLocked(() => {
    calls++;
    if (calls < 3) {
      return Promise.reject(new TypeError("database is locked"));
    }
    return Promise.resolve("committed");
  }, { baseDelayMs: 1 });
  assert.equal(result, "committed");
  assert.equal(calls, 3);
});

Deno.test("retryWhileLocked() gives up after the bounded attempts", async () => {
  let calls = 0;
  await assert.rejects(
    retryWhileLocked(() => {
      calls++;
      return Promise.reject(new TypeError("database is locked"));
    }, { maxAttempts: 4, baseDelayMs: 1 }),
    /database is locked/,
  );
  assert.equal(calls, 4);
});

Deno.test("retryWhileLocked() rethrows other errors at once", async () => {
  let calls = 0;
  await assert.rejects(
    retryWhileLocked(() => {
      calls++;
      return Promise.reject(new RangeError("Value too large"));
    }),
    RangeError,
  );
  assert.equal(calls, 1);
});
