import assert from "node:assert/strict";
import {
  canonicalTimeZone,
  isWithinHours,
  parseDayKey,
  parseOpeningRange,
  weeklyHoursText,
} from "./business_hours.ts";
import type { BusinessHours, OpeningRange } from "./types.ts";

const NINE_TO_FIVE: OpeningRange = { from: 9 * 60, to: 17 * 60 };

/** Monday to Friday 09:00–17:00, Saturday 10:00–14:00, in `timezone`. */
function officeHours(timezone: string): BusinessHours {
  const weekday = [NINE_TO_FIVE];
  return {
    timezone,
    weekly: [weekday, weekday, weekday, weekday, weekday, [
      { from: 600, to: 840 },
    ], []],
  };
}

// One row per rule: the zone, the moment in UTC, and whether it is open.
const MOMENTS: readonly [
  name: string,
  zone: string,
  utc: string,
  open: boolean,
][] = [
  [
    "a Friday morning in winter (CET, UTC+1)",
    "Europe/Berlin",
    "2026-03-27T08:30:00Z",
    true,
  ],
  [
    "the same UTC time on the Monday after the spring change is 09:30 CEST",
    "Europe/Berlin",
    "2026-03-30T07:30:00Z",
    true,
  ],
  [
    "an hour earlier that Monday is 08:30 CEST, before opening",
    "Europe/Berlin",
    "2026-03-30T06:30:00Z",
    false,
  ],
  [
    "the Monday after the autumn change opens at 08:00 UTC",
    "Europe/Berlin",
    "2026-10-26T08:00:00Z",
    true,
  ],
  [
    "07:30 UTC that Monday is 08:30 CET, before opening",
    "Europe/Berlin",
    "2026-10-26T07:30:00Z",
    false,
  ],
  [
    "closing time itself is closed",
    "Europe/Berlin",
    "2026-06-03T15:00:00Z",
    false,
  ],
  [
    "the last open minute is open",
    "Europe/Berlin",
    "2026-06-03T14:59:00Z",
    true,
  ],
  ["Saturday's shorter hours", "Europe/Berlin", "2026-06-06T11:00:00Z", true],
  ["Saturday afternoon", "Europe/Berlin", "2026-06-06T13:00:00Z", false],
  ["Sunday", "Europe/Berlin", "2026-06-07T10:00:00Z", false],
  [
    "Monday 02:00 UTC is still Sunday evening in New York",
    "America/New_York",
    "2026-06-01T02:00:00Z",
    false,
  ],
  [
    "Monday 14:00 UTC is 10:00 in New York",
    "America/New_York",
    "2026-06-01T14:00:00Z",
    true,
  ],
  [
    "Friday 22:30 UTC is Saturday 10:30 in Auckland",
    "Pacific/Auckland",
    "2026-06-05T22:30:00Z",
    true,
  ],
];

for (const [name, zone, utc, open] of MOMENTS) {
  Deno.test(`isWithinHours() ${name}`, () => {
    assert.equal(isWithinHours(officeHours(zone), Date.parse(utc)), open);
  });
}

Deno.test("isWithinHours() keeps a range ending at 24:00 open until midnight", () => {
  const hours: BusinessHours = {
    timezone: "UTC",
    weekly: [[{ from: 22 * 60, to: 1440 }], [], [], [], [], [], []],
  };
  assert.equal(isWithinHours(hours, Date.parse("2026-06-01T23:59:30Z")), true);
  assert.equal(isWithinHours(hours, Date.parse("2026-06-02T00:00:00Z")), false);
});

Deno.test("isWithinHours() is closed all week with no ranges", () => {
  const hours: BusinessHours = {
    timezone: "UTC",
    weekly: [[], [], [], [], [], [], []],
  };
  for (let day = 0; day < 7; day++) {
    assert.equal(isWithinHours(hours, Date.UTC(2026, 5, 1 + day, 12)), false);
  }
});

const DAY_KEYS: readonly [string, number[] | undefined][] = [
  ["mon", [0]],
  ["sun", [6]],
  ["mon-fri", [0, 1, 2, 3, 4]],
  ["sat-sun", [5, 6]],
  ["fri-mon", [4, 5, 6, 0]],
  ["mon-mon", undefined],
  ["Mon", undefined],
  ["monday", undefined],
  ["mon-fri-sat", undefined],
  ["", undefined],
];

for (const [key, days] of DAY_KEYS) {
  Deno.test(`parseDayKey() reads "${key}"`, () => {
    assert.deepEqual(parseDayKey(key), days);
  });
}

const RANGES: readonly [string, OpeningRange | undefined][] = [
  ["09:00-17:00", { from: 540, to: 1020 }],
  ["00:00-24:00", { from: 0, to: 1440 }],
  ["08:15 - 12:45", { from: 495, to: 765 }],
  ["17:00-09:00", undefined],
  ["09:00-09:00", undefined],
  ["24:00-24:00", undefined],
  ["23:00-24:30", undefined],
  ["9:00-17:00", undefined],
  ["09:00", undefined],
  ["09:60-10:00", undefined],
];

for (const [text, range] of RANGES) {
  Deno.test(`parseOpeningRange() reads "${text}"`, () => {
    assert.deepEqual(parseOpeningRange(text), range);
  });
}

Deno.test("canonicalTimeZone() knows IANA zones and their canonical names", () => {
  assert.equal(canonicalTimeZone("Europe/Berlin"), "Europe/Berlin");
  assert.equal(canonicalTimeZone("europe/berlin"), "Europe/Berlin");
  assert.equal(canonicalTimeZone("UTC"), "UTC");
  assert.equal(canonicalTimeZone("Mars/Olympus_Mons"), undefined);
  assert.equal(canonicalTimeZone(""), undefined);
});

Deno.test("weeklyHoursText() writes every day's ranges, Monday first, closed days empty", () => {
  assert.deepEqual(weeklyHoursText(officeHours("UTC")), {
    mon: ["09:00-17:00"],
    tue: ["09:00-17:00"],
    wed: ["09:00-17:00"],
    thu: ["09:00-17:00"],
    fri: ["09:00-17:00"],
    sat: ["10:00-14:00"],
    sun: [],
  });
});
