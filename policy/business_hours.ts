/**
 * Business hours (`widget.hours`): the syntax of the policy's day keys and
 * ranges, and whether a moment falls inside them in the organization's own
 * time zone. Wall-clock times are read through `Intl.DateTimeFormat`, so a
 * daylight-saving change moves the opening in UTC, never on the clock.
 *
 * @module
 */

import { clip, type DocumentPath } from "./problems.ts";
import type { BusinessHours, OpeningRange, Weekday } from "./types.ts";
import type { RuleContext, WrittenHours } from "./written_policy.ts";

/** The day keys, Monday first; a day's index in `BusinessHours.weekly`. */
export const WEEKDAYS: readonly Weekday[] = Object.freeze([
  "mon",
  "tue",
  "wed",
  "thu",
  "fri",
  "sat",
  "sun",
]);

const MINUTES_PER_DAY = 1_440;
const TIME = /^([01]\d|2[0-4]):([0-5]\d)$/;

/**
 * Parses a day key of `weekly`: one day (`sat`) or a range of days
 * (`mon-fri`; `fri-mon` runs over the weekend).
 *
 * @param key The key as written.
 * @returns The days' indexes (0 is Monday) in order, or `undefined` when it is not a day key.
 */
export function parseDayKey(key: string): number[] | undefined {
  const [first, last, ...rest] = key.split("-");
  if (rest.length > 0 || first === undefined) return undefined;
  const start = WEEKDAYS.indexOf(first as Weekday);
  if (start === -1) return undefined;
  if (last === undefined) return [start];
  const end = WEEKDAYS.indexOf(last as Weekday);
  if (end === -1 || end === start) return undefined;
  const days: number[] = [];
  for (let day = start; day !== end; day = (day + 1) % 7) days.push(day);
  days.push(end);
  return days;
}

/**
 * Parses an opening range `HH:MM-HH:MM` on the 24-hour clock; `24:00` may
 * end a range. The end must come after the start (split a night into two
 * days' ranges).
 *
 * @param text The range as written, e.g. `"09:00-17:30"`.
 * @returns The range in minutes after midnight, or `undefined` when it is not one.
 */
export function parseOpeningRange(text: string): OpeningRange | undefined {
  const parts = text.split("-");
  if (parts.length !== 2) return undefined;
  const from = minutesOf(parts[0]!.trim());
  const to = minutesOf(parts[1]!.trim());
  if (from === undefined || to === undefined) return undefined;
  if (from >= MINUTES_PER_DAY || to <= from) return undefined;
  return Object.freeze({ from, to });
}

function minutesOf(text: string): number | undefined {
  const match = TIME.exec(text);
  if (match === null) return undefined;
  const minutes = Number(match[1]) * 60 + Number(match[2]);
  return minutes > MINUTES_PER_DAY ? undefined : minutes;
}

/**
 * The canonical name of an IANA time zone, as `Intl` knows it.
 *
 * @param name The zone as written, e.g. `Europe/Berlin` or `europe/berlin`.
 * @returns The canonical name, or `undefined` when `Intl` does not know the zone.
 */
export function canonicalTimeZone(name: string): string | undefined {
  if (name === "" || name.length > 64) return undefined;
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: name })
      .resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** One formatter per zone: building one costs far more than using it. */
const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAY_INDEX: Readonly<Record<string, number>> = {
  Mon: 0,
  Tue: 1,
  Wed: 2,
  Thu: 3,
  Fri: 4,
  Sat: 5,
  Sun: 6,
};

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timezone, formatter);
  }
  return formatter;
}

/**
 * Whether a moment falls inside the business hours, on the wall clock of
 * their time zone.
 *
 * @param hours Validated business hours.
 * @param nowMs The moment, epoch milliseconds.
 * @returns `true` when some range of that local day contains the local time.
 */
