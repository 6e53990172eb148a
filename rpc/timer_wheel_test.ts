import assert from "node:assert/strict";
import { TimerWheel, type WheelEntry } from "./timer_wheel.ts";

const TICK = 10;

class Entry implements WheelEntry {
  wheelSlot = -1;
  wheelDueAt = 0;
  constructor(readonly name: string) {}
}

/** A wheel on a clock the test moves, with real (short) ticks. */
function wheel(slots = 8) {
  let now = 1_000_000;
  const visits: [string, number][] = [];
  const ticks: number[] = [];
  const timers = new TimerWheel<Entry>(
    (entry, at) => visits.push([entry.name, at]),
    {
      now: () => now,
      tickMs: TICK,
      slots,
      onTick: (at) => ticks.push(at),
    },
  );
  return {
    timers,
    ticks,
    /** Who was visited, in order. */
    names: () => visits.map(([name]) => name),
    get now() {
      return now;
    },
    /** Moves the clock and lets the interval run. */
    async advance(ms: number) {
      now += ms;
      await new Promise((resolve) => setTimeout(resolve, TICK * 3));
    },
  };
}

Deno.test("TimerWheel visits each entry once when its time has come, not before", async () => {
  const w = wheel();
  const soon = new Entry("soon");
  const later = new Entry("later");
  w.timers.schedule(soon, w.now + 2 * TICK);
  w.timers.schedule(later, w.now + 5 * TICK);
  assert.equal(w.timers.size, 2);
  await w.advance(TICK);
  assert.deepEqual(w.names(), []);
  await w.advance(TICK);
  assert.deepEqual(w.names(), ["soon"]);
  assert.equal(soon.wheelSlot, -1, "a visited entry is unscheduled");
  await w.advance(3 * TICK);
  assert.deepEqual(w.names(), ["soon", "later"]);
  assert.equal(w.timers.size, 0);
  w.timers.close();
});

Deno.test("TimerWheel moves a rescheduled entry and forgets a cancelled one", async () => {
  const w = wheel();
  const moved = new Entry("moved");
  const cancelled = new Entry("cancelled");
  w.timers.schedule(moved, w.now + TICK);
  w.timers.schedule(moved, w.now + 4 * TICK);
  w.timers.schedule(cancelled, w.now + TICK);
  w.timers.cancel(cancelled);
  w.timers.cancel(cancelled);
  assert.equal(w.timers.size, 1);
  await w.advance(2 * TICK);
  assert.deepEqual(w.names(), []);
  await w.advance(2 * TICK);
  assert.deepEqual(w.names(), ["moved"]);
  w.timers.close();
});

Deno.test("TimerWheel holds an entry more than a turn away until its own turn", async () => {
  const w = wheel(4);
  const far = new Entry("far");
  w.timers.schedule(far, w.now + 6 * TICK);
  await w.advance(4 * TICK);
  assert.deepEqual(w.names(), [], "a turn later it is not due yet");
  await w.advance(2 * TICK);
  assert.deepEqual(w.names(), ["far"]);
  w.timers.close();
});

Deno.test("TimerWheel after a stalled event loop visits every entry that fell due", async () => {
  const w = wheel(4);
  const entries = [1, 2, 3, 9].map((n) => {
    const entry = new Entry(`e${n}`);
    w.timers.schedule(entry, w.now + n * TICK);
    return entry;
  });
  await w.advance(20 * TICK);
  assert.deepEqual(
    w.names().sort(),
    entries.map((entry) => entry.name).sort(),
  );
  w.timers.close();
});

Deno.test("TimerWheel lets a visit schedule the entry again, and runs its interval only while entries wait", async () => {
  const w = wheel();
  const beat = new Entry("beat");
  let beats = 0;
  const timers = new TimerWheel<Entry>((entry, at) => {
    if (++beats < 3) timers.schedule(entry, at + TICK);
  }, { now: () => w.now, tickMs: TICK });
  timers.schedule(beat, w.now + TICK);
  for (let i = 0; i < 4; i++) await w.advance(TICK);
  assert.equal(beats, 3);
  assert.equal(timers.size, 0);
  // No interval is left running: the test would leak it otherwise.
  w.timers.close();
});

Deno.test("TimerWheel calls onTick each tick while entries wait, and close() unschedules all", async () => {
  const w = wheel();
  const entry = new Entry("held");
  w.timers.schedule(entry, w.now + 100 * TICK);
  await w.advance(TICK);
  assert.ok(w.ticks.length >= 1);
  w.timers.close();
  assert.equal(w.timers.size, 0);
  assert.equal(entry.wheelSlot, -1);
  const ticks = w.ticks.length;
  await w.advance(TICK);
  assert.equal(w.ticks.length, ticks, "no tick after close");
});
