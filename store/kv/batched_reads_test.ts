import assert from "node:assert/strict";
import { BatchedReads } from "./batched_reads.ts";

/** A real in-memory KV whose `getMany` calls are recorded by key count. */
async function countingStore(): Promise<
  { kv: Deno.Kv; calls: number[] } & AsyncDisposable
> {
  const kv = await Deno.openKv(":memory:");
  const calls: number[] = [];
  const counted = new Proxy(kv, {
    get(target, property) {
      if (property === "getMany") {
        return (keys: Deno.KvKey[]) => {
          calls.push(keys.length);
          return target.getMany(keys);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    kv: counted,
    calls,
    [Symbol.asyncDispose]: () => Promise.resolve(kv.close()),
  };
}

Deno.test("BatchedReads: 25 concurrent gets share 3 getMany calls and each gets its own entry", async () => {
  await using store = await countingStore();
  for (let i = 0; i < 25; i++) await store.kv.set(["k", i], `value ${i}`);
  const reads = new BatchedReads(store.kv);
  const entries = await Promise.all(
    Array.from({ length: 25 }, (_, i) => reads.get<string>(["k", i])),
  );
  assert.deepEqual(store.calls, [10, 10, 5]);
  entries.forEach((entry, i) => {
    assert.deepEqual(entry.key, ["k", i]);
    assert.equal(entry.value, `value ${i}`);
    assert.equal(typeof entry.versionstamp, "string");
  });
});

Deno.test("BatchedReads: an absent key reads as null, like kv.get", async () => {
  await using store = await countingStore();
  const reads = new BatchedReads(store.kv);
  assert.deepEqual(await reads.get(["missing"]), {
    key: ["missing"],
    value: null,
    versionstamp: null,
  });
});

Deno.test("BatchedReads: a get sees every write that completed before it was called", async () => {
  await using store = await countingStore();
  const reads = new BatchedReads(store.kv);
  for (let i = 1; i <= 5; i++) {
    await store.kv.set(["counter"], i);
    assert.equal((await reads.get<number>(["counter"])).value, i);
  }
});

Deno.test("BatchedReads: gets of a later turn start a new getMany", async () => {
  await using store = await countingStore();
  const reads = new BatchedReads(store.kv);
  await reads.get(["a"]);
  await reads.get(["b"]);
  assert.deepEqual(store.calls, [1, 1]);
});

Deno.test("BatchedReads: an invalid key fails its own read only", async () => {
  await using store = await countingStore();
  await store.kv.set(["ok"], "fine");
  const reads = new BatchedReads(store.kv);
  const [good, bad] = await Promise.allSettled([
    reads.get<string>(["ok"]),
    reads.get(["too long", "x".repeat(5000)]),
  ]);
  assert.equal(good.status === "fulfilled" && good.value.value, "fine");
  assert.equal(bad.status, "rejected");
});

Deno.test("BatchedReads: a closed store rejects every read", async () => {
  const kv = await Deno.openKv(":memory:");
  const reads = new BatchedReads(kv);
  kv.close();
  const results = await Promise.allSettled([
    reads.get(["a"]),
    reads.get(["b"]),
  ]);
  assert.deepEqual(results.map((result) => result.status), [
    "rejected",
    "rejected",
  ]);
});

Deno.test("BatchedReads: a locked store fails the whole batch without asking again key by key", async () => {
  const calls: number[] = [];
  const locked = {
    getMany(keys: Deno.KvKey[]) {
      calls.push(keys.length);
      return Promise.reject(new Error("database is locked"));
    },
  } as unknown as Deno.Kv;
  const reads = new BatchedReads(locked);
  const results = await Promise.allSettled([
    reads.get(["a"]),
    reads.get(["b"]),
    reads.get(["c"]),
  ]);
  assert.deepEqual(results.map((result) => result.status), [
    "rejected",
    "rejected",
    "rejected",
  ]);
  assert.deepEqual(calls, [3]);
});
