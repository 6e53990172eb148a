import assert from "node:assert/strict";
import { KnownVersions } from "./known_versions.ts";

Deno.test("KnownVersions answers what was set last for a key", () => {
  const known = new KnownVersions<number>(4);
  known.set("a", 1);
  known.set("a", 2);
  assert.equal(known.get("a"), 2);
  assert.equal(known.get("b"), undefined);
  known.delete("a");
  assert.equal(known.get("a"), undefined);
});

Deno.test("KnownVersions holds at most its capacity, forgetting the least recently set first", () => {
  const known = new KnownVersions<number>(3);
  for (const [key, value] of [["a", 1], ["b", 2], ["c", 3]] as const) {
    known.set(key, value);
  }
  // Set again, "a" is the most recent: "b" is now the oldest.
  known.set("a", 4);
  known.set("d", 5);
  assert.equal(known.size, 3);
  assert.equal(known.get("b"), undefined);
  assert.deepEqual(
    ["a", "c", "d"].map((key) => known.get(key)),
    [4, 3, 5],
  );
  for (let index = 0; index < 1_000; index++) known.set(`k${index}`, index);
  assert.equal(known.size, 3);
  assert.equal(known.get("k999"), 999);
});
