/**
 * When a message was written, as the visitor's locale says it, through
 * `Intl` alone (no catalogue text): "now" under a minute, "5 min. ago" under
 * an hour, the time of day today, then the date and time in the locale's
 * medium style ("Mar 4, 2026, 9:05 AM", "04.03.2026, 09:05"). A time ahead
 * of the visitor's clock (a server clock a little ahead) reads "now".
 *
 * @module
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/**
 * A message's time for its bubble.
 *
 * @param at when the message was written
 * @param now the visitor's clock
 * @param locale the widget's locale
 * @param timeZone the zone to tell days in (default: the visitor's)
 * @returns the text to show (put `at.toISOString()` in `<time datetime>`)
 */
export function formatMessageTime(
  at: Date,
  now: Date,
  locale: string,
  timeZone?: string,
): string {
  const elapsed = now.getTime() - at.getTime();
  if (elapsed < HOUR_MS) {
    const relative = new Intl.RelativeTimeFormat(locale, {
      numeric: "auto",
      style: "short",
    });
    return elapsed < MINUTE_MS
      ? relative.format(0, "second")
      : relative.format(-Math.floor(elapsed / MINUTE_MS), "minute");
  }
  const zone = timeZone === undefined ? {} : { timeZone };
  const format = (date: Date, style: Intl.DateTimeFormatOptions): string =>
    new Intl.DateTimeFormat(locale, { ...zone, ...style }).format(date);
  const today = format(at, { dateStyle: "short" }) ===
    format(now, { dateStyle: "short" });
  return today
    ? format(at, { timeStyle: "short" })
    : format(at, { dateStyle: "medium", timeStyle: "short" });
}
