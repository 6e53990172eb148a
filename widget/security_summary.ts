/**
 * A security report in words: what its counts say about switching modes and
 * retiring keys. Shared by the `/agent` inbox's Security view and
 * `deno task policy report`, so both say the same. Pure and browser-safe.
 *
 * @module
 */

import type { SecurityReport, SecurityReportWouldRefuse } from "../wire/mod.ts";

/** A key used this recently is still in use. */
export const KEY_IN_USE_MS = 24 * 60 * 60 * 1000;
/** Origins named in a sentence; the rest are counted. */
const ORIGINS_IN_WORDS = 5;

/** What to do about one key. */
export type KeyAdvice = "in_use" | "retire" | "idle" | "remove";

/** One key's line. */
export interface KeySummary {
  readonly id: string;
  /** `in_use`: used in the last 24 h; `retire`: not, while another key is; `idle`: not, and no key is; `remove`: past its `until`. */
  readonly advice: KeyAdvice;
  /** E.g. `key 2026-08 last used 3 days ago: safe to retire`. */
  readonly text: string;
}

/** A report in sentences. */
export interface SecuritySummary {
  /** The window in words, e.g. `24 h`, `7 days`. */
  readonly window: string;
  /** The share of admitted boots with a valid token. */
  readonly tokens: string;
  /** What `jwt.mode: required` would do. */
  readonly required: string;
  /** What `domains.mode: enforce` would do. */
  readonly enforced: string;
  /** Invalid tokens by reason, when there were any. */
  readonly invalid?: string;
  /** What the failed-authentication limit met. */
  readonly throttle: string;
  /** One line per configured key. */
  readonly keys: readonly KeySummary[];
}

/**
 * Says what a report means.
 *
 * @param report An `agent.securityReport` reply.
 * @param now Epoch milliseconds, for "3 days ago".
 * @returns The sentences.
 */
export function summarizeSecurityReport(
  report: SecurityReport,
  now: number,
): SecuritySummary {
  const window = windowInWords(report.hours);
  const invalidEntries = Object.entries(report.invalidReasons);
  return {
    window,
    tokens: tokensInWords(report, window),
    required: requiredInWords(report, window),
    enforced: enforcedInWords(report, window),
    ...(report.boots.invalid === 0 ? {} : {
      invalid: `${
        count(report.boots.invalid, "boot")
      } carried an invalid token: ${
        invalidEntries.map(([reason, n]) => `${reason} ${number(n)}`).join(
          ", ",
        )
      }.`,
    }),
    throttle: throttleInWords(report),
    keys: keysInWords(report, now),
  };
}

/** Under `off` no token is verified, so a share of valid ones would read as 0% of them valid. */
function tokensInWords(report: SecurityReport, window: string): string {
  const admitted = report.boots.admitted;
  if (admitted === 0) return `No boots were admitted in the last ${window}.`;
  if (report.modes.jwt === "off") {
    return `${count(admitted, "boot")} ${
      admitted === 1 ? "was" : "were"
    } admitted in the last ${window}; their tokens were not checked, so none counts as verified.`;
  }
  return `${share(report.boots.verified, admitted)} of the ${
    count(admitted, "boot")
  } admitted in the last ${window} carried a valid token.`;
}

function requiredInWords(report: SecurityReport, window: string): string {
  switch (report.modes.jwt) {
    case "required":
      return "`jwt.mode` is `required`: boots without a valid token are refused.";
    case "off":
      return "`jwt.mode` is `off`: tokens are not checked. Under `optional`, a token sent is verified (an invalid one refused, a boot without one still admitted), and this report shows the share of boots with a valid token and what `required` would refuse — switch to it before requiring tokens.";
    case "optional":
      return wouldRefuse("`required`", report.ifRequired, report, window);
  }
}

function enforcedInWords(report: SecurityReport, window: string): string {
  switch (report.modes.domains) {
    case "enforce":
      return "`domains.mode` is `enforce`: boots from pages off the allow list are refused.";
    case "off":
      return "`domains.mode` is `off`: any page may boot the widget. Switch to `report` to see what `enforce` would refuse.";
    case "report":
      return wouldRefuse("`enforce`", report.ifEnforced, report, window);
  }
}

