import assert from "node:assert/strict";
import { createKvStore } from "./kv/kv_store.ts";
import { OutageTracker, watchOutages } from "./outage_watch.ts";
import { StoreUnavailableError } from "./store_unavailable_error.ts";

const down = new StoreUnavailableError("Cannot reach PostgreSQL");

/** A tracker on a hand-moved clock whose probe answers as `reachable` says. */
function tracker() {
  let now = 1_000_000;
  let reachable = true;
  const lines: string[] = [];
  const outages = new OutageTracker(
    "postgres db.internal:5432/parley",
    () => reachable ? Promise.resolve() : Promise.reject(down),
    { log: (line) => lines.push(line), now: () => now, probeIntervalMs: 1000 },
  );
  return {
    outages,
    lines,
    advance: (ms: number) => now += ms,
    set reachable(value: boolean) {
      reachable = value;
    },
  };
}

Deno.test("OutageTracker says once that the store is gone, however many calls fail", () => {
  const { outages, lines, advance } = tracker();
  for (let call = 0; call < 50; call++) {
    outages.failed(down);
    advance(10);
  }
  outages.stop();
  assert.deepEqual(lines, [
    "parley: store postgres db.internal:5432/parley unavailable: Cannot reach PostgreSQL",
  ]);
  assert.equal(outages.unavailable, true);
});

Deno.test("OutageTracker says once that it is back, with the outage's length and failed calls", async () => {
  const state = tracker();
  state.outages.failed(down);
  state.advance(400);
  state.outages.failed(down);
  state.advance(1000);
  state.reachable = false;
  assert.equal(await state.outages.probe(), false, "still unreachable");
  state.reachable = true;
  assert.equal(
    await state.outages.probe(),
    false,
    "a failed probe is a failure: a clean interval has not passed",
  );
  state.advance(2_600);
  assert.equal(await state.outages.probe(), true);
  assert.equal(await state.outages.probe(), true, "nothing more to say");
  assert.deepEqual(state.lines.slice(1), [
    "parley: store postgres db.internal:5432/parley available again after 4.0 s (3 failed calls)",
  ]);
  assert.equal(state.outages.unavailable, false);
});

Deno.test("OutageTracker keeps a flapping store one outage: recovery needs a whole interval without a failed call", async () => {
  const state = tracker();
  for (let round = 0; round < 20; round++) {
    state.outages.failed(down);
    state.advance(500);
    assert.equal(await state.outages.probe(), false);
  }
  state.advance(1000);
  assert.equal(await state.outages.probe(), true);
  assert.equal(state.lines.length, 2);
  assert.match(
    state.lines[1]!,
    /available again after 11\.0 s \(20 failed calls\)/,
  );
});

Deno.test("watchOutages() reports a call of any part of the store that fails for the engine, and nothing else", async () => {
  const kv = await Deno.openKv(":memory:");
  const lines: string[] = [];
  const store = watchOutages(createKvStore(kv, { location: ":memory:" }), {
    log: (line) => lines.push(line),
  });
  await store.ping();
  await store.settings.getOrCreate("probe", () => new Uint8Array(32));
  assert.deepEqual(lines, [], "calls that work say nothing");
  kv.close();
  await assert.rejects(
    store.settings.getOrCreate("probe", () => new Uint8Array(32)),
    StoreUnavailableError,
  );
  await assert.rejects(store.ping(), StoreUnavailableError);
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(lines[0]!, /^parley: store kv :memory: unavailable: /);
  await store.close().catch(() => {});
});
