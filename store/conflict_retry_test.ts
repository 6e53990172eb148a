import assert from "node:assert/strict";
import { done, LOST, retryConflicts } from "./conflict_retry.ts";
import { StoreUnavailableError } from "./store_unavailable_error.ts";

Deno.test("retryConflicts() tries again after each lost race and returns what the winning attempt wrote", async () => {
  let attempts = 0;
  const value = await retryConflicts("update", () => {
    attempts++;
    return Promise.resolve(attempts < 3 ? LOST : done("written"));
  });
  assert.equal(value, "written");
  assert.equal(attempts, 3);
});

Deno.test("retryConflicts() gives up after 30 lost races with a StoreUnavailableError naming the write", async () => {
  let attempts = 0;
  await assert.rejects(
    () =>
      retryConflicts("append", () => {
        attempts++;
        return Promise.resolve(LOST);
      }),
    (error: unknown) =>
      error instanceof StoreUnavailableError &&
      error.message === "Chat store stayed contended during append",
  );
  assert.equal(attempts, 30);
});