/** What the stricter `mode` would have refused of the window's admitted boots. */
function wouldRefuse(
  mode: string,
  would: SecurityReportWouldRefuse,
  report: SecurityReport,
  window: string,
): string {
  const admitted = report.boots.admitted;
  if (admitted === 0) {
    return `No boots in the last ${window} to tell what ${mode} would refuse.`;
  }
  if (would.refused === 0) {
    return `${mode} would have refused none of ${
      number(admitted)
    }: it is safe to switch.`;
  }
  const named = would.origins.slice(0, ORIGINS_IN_WORDS).map((origin) =>
    `${origin.origin} (${number(origin.refused)})`
  );
  const rest = would.origins.length - named.length;
  return `${mode} would have refused ${number(would.refused)} of ${
    number(admitted)
  }, from ${would.origins.length === 1 ? "this origin" : "these origins"}: ${
    named.join(", ")
  }${rest > 0 ? ` and ${number(rest)} more` : ""}.`;
}

function throttleInWords(report: SecurityReport): string {
  const { limit, blocked, wrongAdminKeys } = report.authFailures;
  const wrong = wrongAdminKeys === 0
    ? ""
    : ` ${count(wrongAdminKeys, "wrong admin key")} ${
      wrongAdminKeys === 1 ? "was" : "were"
    } tried.`;
  return blocked === 0
    ? `The failed-authentication limit (${limit} per address) blocked nothing.${wrong}`
    : `The failed-authentication limit (${limit} per address) blocked ${
      count(blocked, "request")
    }.${wrong}`;
}

function keysInWords(report: SecurityReport, now: number): KeySummary[] {
  const inUse = (lastSeen: string | null) =>
    lastSeen !== null && now - Date.parse(lastSeen) < KEY_IN_USE_MS;
  return report.keys.map((key) => {
    const others = report.keys.some((other) =>
      other.id !== key.id && inUse(other.lastSeen)
    );
    if (key.until !== undefined && Date.parse(key.until) <= now) {
      return {
        id: key.id,
        advice: "remove",
        text: `key ${key.id} is refused since ${
          key.until.slice(0, 10)
        }: remove it from the policy`,
      };
    }
    const used = key.lastSeen === null
      ? `key ${key.id} not used in the last 7 days`
      : `key ${key.id} last used ${
        relativeTime(now - Date.parse(key.lastSeen))
      }`;
    if (inUse(key.lastSeen)) {
      return { id: key.id, advice: "in_use", text: `${used}: still in use` };
    }
    return others
      ? { id: key.id, advice: "retire", text: `${used}: safe to retire` }
      : { id: key.id, advice: "idle", text: used };
  });
}

/**
 * How long ago, in words: `just now`, `5 minutes ago`, `3 hours ago`,
 * `3 days ago`.
 *
 * @param elapsedMs Milliseconds since.
 * @returns The words.
 */
export function relativeTime(elapsedMs: number): string {
  const minutes = Math.floor(elapsedMs / 60_000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${count(minutes, "minute")} ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${count(hours, "hour")} ago`;
  return `${count(Math.floor(hours / 24), "day")} ago`;
}

/**
 * A report window in words: `24 h`, `7 days`.
 *
 * @param hours The window.
 * @returns The words.
 */
export function windowInWords(hours: number): string {
  return hours >= 48 && hours % 24 === 0 ? `${hours / 24} days` : `${hours} h`;
}

/** `97.8%`, rounded down so anything short of all never reads `100.0%`. */
function share(part: number, whole: number): string {
  if (part >= whole) return "100%";
  return `${(Math.floor((part / whole) * 1000) / 10).toFixed(1)}%`;
}

function number(value: number): string {
  return value.toLocaleString("en-US");
}

function count(value: number, noun: string): string {
  return `${number(value)} ${noun}${value === 1 ? "" : "s"}`;
}
