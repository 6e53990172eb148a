import assert from "node:assert/strict";
import { nextMessageId, parseMessageId } from "./message_id.ts";

Deno.test("nextMessageId() starts a conversation at the clock's time", () => {
  const id = nextMessageId(undefined, 1_700_000_000_123);
  assert.equal(id.length, 24);
  assert.deepEqual(parseMessageId(id), {
    time: 1_700_000_000_123,
    sequence: 0,
  });
});

Deno.test("nextMessageId() grows within one millisecond", () => {
  const first = nextMessageId(undefined, 5_000);
  const second = nextMessageId(first, 5_000);
  assert.ok(second > first);
  assert.deepEqual(parseMessageId(second), { time: 5_000, sequence: 1 });
});

Deno.test("nextMessageId() grows when the clock steps back", () => {
  const first = nextMessageId(undefined, 9_000);
  const second = nextMessageId(first, 1_000);
  assert.ok(second > first);
  assert.equal(parseMessageId(second)?.time, 9_000);
});

Deno.test("nextMessageId() carries a full sequence into the next millisecond", () => {
  const full = "000000001388" + "ffff" + "00000000";
  const next = nextMessageId(full, 5_000);
  assert.ok(next > full);
  assert.deepEqual(parseMessageId(next), { time: 5_001, sequence: 0 });
});

Deno.test("nextMessageId() sorts as strings in creation order", () => {
  const ids: string[] = [];
  let previous: string | undefined;
  for (const now of [10, 10, 11, 9, 300, 300, 299, 4_000]) {
    previous = nextMessageId(previous, now);
    ids.push(previous);
  }
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
});

Deno.test("parseMessageId() rejects what is not a message id", () => {
  for (const text of ["", "abc", "Z".repeat(24), "0".repeat(25), "../x"]) {
    assert.equal(parseMessageId(text), undefined, text);
  }
});
