import assert from "node:assert/strict";
import { formatMessageTime } from "./message_time.ts";

const NOW = new Date("2026-03-05T14:30:00Z");
const ago = (ms: number): Date => new Date(NOW.getTime() - ms);
const MINUTE = 60_000;

/** Each row: when, the locale, and what the bubble reads (UTC days, ICU of this Deno). */
const ROWS: readonly (readonly [string, Date, string, string])[] = [
  ["this very second", NOW, "en", "now"],
  ["under a minute ago", ago(59_000), "en", "now"],
  ["a clock a little ahead", ago(-30_000), "en", "now"],
  ["minutes ago", ago(5 * MINUTE), "en", "5 min. ago"],
  ["minutes ago, in German", ago(5 * MINUTE), "de", "vor 5 Min."],
  ["minutes ago, in Arabic", ago(5 * MINUTE), "ar", "قبل 5 دقائق"],
  ["earlier today", ago(3 * 60 * MINUTE), "en", "11:30 AM"],
  ["earlier today, in German", ago(3 * 60 * MINUTE), "de", "11:30"],
  ["earlier today, in Japanese", ago(3 * 60 * MINUTE), "ja", "11:30"],
  ["yesterday", new Date("2026-03-04T09:05:00Z"), "en", "Mar 4, 2026, 9:05 AM"],
  [
    "yesterday, in German",
    new Date("2026-03-04T09:05:00Z"),
    "de",
    "04.03.2026, 09:05",
  ],
  [
    "yesterday, in Japanese",
    new Date("2026-03-04T09:05:00Z"),
    "ja",
    "2026/03/04 9:05",
  ],
  [
    "another year, in French",
    new Date("2025-12-31T23:59:00Z"),
    "fr",
    "31 déc. 2025, 23:59",
  ],
];

for (const [name, at, locale, expected] of ROWS) {
  Deno.test(`formatMessageTime(): ${name} (${locale})`, () => {
    // ICU separates "AM" with a narrow no-break space.
    assert.equal(
      formatMessageTime(at, NOW, locale, "UTC").replace(/\u202f/g, " "),
      expected,
    );
  });
}

Deno.test("formatMessageTime() tells days apart in the visitor's zone", () => {
  // 23:00 UTC on the 4th is already the 5th in Tokyo: today there.
  const at = new Date("2026-03-04T23:00:00Z");
  assert.equal(
    formatMessageTime(at, NOW, "en", "Asia/Tokyo").replace(/\u202f/g, " "),
    "8:00 AM",
  );
  assert.equal(
    formatMessageTime(at, NOW, "en", "UTC").replace(/\u202f/g, " "),
    "Mar 4, 2026, 11:00 PM",
  );
});
