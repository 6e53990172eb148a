/**
 * An organization's security report (`agent.securityReport`), built from
 * the hourly counts of `security_tally.ts`: boots by token state, keys and
 * their last use, invalid tokens by reason, origins, and what a stricter
 * `jwt.mode` or `domains.mode` would have refused.
 *
 * @module
 */

import type { OrganizationSpec } from "../policy/types.ts";
import type {
  SecurityCount,
  SecurityCounterStore,
} from "../store/security_counter_store.ts";
import {
  HOUR_MS,
  hourStart,
  KEPT_HOURS,
  ORIGIN_LABEL,
  ORIGIN_METRICS,
  SECURITY_METRIC,
  type SecurityTally,
} from "./security_tally.ts";
import type { SecurityReport, SecurityReportHour } from "../wire/mod.ts";

/** The longest window a report covers, in hours (the counts kept). */
export const MAX_REPORT_HOURS = KEPT_HOURS;
/** The window when the request names none. */
export const DEFAULT_REPORT_HOURS = 24;
/** Origins listed per section. */
export const MAX_REPORT_ORIGINS = 50;

/**
 * Reads an organization's report: this process's pending counts are
 * flushed first, so it is exact for what this process served; other
 * processes' and hosts' counts are at most one flush interval behind. The
 * store sums the origins over the window and returns only those the report
 * lists, so a week of a flood's origins is never read into memory.
 *
 * @param parts Where the counts are, and this process's tally.
 * @param organization The organization reported on.
 * @param hours The window, 1 to {@linkcode MAX_REPORT_HOURS}.
 * @param now Epoch milliseconds.
 * @returns The report.
 * @throws {StoreUnavailableError} When the store fails.
 */
export async function readSecurityReport(
  parts: {
    readonly counters: SecurityCounterStore;
    readonly tally: SecurityTally;
  },
  organization: OrganizationSpec,
  hours: number,
  now: number,
): Promise<SecurityReport> {
  await parts.tally.flush();
  const current = hourStart(now);
  // Keys' last use is read over everything kept, whatever the window.
  const counts = await parts.counters.readSummed(
    organization.id,
    current - (KEPT_HOURS - 1) * HOUR_MS,
    current + HOUR_MS,
    {
      metrics: ORIGIN_METRICS,
      fromHour: current - (hours - 1) * HOUR_MS,
      limit: MAX_REPORT_ORIGINS,
      rankBy: SECURITY_METRIC.origin,
      restKey: ORIGIN_LABEL.rest,
    },
  );
  return buildSecurityReport(counts, { organization, hours, now });
}

/**
 * Builds the report from stored counts.
 *
 * @param counts The organization's counts (hours outside the window only
 *   count towards keys' `lastSeen`); origins past those listed may come
 *   summed under `(rest)`, which counts in the totals only.
 * @param options The organization, the window in hours, and the time.
 * @returns The report.
 */
