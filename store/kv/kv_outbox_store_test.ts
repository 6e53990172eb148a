import assert from "node:assert/strict";
import { KvOutboxStore } from "./kv_outbox_store.ts";

Deno.test("KvOutboxStore moves the global due index of an older store to the per-organization queues on its first claim", async () => {
  using kv = await Deno.openKv(":memory:");
  // As the store before per-organization queues wrote them.
  for (
    const [organizationId, id, dueAt] of [["acme", "a1", 5], [
      "beta",
      "b1",
      7,
    ]] as const
  ) {
    await kv.atomic()
      .set(["outbox", "item", organizationId, id], {
        organizationId,
        id,
        kind: "message.created",
        body: "{}",
        dueAt,
        attempts: 0,
      })
      .set(["outbox", "due", dueAt, organizationId, id], null)
      .commit();
  }
  const outbox = new KvOutboxStore(kv);
  const claimed = await outbox.claim("host", 1_000, 10_000, 10);
  assert.deepEqual(claimed.map((item) => item.id), ["a1", "b1"]);
  const legacy = [];
  for await (const entry of kv.list({ prefix: ["outbox", "due"] })) {
    legacy.push(entry.key);
  }
  assert.deepEqual(legacy, []);
  for (const item of claimed) assert.equal(await outbox.finish(item), true);
  assert.equal(await outbox.size(), 0);
});
