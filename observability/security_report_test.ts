import assert from "node:assert/strict";
import { compilePolicy } from "../policy/compile.ts";
import type { SecurityCount } from "../store/security_counter_store.ts";
import { buildSecurityReport, MAX_REPORT_ORIGINS } from "./security_report.ts";
import { HOUR_MS, hourStart, ORIGIN_LABEL } from "./security_tally.ts";

/** Half past nine. */
const NOW = Date.UTC(2026, 11, 10, 9, 30);
const HOUR = hourStart(NOW);

const shop = compilePolicy(
  `version: 1
organizations:
  shop:
    domains: { mode: report, allow: [shop.example] }
    jwt:
      mode: optional
      keys:
        - { id: "2026-11", secret: { env: NEW } }
        - { id: "2026-08", secret: { env: OLD }, until: 2026-12-15T00:00:00Z }
        - { id: "spare", secret: { env: SPARE } }
    limits: { authFailures: 5/10m }
`,
  {
    env: {
      NEW: "report-new-secret-0123456789abcdef012345",
      OLD: "report-old-secret-0123456789abcdef012345",
      SPARE: "report-spare-secret-0123456789abcdef0123",
    },
  },
).organization("shop")!.spec;

function count(
  hoursAgo: number,
  metric: string,
  key: string,
  value: number,
  lastSeen = HOUR - hoursAgo * HOUR_MS + 60_000,
): SecurityCount {
  return {
    organizationId: "shop",
    hour: HOUR - hoursAgo * HOUR_MS,
    metric,
    key,
    count: value,
    lastSeen,
  };
}

const COUNTS: SecurityCount[] = [
  count(0, "boot", "verified", 40),
  count(0, "boot", "absent", 8),
  count(0, "boot", "invalid", 2),
  count(0, "key", "2026-11", 40, NOW - 5 * 60_000),
  count(0, "invalid", "jwt.expired", 2),
  count(0, "origin", "https://shop.example", 45),
  count(0, "refused", "https://shop.example", 2),
  count(0, "unverified", "https://shop.example", 3),
  count(0, "origin", "https://blog.example", 5),
  count(0, "unverified", "https://blog.example", 5),
  count(0, "report", "https://blog.example", 5),
  count(0, "auth", "blocked", 4),
  count(0, "auth", "admin_key", 1),
  count(23, "boot", "absent", 10),
  count(23, "origin", "https://shop.example", 10),
  count(23, "unverified", "https://shop.example", 10),
  // Outside a 24-hour window: only the old key's last use shows.
  count(72, "boot", "verified", 7),
  count(72, "key", "2026-08", 7),
  count(72, "invalid", "jwt.signature", 3),
  count(72, "origin", "https://old.example", 7),
];

Deno.test("buildSecurityReport() sums the window's hours and reads keys' last use over the days kept", () => {
  const report = buildSecurityReport(COUNTS, {
    organization: shop,
    hours: 24,
    now: NOW,
  });
  assert.equal(report.from, new Date(HOUR - 23 * HOUR_MS).toISOString());
  assert.equal(report.to, new Date(NOW).toISOString());
  assert.deepEqual(report.modes, { jwt: "optional", domains: "report" });
  assert.deepEqual(report.boots, {
    total: 60,
    verified: 40,
    absent: 18,
    invalid: 2,
    admitted: 58,
  });
  assert.deepEqual(report.invalidReasons, { "jwt.expired": 2 });
  assert.deepEqual(report.keys, [
    {
      id: "2026-11",
      verified: 40,
      lastSeen: new Date(NOW - 5 * 60_000).toISOString(),
    },
    {
      id: "2026-08",
      verified: 0,
      lastSeen: new Date(HOUR - 72 * HOUR_MS + 60_000).toISOString(),
      until: "2026-12-15T00:00:00.000Z",
    },
    { id: "spare", verified: 0, lastSeen: null },
  ]);
  assert.deepEqual(report.origins, [
    { origin: "https://shop.example", boots: 55, refused: 2 },
    { origin: "https://blog.example", boots: 5, refused: 0 },
  ]);
  assert.deepEqual(report.ifRequired, {
    refused: 18,
    origins: [
      { origin: "https://shop.example", refused: 13 },
      { origin: "https://blog.example", refused: 5 },
    ],
  });
  assert.deepEqual(report.ifEnforced, {
    refused: 5,
    origins: [{ origin: "https://blog.example", refused: 5 }],
  });
  assert.deepEqual(report.authFailures, {
    limit: "5/10m",
    invalidTokens: 2,
    wrongAdminKeys: 1,
    blocked: 4,
  });
  assert.equal(report.hourly.length, 24);
  assert.deepEqual(report.hourly[0], {
    hour: new Date(HOUR - 23 * HOUR_MS).toISOString(),
    verified: 0,
    absent: 10,
    invalid: 0,
    blocked: 0,
  });
  assert.deepEqual(report.hourly[23], {
    hour: new Date(HOUR).toISOString(),
    verified: 40,
    absent: 8,
    invalid: 2,
    blocked: 4,
  });
});

