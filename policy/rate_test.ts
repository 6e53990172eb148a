import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { parseDuration, parseRate } from "./rate.ts";

const DURATIONS: ReadonlyArray<readonly [string, number | undefined]> = [
  ["500ms", 500],
  ["30s", 30_000],
  ["15m", 900_000],
  ["2h", 7_200_000],
  ["90d", 7_776_000_000],
  ["1w", 604_800_000],
  ["1h30m", 5_400_000],
  ["0s", 0],
  ["", undefined],
  ["15", undefined],
  ["m", undefined],
  ["15 m", undefined],
  ["15M", undefined],
  ["-5s", undefined],
  ["1.5h", undefined],
  ["15min", undefined],
  ["99999999999999999999d", undefined],
];

for (const [text, expected] of DURATIONS) {
  Deno.test(`parseDuration() reads "${text}" as ${expected}`, () => {
    assertEquals(parseDuration(text), expected);
  });
}

const RATES: ReadonlyArray<
  readonly [string, { count: number; windowMs: number } | undefined]
> = [
  ["100/minute", { count: 100, windowMs: 60_000 }],
  ["20/second", { count: 20, windowMs: 1_000 }],
  ["20/hour", { count: 20, windowMs: 3_600_000 }],
  ["20/day", { count: 20, windowMs: 86_400_000 }],
  ["5/10s", { count: 5, windowMs: 10_000 }],
  ["5/1h30m", { count: 5, windowMs: 5_400_000 }],
  ["0/minute", undefined],
  ["100/0s", undefined],
  ["100/fortnight", undefined],
  ["100 per minute", undefined],
  ["100/", undefined],
  ["/minute", undefined],
  ["-1/minute", undefined],
  ["1.5/minute", undefined],
  ["100/Minute", undefined],
  ["99999999999/minute", undefined],
  ["100/minute/extra", undefined],
];

for (const [text, expected] of RATES) {
  Deno.test(`parseRate() reads "${text}"`, () => {
    const rate = parseRate(text);
    assertEquals(
      rate && { count: rate.count, windowMs: rate.windowMs },
      expected,
    );
    if (rate) assertEquals(rate.text, text);
  });
}

Deno.test("parseRate() returns a frozen rate", () => {
  assertEquals(Object.isFrozen(parseRate("1/second")), true);
});
