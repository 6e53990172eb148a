import {
  deepStrictEqual as deepEqual,
  strictEqual as equal,
} from "node:assert/strict";
import { activeKey, isKeyActive } from "./user_token.ts";

const UNTIL = Date.parse("2026-12-15T00:00:00Z");

Deno.test("isKeyActive() keeps a key in force through its until instant, and not a millisecond after", () => {
  equal(isKeyActive({ until: UNTIL }, UNTIL - 1), true);
  equal(isKeyActive({ until: UNTIL }, UNTIL), true);
  equal(isKeyActive({ until: UNTIL }, UNTIL + 1), false);
  equal(isKeyActive({}, Number.MAX_SAFE_INTEGER), true);
});

const KEYS = [
  { id: "2026-08", until: UNTIL },
  { id: "2026-11" },
];

Deno.test("activeKey() takes the first key in force, or the key named, in force or not", () => {
  deepEqual(activeKey(KEYS, UNTIL)?.id, "2026-08");
  deepEqual(activeKey(KEYS, UNTIL + 1)?.id, "2026-11");
  deepEqual(activeKey(KEYS, UNTIL + 1, "2026-08")?.id, "2026-08");
  equal(activeKey(KEYS, UNTIL, "2027-01"), undefined);
  equal(activeKey([{ id: "old", until: UNTIL }], UNTIL + 1), undefined);
});