export function isWithinHours(hours: BusinessHours, nowMs: number): boolean {
  let day = -1;
  let minutes = 0;
  for (const part of formatterFor(hours.timezone).formatToParts(nowMs)) {
    if (part.type === "weekday") day = WEEKDAY_INDEX[part.value] ?? -1;
    else if (part.type === "hour") minutes += Number(part.value) * 60;
    else if (part.type === "minute") minutes += Number(part.value);
  }
  const ranges = hours.weekly[day];
  if (ranges === undefined) return false;
  return ranges.some((range) => range.from <= minutes && minutes < range.to);
}

/**
 * The hours as the widget reads them: every day's ranges as `HH:MM-HH:MM`
 * text, an empty list for a closed day.
 *
 * @param hours Validated business hours.
 * @returns The ranges by day key, Monday first.
 */
export function weeklyHoursText(
  hours: BusinessHours,
): Record<Weekday, string[]> {
  const text = {} as Record<Weekday, string[]>;
  WEEKDAYS.forEach((day, index) => {
    text[day] = (hours.weekly[index] ?? []).map((range) =>
      `${clock(range.from)}-${clock(range.to)}`
    );
  });
  return text;
}

function clock(minutes: number): string {
  const hours = String(Math.floor(minutes / 60)).padStart(2, "0");
  return `${hours}:${String(minutes % 60).padStart(2, "0")}`;
}

/**
 * Reads `widget.hours` once the schema has checked its syntax: the zone's
 * canonical name, and each day's ranges sorted, no day given twice (`mon-fri`
 * and `fri`), no ranges of a day overlapping.
 *
 * @param hours The section as written and checked by the schema.
 * @param path Its path.
 * @param context The document and problems.
 * @returns The hours, or `undefined` when they have a problem.
 */
export function readBusinessHours(
  hours: WrittenHours | undefined,
  path: DocumentPath,
  { document, problems }: RuleContext,
): BusinessHours | undefined {
  if (hours?.weekly === undefined) return undefined;
  const days: OpeningRange[][] = WEEKDAYS.map(() => []);
  const givenBy = new Map<number, string>();
  let failed = false;
  for (const [key, value] of Object.entries(hours.weekly)) {
    const dayPath = [...path, "weekly", key];
    // Day keys and ranges the schema found wrong are reported already.
    const indexes = parseDayKey(key);
    // Array.from turns the holes of ranges found wrong into undefined.
    const written = typeof value === "string"
      ? [value]
      : value === undefined
      ? undefined
      : Array.from(value);
    const ranges = written?.map((text) =>
      text === undefined ? undefined : parseOpeningRange(text)
    );
    if (indexes === undefined || ranges === undefined) {
      failed = true;
      continue;
    }
    const twice = indexes.find((index) => givenBy.has(index));
    if (twice !== undefined) {
      problems.error(
        "hours-day-twice",
        dayPath,
        document.keyAt(dayPath),
        `Day "${WEEKDAYS[twice]}" is given by both "${
          clip(givenBy.get(twice) ?? "")
        }" and "${clip(key)}"`,
        'Give each day once; list several ranges for a day as ["09:00-12:00", "13:00-17:00"]',
      );
      failed = true;
      continue;
    }
    if (ranges.some((range) => range === undefined)) {
      failed = true;
      continue;
    }
    const sorted = (ranges as OpeningRange[]).sort((a, b) => a.from - b.from);
    if (sorted.some((range, i) => i > 0 && range.from < sorted[i - 1]!.to)) {
      problems.error(
        "bad-hours",
        dayPath,
        document.at(dayPath),
        `Hours of "${clip(key)}" overlap`,
        "Merge the overlapping ranges into one",
      );
      failed = true;
      continue;
    }
    for (const index of indexes) {
      givenBy.set(index, key);
      days[index] = sorted;
    }
  }
  const timezone = hours.timezone === undefined
    ? undefined
    : canonicalTimeZone(hours.timezone);
  if (failed || timezone === undefined) return undefined;
  return {
    timezone,
    weekly: days,
  };
}
