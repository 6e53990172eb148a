import assert from "node:assert/strict";
import {
  type AvailabilityListener,
  AvailabilityWatch,
} from "./availability_watch.ts";
import type { Availability } from "../wire/mod.ts";

const OPEN: Availability = { agentsOnline: true, withinHours: true };
const AWAY: Availability = { agentsOnline: false, withinHours: true };

class Heard implements AvailabilityListener {
  readonly values: Availability[] = [];
  availability(value: Availability): void {
    this.values.push(value);
  }
}

/** Lets the watch's reads settle. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

Deno.test("AvailabilityWatch tells each listener of a change once, and nothing while it stays", async () => {
  let now = AWAY;
  const reads: string[] = [];
  const watch = new AvailabilityWatch((organizationId) => {
    reads.push(organizationId);
    return Promise.resolve(now);
  }, { intervalMs: 60_000 });
  const first = new Heard();
  const second = new Heard();
  watch.subscribe("acme", first, AWAY);
  watch.subscribe("acme", second, AWAY);
  watch.refresh("acme");
  await settle();
  assert.deepEqual(first.values, [], "unchanged: nothing to tell");
  now = OPEN;
  watch.refresh("acme");
  await settle();
  watch.refresh("acme");
  await settle();
  assert.deepEqual(first.values, [OPEN]);
  assert.deepEqual(second.values, [OPEN]);
  watch.refresh("globex");
  await settle();
  assert.deepEqual(
    reads,
    ["acme", "acme", "acme"],
    "only watched organizations are read",
  );
  watch.unsubscribe("acme", first);
  watch.unsubscribe("acme", second);
  assert.equal(watch.size, 0);
  watch.close();
});

Deno.test("AvailabilityWatch looks at every watched organization each interval, and stops when none is left", async () => {
  let online = false;
  const watch = new AvailabilityWatch(
    () => Promise.resolve({ agentsOnline: online, withinHours: true }),
    { intervalMs: 10 },
  );
  const heard = new Heard();
  watch.subscribe("acme", heard, AWAY);
  online = true;
  const deadline = Date.now() + 2_000;
  while (heard.values.length === 0 && Date.now() < deadline) await settle();
  assert.deepEqual(heard.values, [OPEN]);
  watch.unsubscribe("acme", heard);
  // Unsubscribing the last listener stops the interval (no timer leaks).
});

Deno.test("AvailabilityWatch keeps quiet when a read fails or the organization is gone", async () => {
  let answer: () => Promise<Availability | undefined> = () =>
    Promise.reject(new Error("store down"));
  const watch = new AvailabilityWatch(() => answer(), { intervalMs: 60_000 });
  const heard = new Heard();
  watch.subscribe("acme", heard, AWAY);
  watch.refresh("acme");
  await settle();
  answer = () => Promise.resolve(undefined);
  watch.refresh("acme");
  await settle();
  assert.deepEqual(heard.values, []);
  watch.unsubscribe("acme", heard);
});
