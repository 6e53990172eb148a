import assert from "node:assert/strict";
import { StoreDataError } from "../store_data_error.ts";
import { StoreUnavailableError } from "../store_unavailable_error.ts";
import { isDatabaseLocked, kvCall, retryWhileLocked } from "./locked_retry.ts";

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

Deno.test("kvCall() reports a value Deno KV refuses as StoreDataError, and a closed store as unavailable", async () => {
  const kv = await Deno.openKv(":memory:");
  await assert.rejects(
    kvCall("Presence", () => kv.set(["big"], "x".repeat(70_000))),
    (error: unknown) =>
      error instanceof StoreDataError && error.kind === "other",
  );
  kv.close();
  await assert.rejects(
    kvCall("Presence", () => kv.get(["big"])),
    StoreUnavailableError,
  );
});