Deno.test("buildSecurityReport() over 7 days takes in what a day's window leaves out", () => {
  const report = buildSecurityReport(COUNTS, {
    organization: shop,
    hours: 168,
    now: NOW,
  });
  assert.equal(report.boots.total, 67);
  assert.equal(report.keys[1]!.verified, 7);
  assert.deepEqual(report.invalidReasons, {
    "jwt.expired": 2,
    "jwt.signature": 3,
  });
  assert.equal(report.hourly.length, 168);
  assert.equal(report.hourly[168 - 1 - 72]!.verified, 7);
});

Deno.test("buildSecurityReport() lists at most 50 origins, most boots first", () => {
  const many = Array.from(
    { length: MAX_REPORT_ORIGINS + 10 },
    (_, index) =>
      count(0, "origin", `https://site-${index}.example`, index + 1),
  );
  const report = buildSecurityReport(many, {
    organization: shop,
    hours: 1,
    now: NOW,
  });
  assert.equal(report.origins.length, MAX_REPORT_ORIGINS);
  assert.equal(report.origins[0]!.origin, "https://site-59.example");
  assert.equal(report.origins.at(-1)!.origin, "https://site-10.example");
});

Deno.test("buildSecurityReport() of an organization without traffic is all zeros, with every key", () => {
  const report = buildSecurityReport([], {
    organization: shop,
    hours: 24,
    now: NOW,
  });
  assert.deepEqual(report.boots, {
    total: 0,
    verified: 0,
    absent: 0,
    invalid: 0,
    admitted: 0,
  });
  assert.deepEqual(report.keys.map((key) => key.lastSeen), [null, null, null]);
  assert.deepEqual(report.ifRequired, { refused: 0, origins: [] });
});

Deno.test("buildSecurityReport() counts origins the store summed under (rest) in the totals, and lists none of them", () => {
  const report = buildSecurityReport([
    count(0, "boot", "absent", 30),
    count(0, "origin", "https://shop.example", 20),
    count(0, "origin", ORIGIN_LABEL.rest, 10),
    count(0, "refused", ORIGIN_LABEL.rest, 4),
    count(0, "unverified", "https://shop.example", 20),
    count(0, "unverified", ORIGIN_LABEL.rest, 6),
    count(0, "report", ORIGIN_LABEL.rest, 3),
  ], { organization: shop, hours: 1, now: NOW });
  assert.deepEqual(report.origins, [
    { origin: "https://shop.example", boots: 20, refused: 0 },
  ]);
  assert.equal(report.boots.admitted, 30 - 4);
  assert.deepEqual(report.ifRequired, {
    refused: 26,
    origins: [{ origin: "https://shop.example", refused: 20 }],
  });
  assert.deepEqual(report.ifEnforced, { refused: 3, origins: [] });
});
