import assert from "node:assert/strict";
import { KvConversationStore } from "./kv_conversation_store.ts";

Deno.test("KvConversationStore.purge() drops an expiry index entry whose conversation is gone, and counts nothing purged", async () => {
  using kv = await Deno.openKv(":memory:");
  // An expiry index entry with no conversation stored under its id.
  const stale = ["chat", "acme", "by-updated", 1_000, "gone"];
  await kv.set(stale, null);
  const store = new KvConversationStore(kv, () => {});
  assert.equal(await store.purge("acme", 2_000), 0);
  assert.equal((await kv.get(stale)).versionstamp, null);
});
