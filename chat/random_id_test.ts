import assert from "node:assert/strict";
import { randomId } from "./random_id.ts";

Deno.test("randomId() is URL-safe and carries the requested bytes", () => {
  const id = randomId(18);
  assert.match(id, /^[A-Za-z0-9_-]{24}$/);
  assert.match(randomId(16), /^[A-Za-z0-9_-]{22}$/);
});

Deno.test("randomId() does not repeat", () => {
  const ids = new Set(Array.from({ length: 1_000 }, () => randomId(16)));
  assert.equal(ids.size, 1_000);
});