export function buildSecurityReport(
  counts: readonly SecurityCount[],
  options: {
    readonly organization: OrganizationSpec;
    readonly hours: number;
    readonly now: number;
  },
): SecurityReport {
  const { organization, hours, now } = options;
  const current = hourStart(now);
  const from = current - (hours - 1) * HOUR_MS;
  const boots = { verified: 0, absent: 0, invalid: 0 };
  let refusedBoots = 0;
  let wrongAdminKeys = 0;
  let blocked = 0;
  const invalidReasons: Record<string, number> = {};
  const keyUse = new Map<string, { verified: number; lastSeen: number }>();
  const origins = new Map<
    string,
    { boots: number; refused: number; unverified: number; report: number }
  >();
  /** Every origin's sums, the unlisted `(rest)` included. */
  const originTotals = { boots: 0, refused: 0, unverified: 0, report: 0 };
  const hourly: {
    -readonly [K in keyof SecurityReportHour]: SecurityReportHour[K];
  }[] = Array.from({ length: hours }, (_, index) => ({
    hour: new Date(from + index * HOUR_MS).toISOString(),
    verified: 0,
    absent: 0,
    invalid: 0,
    blocked: 0,
  }));

  for (const count of counts) {
    if (count.metric === SECURITY_METRIC.key) {
      const use = keyUse.get(count.key) ?? { verified: 0, lastSeen: 0 };
      use.lastSeen = Math.max(use.lastSeen, count.lastSeen);
      if (count.hour >= from && count.hour <= current) {
        use.verified += count.count;
      }
      keyUse.set(count.key, use);
      continue;
    }
    if (count.hour < from || count.hour > current) continue;
    const hour = hourly[(count.hour - from) / HOUR_MS];
    switch (count.metric) {
      case SECURITY_METRIC.boot:
        if (
          count.key === "verified" || count.key === "absent" ||
          count.key === "invalid"
        ) {
          boots[count.key] += count.count;
          if (hour !== undefined) hour[count.key] += count.count;
        }
        break;
      case SECURITY_METRIC.invalid:
        invalidReasons[count.key] = (invalidReasons[count.key] ?? 0) +
          count.count;
        break;
      case SECURITY_METRIC.auth:
        if (count.key === "admin_key") wrongAdminKeys += count.count;
        if (count.key === "blocked") {
          blocked += count.count;
          if (hour !== undefined) hour.blocked += count.count;
        }
        break;
      case SECURITY_METRIC.origin:
      case SECURITY_METRIC.refused:
      case SECURITY_METRIC.unverified:
      case SECURITY_METRIC.report: {
        const field = count.metric === SECURITY_METRIC.origin
          ? "boots"
          : count.metric;
        originTotals[field] += count.count;
        if (count.metric === SECURITY_METRIC.refused) {
          refusedBoots += count.count;
        }
        if (count.key === ORIGIN_LABEL.rest) break;
        let origin = origins.get(count.key);
        if (origin === undefined) {
          origin = { boots: 0, refused: 0, unverified: 0, report: 0 };
          origins.set(count.key, origin);
        }
        origin[field] += count.count;
        break;
      }
    }
  }

  const total = boots.verified + boots.absent + boots.invalid;
  const byOrigin = [...origins.entries()];
  const top = (
    value: (counted: (typeof byOrigin)[number][1]) => number,
  ) =>
    byOrigin
      .map(([origin, counted]) => ({ origin, value: value(counted) }))
      .filter((entry) => entry.value > 0)
      .sort((a, b) => b.value - a.value || compareText(a.origin, b.origin))
      .slice(0, MAX_REPORT_ORIGINS);
  const wouldRefuse = (
    value: (counted: (typeof byOrigin)[number][1]) => number,
  ) => {
    const origins = top(value).map(({ origin, value }) => ({
      origin,
      refused: value,
    }));
    return { refused: value(originTotals), origins };
  };
  return {
    organizationId: organization.id,
    hours,
    from: new Date(from).toISOString(),
    to: new Date(now).toISOString(),
    modes: { jwt: organization.jwt.mode, domains: organization.domains.mode },
    boots: { total, ...boots, admitted: total - refusedBoots },
    invalidReasons: Object.fromEntries(
      Object.entries(invalidReasons).sort(([a], [b]) => compareText(a, b)),
    ),
    keys: organization.jwt.keys.map((key) => {
      const use = keyUse.get(key.id);
      return {
        id: key.id,
        verified: use?.verified ?? 0,
        lastSeen: use === undefined || use.lastSeen === 0
          ? null
          : new Date(use.lastSeen).toISOString(),
        ...(key.until === undefined
          ? {}
          : { until: new Date(key.until).toISOString() }),
      };
    }),
    origins: top((counted) => counted.boots).map(({ origin }) => ({
      origin,
      boots: origins.get(origin)!.boots,
      refused: origins.get(origin)!.refused,
    })),
    ifRequired: wouldRefuse((counted) => counted.unverified),
    ifEnforced: wouldRefuse((counted) => counted.report),
    authFailures: {
      limit: organization.limits.authFailures.text,
      invalidTokens: boots.invalid,
      wrongAdminKeys,
      blocked,
    },
    hourly,
  };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
