import assert from "node:assert/strict";
import { ManualClock } from "../tests/manual_clock.ts";
import {
  TYPING_CALL_INTERVAL_MS,
  TYPING_SHOWN_MS,
  TypingIndicator,
  TypingThrottle,
} from "./typing_signal.ts";

Deno.test("TypingThrottle sends on the first keystroke and at most once per 3 s after", () => {
  const clock = new ManualClock();
  let sent = 0;
  const throttle = new TypingThrottle(() => sent++, clock.now);
  throttle.input();
  assert.equal(sent, 1);
  for (let key = 0; key < 29; key++) {
    clock.advance(100);
    throttle.input();
  }
  assert.equal(sent, 1, "30 keystrokes in 2.9 s send one typing call");
  clock.advance(100);
  throttle.input();
  assert.equal(sent, 2);
});

Deno.test("TypingThrottle sends 20 calls at most in a minute of steady typing", () => {
  const clock = new ManualClock();
  let sent = 0;
  const throttle = new TypingThrottle(() => sent++, clock.now);
  for (let key = 0; key < 600; key++) {
    throttle.input();
    clock.advance(100);
  }
  assert.equal(sent, 60_000 / TYPING_CALL_INTERVAL_MS);
});

Deno.test("TypingThrottle.reset() lets the next keystroke after a sent message signal at once", () => {
  const clock = new ManualClock();
  let sent = 0;
  const throttle = new TypingThrottle(() => sent++, clock.now);
  throttle.input();
  clock.advance(500);
  throttle.reset();
  throttle.input();
  assert.equal(sent, 2);
});

function indicator(clock: ManualClock) {
  const calls: string[] = [];
  const typing = new TypingIndicator(
    (label) => calls.push(`show ${label}`),
    () => calls.push("hide"),
    clock,
  );
  return { typing, calls };
}

Deno.test("TypingIndicator shows on an event and hides 5 s after the last one", () => {
  const clock = new ManualClock();
  const { typing, calls } = indicator(clock);
  typing.typing("Ada is typing…");
  assert.deepEqual(calls, ["show Ada is typing…"]);
  clock.advance(3_000);
  typing.typing("Ada is typing…");
  clock.advance(TYPING_SHOWN_MS - 1);
  assert.equal(typing.shown, true, "a later event extends the 5 s");
  clock.advance(1);
  assert.equal(typing.shown, false);
  assert.deepEqual(calls, ["show Ada is typing…", "hide"]);
  assert.equal(clock.pending, 0);
});

Deno.test("TypingIndicator does not show again for repeated events (no announcement storm)", () => {
  const clock = new ManualClock();
  const { typing, calls } = indicator(clock);
  for (let event = 0; event < 10; event++) {
    typing.typing("Ada is typing…");
    clock.advance(3_000);
  }
  assert.deepEqual(calls, ["show Ada is typing…"]);
  typing.typing("Grace is typing…");
  assert.deepEqual(calls, ["show Ada is typing…", "show Grace is typing…"]);
});

Deno.test("TypingIndicator.stop() (a message from that side) hides at once and cancels its timer", () => {
  const clock = new ManualClock();
  const { typing, calls } = indicator(clock);
  typing.typing("Visitor is typing…");
  typing.stop();
  typing.stop();
  assert.deepEqual(calls, ["show Visitor is typing…", "hide"]);
  assert.equal(clock.pending, 0);
});
