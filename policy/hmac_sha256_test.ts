import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { hmacSha256 } from "./hmac_sha256.ts";

const utf8 = new TextEncoder();
const messages: (string | Uint8Array)[] = [
  "",
  "v1.eyJzZXNzaW9uSWQiOiJhYmMifQ",
  "ünïcödé ✓ 🙂",
  "x".repeat(10_000),
  utf8.encode("bytes, not text"),
  new Uint8Array(0),
];

Deno.test("hmacSha256() equals createHmac for keys shorter than, as long as and longer than a block", () => {
  for (const length of [0, 1, 31, 32, 63, 64, 65, 100, 200]) {
    const key = crypto.getRandomValues(new Uint8Array(length));
    const sign = hmacSha256(key);
    for (const message of messages) {
      const expected = createHmac("sha256", key).update(message).digest();
      assert.deepEqual(
        [...sign(message)],
        [...expected],
        `key of ${length} bytes, message of ${message.length}`,
      );
    }
  }
});

Deno.test("hmacSha256() answers the same MAC however often and in whatever order it is asked", () => {
  const sign = hmacSha256(utf8.encode("k".repeat(32)));
  const first = [...sign("a")];
  sign("b".repeat(1_000));
  assert.deepEqual([...sign("a")], first);
  assert.notDeepEqual([...sign("b")], first);
});

Deno.test("hmacSha256() keeps working after the caller overwrites the key it was given", () => {
  const key = utf8.encode("s".repeat(40));
  const expected = createHmac("sha256", key).update("m").digest();
  const sign = hmacSha256(key);
  key.fill(0);
  assert.deepEqual([...sign("m")], [...expected]);
});
