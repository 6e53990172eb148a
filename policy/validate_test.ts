import {
  deepStrictEqual as deepEqual,
  ok,
  strictEqual as equal,
} from "node:assert/strict";
import { parseDomainPattern } from "./domain_pattern.ts";
import type { PolicyProblem } from "./types.ts";
import {
  validateOrganizationFile,
  validatePolicy,
  validateSettingsFile,
} from "./validate.ts";

const SECRET = "s".repeat(40);
const NOW = Date.parse("2026-06-01T00:00:00Z");

/** A policy with one organization `acme`; `body` starts at line 4, indented for you. */
function withOrg(body: string): string {
  const indented = body.split("\n").map((line) => `    ${line}`).join("\n");
  return `version: 1\norganizations:\n  acme:\n${indented}\n`;
}

/** A policy whose `acme` allows one domain entry, written on line 6. */
function withDomain(entry: string): string {
  return withOrg(`domains:\n  allow:\n    - ${JSON.stringify(entry)}`);
}

interface Row {
  readonly name: string;
  readonly text: string;
  readonly env?: Record<string, string>;
  readonly code: string;
  readonly path: string;
  readonly line: number;
  readonly severity?: "error" | "warning";
}

const ROWS: readonly Row[] = [
  {
    name: "YAML syntax error",
    text: "version: 1\norganizations:\n  acme: [a, b\n",
    code: "syntax",
    path: "",
    line: 4,
  },
  {
    name: "JSON syntax error",
    text: '{\n  "version": 1,\n  "organizations": {,}\n}',
    code: "syntax",
    path: "",
    line: 3,
  },
  {
    name: "unknown top-level key",
    text: "version: 1\norgnizations: {}\n",
    code: "unknown-key",
    path: "orgnizations",
    line: 2,
  },
  {
    name: "unknown organization key",
    text: withOrg("domian: {}"),
    code: "unknown-key",
    path: "organizations.acme.domian",
    line: 4,
  },
  {
    name: "unknown key in a JWT key",
    text: withOrg(
      `jwt:\n  keys:\n    - id: a\n      secret: { env: S }\n      kid: a`,
    ),
    env: { S: SECRET },
    code: "unknown-key",
    path: "organizations.acme.jwt.keys[0].kid",
    line: 8,
  },
  {
    name: "key written twice",
    text: withOrg("name: A\nname: B"),
    code: "duplicate-key",
    path: "organizations.acme.name",
    line: 5,
  },
  {
    name: "organization defined twice",
    text: "version: 1\norganizations:\n  acme: {}\n  acme: {}\n",
    code: "duplicate-key",
    path: "organizations.acme",
    line: 4,
  },
  {
    name: "missing version",
    text: "organizations: {}\n",
    code: "unknown-version",
    path: "version",
    line: 1,
  },
  {
    name: "version 2",
    text: "version: 2\norganizations: {}\n",
    code: "unknown-version",
    path: "version",
    line: 1,
  },
  {
    name: "empty file",
    text: "",
    code: "unknown-version",
    path: "version",
    line: 1,
  },
  {
    name: "top level is a list",
    text: "- version: 1\n",
    code: "wrong-type",
    path: "",
    line: 1,
  },
  {
    name: "appIds as a string",
    text: withOrg("appIds: acme_web"),
    code: "wrong-type",
    path: "organizations.acme.appIds",
    line: 4,
  },
  {
    name: "name as a list",
    text: withOrg("name: [a]"),
    code: "wrong-type",
    path: "organizations.acme.name",
    line: 4,
  },
  {
    name: "trustProxy not an integer",
    text: "version: 1\nserver: { trustProxy: yes }\n",
    code: "wrong-type",
    path: "server.trustProxy",
    line: 2,
  },
  {
    name: "trustProxy negative",
    text: "version: 1\nserver:\n  trustProxy: -1\n",
    code: "out-of-range",
    path: "server.trustProxy",
    line: 3,
  },
  {
    name: "maxBodyBytes too large",
    text: "version: 1\nserver:\n  maxBodyBytes: 100000000\n",
    code: "out-of-range",
    path: "server.maxBodyBytes",
    line: 3,
  },
  {
    name: "onStoreError unknown",
    text: "version: 1\nserver:\n  onStoreError: ignore\n",
    code: "bad-enum",
    path: "server.onStoreError",
    line: 3,
  },
  {
    name: "domains mode unknown",
    text: withOrg("domains:\n  mode: block\n  allow: [acme.com]"),
    code: "bad-enum",
    path: "organizations.acme.domains.mode",
    line: 5,
  },
  {
    name: "jwt mode unknown",
    text: withOrg("jwt: { mode: always }"),
    code: "bad-enum",
    path: "organizations.acme.jwt.mode",
    line: 4,
  },
  {
    name: "widget position unknown",
    text: withOrg("widget:\n  position: center"),
    code: "bad-enum",
    path: "organizations.acme.widget.position",
    line: 5,
  },
  {
    name: "rate written in words",
    text: withOrg("limits:\n  ip: 20 per minute"),
    code: "bad-rate",
    path: "organizations.acme.limits.ip",
    line: 5,
  },
  {
    name: "default rate with zero count",
    text: "version: 1\ndefaults:\n  limits:\n    organization: 0/minute\n",
    code: "bad-rate",
    path: "defaults.limits.organization",
    line: 4,
  },
  {
    name: "duration without unit",
    text: withOrg("jwt:\n  maxLifetime: 900"),
    code: "bad-duration",
    path: "organizations.acme.jwt.maxLifetime",
    line: 5,
  },
  {
    name: "default clock tolerance not a duration",
    text: "version: 1\ndefaults:\n  jwt: { clockTolerance: soon }\n",
    code: "bad-duration",
    path: "defaults.jwt.clockTolerance",
    line: 3,
  },
  {
    name: "retention not a duration",
    text: withOrg("retention: forever"),
    code: "bad-duration",
    path: "organizations.acme.retention",
    line: 4,
  },
  ...[
    "*",
    "*.*.acme.com",
    "a.*.com",
    "*acme.com",
    "acme.com/chat",
    "https://acme.com/",
    "acme.com?x=1",
    "acme.com#top",
    "user@acme.com",
    "https://user:pw@acme.com",
    "ftp://acme.com",
    "javascript://acme.com",
    "acme..com",
    "acme com",
    "https://acme.com:99999",
    "*.127.0.0.1",
    "",
  ].map((entry): Row => ({
    name: `domain pattern "${entry}"`,
    text: withDomain(entry),
    code: "bad-domain-pattern",
    path: "organizations.acme.domains.allow[0]",
    line: 6,
  })),
  ...["*.com", "*.co.uk", "*.github.io", "http://*.com", "*.test"].map((
    entry,
  ): Row => ({
    name: `wildcard over public suffix "${entry}"`,
    text: withDomain(entry),
    code: "wildcard-public-suffix",
    path: "organizations.acme.domains.allow[0]",
    line: 6,
  })),
  {
    name: "domain entry that is a number",
    text: withOrg("domains:\n  allow:\n    - 42"),
    code: "wrong-type",
    path: "organizations.acme.domains.allow[0]",
    line: 6,
  },
  {
    name: "domain listed twice",
    text: withOrg("domains:\n  allow:\n    - acme.com\n    - ACME.com."),
    code: "duplicate-domain",
    path: "organizations.acme.domains.allow[1]",
    line: 7,
    severity: "warning",
  },
  {
    name: "enforce without domains",
    text: withOrg("domains: { mode: enforce, allow: [] }"),
    code: "no-domains",
    path: "organizations.acme.domains.allow",
    line: 4,
    severity: "warning",
  },
  {
    name: "organization id with a space",
    text: 'version: 1\norganizations:\n  "acme corp": {}\n',
    code: "bad-organization-id",
    path: "organizations.acme corp",
    line: 3,
  },
  {
    name: "organization id too long",
    text: `version: 1\norganizations:\n  ${"a".repeat(65)}: {}\n`,
    code: "bad-organization-id",
    path: `organizations.${"a".repeat(65)}`,
    line: 3,
  },
  {
    name: "JWT key id used twice",
    text: withOrg(
      "jwt:\n  keys:\n    - { id: k, secret: { env: S } }\n    - { id: k, secret: { env: S } }",
    ),
    env: { S: SECRET },
    code: "duplicate-key-id",
    path: "organizations.acme.jwt.keys[1].id",
    line: 7,
  },
  {
    name: "JWT key without id",
    text: withOrg("jwt:\n  keys:\n    - secret: { env: S }"),
    env: { S: SECRET },
    code: "missing-key",
    path: "organizations.acme.jwt.keys[0].id",
    line: 6,
  },
  {
    name: "JWT key without secret",
    text: withOrg("jwt:\n  keys:\n    - id: k"),
    code: "missing-key",
    path: "organizations.acme.jwt.keys[0].secret",
    line: 6,
  },
  {
    name: "JWT required without keys",
    text: withOrg("jwt:\n  mode: required"),
    code: "jwt-required-without-keys",
    path: "organizations.acme.jwt.keys",
    line: 5,
  },
  {
    name: "JWT optional without keys",
    text: withOrg("jwt:\n  mode: optional\n  keys: []"),
    code: "jwt-optional-without-keys",
    path: "organizations.acme.jwt.keys",
    line: 6,
    severity: "warning",
  },
  {
    name: "eleven JWT keys",
    text: withOrg(
      `jwt:\n  keys:\n${
        Array.from(
          { length: 11 },
          (_, index) => `    - { id: k${index}, secret: { env: S } }`,
        ).join("\n")
      }`,
    ),
    env: { S: SECRET },
    code: "too-many-keys",
    path: "organizations.acme.jwt.keys",
    line: 6,
  },
  {
    name: "environment variable not set",
    text: withOrg("jwt:\n  keys:\n    - id: k\n      secret: { env: ACME_X }"),
    code: "env-missing",
    path: "organizations.acme.jwt.keys[0].secret.env",
    line: 7,
  },
  {
    name: "environment variable empty",
    text: withOrg("jwt:\n  keys:\n    - id: k\n      secret: { env: ACME_X }"),
    env: { ACME_X: "" },
    code: "env-missing",
    path: "organizations.acme.jwt.keys[0].secret.env",
    line: 7,
  },
  {
    name: "environment secret under 32 bytes",
    text: withOrg("jwt:\n  keys:\n    - id: k\n      secret: { env: ACME_X }"),
    env: { ACME_X: "x".repeat(31) },
    code: "secret-too-short",
    path: "organizations.acme.jwt.keys[0].secret",
    line: 7,
  },
  {
    name: "invalid environment variable name",
    text: withOrg("jwt:\n  keys:\n    - id: k\n      secret: { env: 9-lives }"),
    code: "bad-env-name",
    path: "organizations.acme.jwt.keys[0].secret.env",
    line: 7,
  },
  {
    name: "secret reference with another key",
    text: withOrg("jwt:\n  keys:\n    - id: k\n      secret: { file: /x }"),
    code: "unknown-key",
    path: "organizations.acme.jwt.keys[0].secret",
    line: 7,
  },
  {
    name: "secret as a number",
    text: withOrg("jwt:\n  keys:\n    - id: k\n      secret: 12345"),
    code: "wrong-type",
    path: "organizations.acme.jwt.keys[0].secret",
    line: 7,
  },
  {
    name: "inline secret",
    text: withOrg(`jwt:\n  keys:\n    - id: k\n      secret: ${SECRET}`),
    code: "inline-secret",
    path: "organizations.acme.jwt.keys[0].secret",
    line: 7,
    severity: "warning",
  },
  {
    name: "key past its until",
    text: withOrg(
      "jwt:\n  keys:\n    - id: k\n      secret: { env: S }\n      until: 2026-01-01T00:00:00Z",
    ),
    env: { S: SECRET },
    code: "until-past",
    path: "organizations.acme.jwt.keys[0].until",
    line: 8,
    severity: "warning",
  },
  {
    name: "until not a time",
    text: withOrg(
      "jwt:\n  keys:\n    - id: k\n      secret: { env: S }\n      until: next week",
    ),
    env: { S: SECRET },
    code: "bad-until",
    path: "organizations.acme.jwt.keys[0].until",
    line: 8,
  },
  {
    name: "until with a time but no zone",
    text: withOrg(
      "jwt:\n  keys:\n    - id: k\n      secret: { env: S }\n      until: 2026-12-15T00:00:00",
    ),
    env: { S: SECRET },
    code: "bad-until",
    path: "organizations.acme.jwt.keys[0].until",
    line: 8,
  },
  {
    name: "admin key too short",
    text: withOrg("admin:\n  keys:\n    - secret: { env: ADMIN }"),
    env: { ADMIN: "short" },
    code: "secret-too-short",
    path: "organizations.acme.admin.keys[0].secret",
    line: 6,
  },
  {
    name: "color not hex",
    text: withOrg("widget:\n  color: blue"),
    code: "bad-color",
    path: "organizations.acme.widget.color",
    line: 5,
  },
  {
    name: "webhook with ftp URL",
    text: withOrg(
      "webhook:\n  url: ftp://hooks.acme.com\n  secret: { env: S }",
    ),
    env: { S: SECRET },
    code: "bad-url",
    path: "organizations.acme.webhook.url",
    line: 5,
  },
  {
    name: "webhook without secret",
    text: withOrg("webhook:\n  url: https://hooks.acme.com/x"),
    code: "missing-key",
    path: "organizations.acme.webhook.secret",
    line: 5,
  },
  {
    name: "no organizations",
    text: "version: 1\n",
    code: "no-organizations",
    path: "organizations",
    line: 1,
    severity: "warning",
  },
  {
    name: "session limit not a rate",
    text: withOrg("limits: { session: lots }"),
    code: "bad-rate",
    path: "organizations.acme.limits.session",
    line: 4,
  },
  {
    name: "default auth-failure limit not a rate",
    text: "version: 1\ndefaults:\n  limits: { authFailures: 10 }\n",
    code: "bad-rate",
    path: "defaults.limits.authFailures",
    line: 3,
  },
  {
    name: "agent limit misspelt",
    text: withOrg("limits: { agnet: 10/minute }"),
    code: "unknown-key",
    path: "organizations.acme.limits.agnet",
    line: 4,
  },
  {
    name: "no streams per session",
    text: "version: 1\nserver:\n  maxStreamsPerSession: 0\n",
    code: "out-of-range",
    path: "server.maxStreamsPerSession",
    line: 3,
  },
  {
    name: "streams per IP not an integer",
    text: "version: 1\nserver:\n  maxStreamsPerIp: 2.5\n",
    code: "wrong-type",
    path: "server.maxStreamsPerIp",
    line: 3,
  },
  {
    name: "process stream cap beyond its bound",
    text: "version: 1\nserver:\n  maxStreams: 2000000\n",
    code: "out-of-range",
    path: "server.maxStreams",
    line: 3,
  },
  {
    name: "retention shorter than a minute",
    text: withOrg("retention: 30s"),
    code: "bad-duration",
    path: "organizations.acme.retention",
    line: 4,
  },
  {
    name: "retention of conversations without a unit",
    text: withOrg("retention: { conversations: 90 }"),
    code: "bad-duration",
    path: "organizations.acme.retention.conversations",
    line: 4,
  },
  {
    name: "retention keeping no messages",
    text: withOrg("retention: { messages: 0 }"),
    code: "out-of-range",
    path: "organizations.acme.retention.messages",
    line: 4,
  },
  {
    name: "retention keeping too many messages",
    text: withOrg("retention: { messages: 100001 }"),
    code: "out-of-range",
    path: "organizations.acme.retention.messages",
    line: 4,
  },
  {
    name: "retention with an unknown part",
    text: withOrg("retention: { conversation: 90d }"),
    code: "unknown-key",
    path: "organizations.acme.retention.conversation",
    line: 4,
  },
  {
    name: "admin key id with a space",
    text: withOrg(
      'admin:\n  keys:\n    - id: "ada lovelace"\n      secret: { env: A }',
    ),
    env: { A: SECRET },
    code: "bad-admin-key-id",
    path: "organizations.acme.admin.keys[0].id",
    line: 6,
  },
  {
    name: "admin key id used twice",
    text: withOrg(
      "admin:\n  keys:\n    - { id: ada, secret: { env: A } }\n    - { id: ada, secret: { env: B } }",
    ),
    env: { A: SECRET, B: "b".repeat(40) },
    code: "duplicate-key-id",
    path: "organizations.acme.admin.keys[1].id",
    line: 7,
  },
  {
    name: "admin key id taking the default id of a later key",
    text: withOrg(
      "admin:\n  keys:\n    - { id: key-2, secret: { env: A } }\n    - { secret: { env: B } }",
    ),
    env: { A: SECRET, B: "b".repeat(40) },
    code: "duplicate-key-id",
    path: "organizations.acme.admin.keys[1].id",
    line: 7,
  },
  {
    name: "admin key with an empty name",
    text: withOrg('admin:\n  keys:\n    - { name: " ", secret: { env: A } }'),
    env: { A: SECRET },
    code: "wrong-type",
    path: "organizations.acme.admin.keys[0].name",
    line: 6,
  },
  {
    name: "two admin keys with one secret",
    text: withOrg(
      "admin:\n  keys:\n    - { id: ada, secret: { env: A } }\n    - { id: bob, secret: { env: B } }",
    ),
    env: { A: SECRET, B: SECRET },
    code: "duplicate-admin-secret",
    path: "organizations.acme.admin.keys[1].secret",
    line: 7,
    severity: "warning",
  },
  {
    name: "business hours without a time zone",
    text: withOrg('widget:\n  hours:\n    weekly: { mon: "09:00-17:00" }'),
    code: "missing-key",
    path: "organizations.acme.widget.hours.timezone",
    line: 6,
  },
  {
    name: "business hours in an unknown time zone",
    text: withOrg(
      'widget:\n  hours:\n    timezone: Mars/Olympus_Mons\n    weekly: { mon: "09:00-17:00" }',
    ),
    code: "bad-timezone",
    path: "organizations.acme.widget.hours.timezone",
    line: 6,
  },
  {
    name: "business hours without weekly",
    text: withOrg("widget:\n  hours: { timezone: UTC }"),
    code: "missing-key",
    path: "organizations.acme.widget.hours.weekly",
    line: 5,
  },
  {
    name: "weekly hours as a list",
    text: withOrg(
      'widget:\n  hours:\n    timezone: UTC\n    weekly: ["09:00-17:00"]',
    ),
    code: "wrong-type",
    path: "organizations.acme.widget.hours.weekly",
    line: 7,
  },
  {
    name: "a day that is not a day",
    text: withOrg(
      'widget:\n  hours:\n    timezone: UTC\n    weekly:\n      weekdays: "09:00-17:00"',
    ),
    code: "bad-hours",
    path: "organizations.acme.widget.hours.weekly.weekdays",
    line: 8,
  },
  {
    name: "a day given twice",
    text: withOrg(
      'widget:\n  hours:\n    timezone: UTC\n    weekly:\n      mon-fri: "09:00-17:00"\n      fri: "09:00-13:00"',
    ),
    code: "hours-day-twice",
    path: "organizations.acme.widget.hours.weekly.fri",
    line: 9,
  },
  {
    name: "hours without minutes",
    text: withOrg(
      'widget:\n  hours:\n    timezone: UTC\n    weekly:\n      mon: "9-17"',
    ),
    code: "bad-hours",
    path: "organizations.acme.widget.hours.weekly.mon",
    line: 8,
  },
  {
    name: "hours ending before they start",
    text: withOrg(
      'widget:\n  hours:\n    timezone: UTC\n    weekly:\n      fri: "22:00-02:00"',
    ),
    code: "bad-hours",
    path: "organizations.acme.widget.hours.weekly.fri",
    line: 8,
  },
  {
    name: "a bad range in a day's list",
    text: withOrg(
      'widget:\n  hours:\n    timezone: UTC\n    weekly:\n      sat: ["10:00-12:00", "13:00-25:00"]',
    ),
    code: "bad-hours",
    path: "organizations.acme.widget.hours.weekly.sat[1]",
    line: 8,
  },
  {
    name: "overlapping ranges",
    text: withOrg(
      'widget:\n  hours:\n    timezone: UTC\n    weekly:\n      sat: ["10:00-14:00", "13:00-15:00"]',
    ),
    code: "bad-hours",
    path: "organizations.acme.widget.hours.weekly.sat",
    line: 8,
  },
  {
    name: "unanswered delay not a duration",
    text: withOrg("widget:\n  unansweredAfter: soon"),
    code: "bad-duration",
    path: "organizations.acme.widget.unansweredAfter",
    line: 5,
  },
  {
    name: "unanswered delay under a second",
    text: withOrg("widget:\n  unansweredAfter: 500ms"),
    code: "bad-duration",
    path: "organizations.acme.widget.unansweredAfter",
    line: 5,
  },
  {
    name: "1,001 admin keys in one organization",
    text: withOrg(
      `admin:\n  keys:\n${
        Array.from(
          { length: 1_001 },
          (_, i) => `    - { id: a${i}, secret: { env: KEY_${i} } }`,
        ).join("\n")
      }`,
    ),
    code: "too-many-admin-keys",
    path: "organizations.acme.admin.keys",
    line: 6,
  },
  {
    name: "a policy file over 1 MiB",
    text: `version: 1\n#${"x".repeat(1_048_576)}\n`,
    code: "file-too-large",
    path: "",
    line: 1,
  },
];

for (const row of ROWS) {
  Deno.test(`validatePolicy() reports ${row.code} for ${row.name}`, () => {
    const result = validatePolicy(row.text, {
      env: row.env ?? {},
      now: NOW,
    });
    const found = result.problems.find((problem) =>
      problem.code === row.code && problem.path === row.path
    );
    ok(
      found,
      `expected ${row.code} at ${row.path}, got ${
        JSON.stringify(result.problems)
      }`,
    );
    equal(found.line, row.line);
    equal(found.severity, row.severity ?? "error");
    ok(found.column >= 1);
    ok(/^[A-Z]/.test(found.message) && !found.message.endsWith("."));
    const failed = result.problems.some((problem) =>
      problem.severity === "error"
    );
    equal(result.spec === undefined, failed);
  });
}

const DESIGN_EXAMPLE = `version: 1
defaults:
  limits: { organization: 100/minute, ip: 20/minute }
  jwt: { maxLifetime: 15m, clockTolerance: 30s }
server: { trustProxy: 0, maxBodyBytes: 16384 }
organizations:
  acme:
    name: Acme Inc.
    appIds: [acme_web]
    domains:
      mode: enforce                 # enforce | report | off
      allow: [acme.com, "*.acme.com", "http://localhost:3000"]
    jwt:
      mode: required                # off | optional | required
      keys:
        - id: "2026-11"
          secret: { env: ACME_CHAT_JWT_SECRET }
        - id: "2026-08"
          secret: { env: ACME_CHAT_JWT_SECRET_PREV }
          until: 2026-12-15T00:00:00Z   # rotation overlap
    limits: { organization: 600/minute }
    widget: { title: Acme Support, greeting: "Hi! How can we help?", color: "#0b5fff" }
    admin:
      keys: [{ secret: { env: ACME_ADMIN_KEY } }]
`;

const DESIGN_ENV = {
  ACME_CHAT_JWT_SECRET: "a".repeat(32),
  ACME_CHAT_JWT_SECRET_PREV: "b".repeat(48),
  ACME_ADMIN_KEY: "c".repeat(32),
};

Deno.test("validatePolicy() accepts the example with most options and normalises it", () => {
  const { spec, problems } = validatePolicy(DESIGN_EXAMPLE, {
    env: DESIGN_ENV,
    now: NOW,
  });
  deepEqual(problems, []);
  ok(spec);
  const acme = spec.organizations.get("acme");
  ok(acme);
  equal(acme.name, "Acme Inc.");
  deepEqual(acme.appIds, ["acme_web"]);
  deepEqual(acme.domains.allow, [
    { source: "acme.com", scheme: "https", host: "acme.com", wildcard: false },
    {
      source: "*.acme.com",
      scheme: "https",
      host: "acme.com",
      wildcard: true,
    },
    {
      source: "http://localhost:3000",
      scheme: "http",
      host: "localhost",
      wildcard: false,
      port: 3000,
    },
  ]);
  equal(acme.jwt.mode, "required");
  deepEqual(acme.jwt.keys.map((key) => key.id), ["2026-11", "2026-08"]);
  deepEqual(
    acme.jwt.keys[0]?.secret,
    new TextEncoder().encode(DESIGN_ENV.ACME_CHAT_JWT_SECRET),
  );
  equal(acme.jwt.keys[0]?.until, undefined);
  equal(acme.jwt.keys[1]?.until, Date.parse("2026-12-15T00:00:00Z"));
  equal(acme.jwt.maxLifetimeMs, 900_000);
  equal(acme.jwt.clockToleranceMs, 30_000);
  deepEqual(acme.limits.organization, {
    count: 600,
    windowMs: 60_000,
    text: "600/minute",
  });
  equal(acme.limits.ip.text, "20/minute");
  deepEqual(acme.widget, {
    title: "Acme Support",
    greeting: "Hi! How can we help?",
    color: "#0b5fff",
    unansweredAfterMs: 5 * 60_000,
  });
  deepEqual(acme.adminKeys, [
    { id: "key-1", name: "Acme Inc.", secret: DESIGN_ENV.ACME_ADMIN_KEY },
  ]);
  deepEqual(spec.server, {
    trustProxy: 0,
    maxBodyBytes: 16384,
    onStoreError: "closed",
    maxStreamsPerSession: 2,
    maxStreamsPerIp: 50,
    maxStreams: 10_000,
    allowWebhookHosts: [],
  });
});

Deno.test("validatePolicy() fills in the documented defaults", () => {
  const { spec } = validatePolicy(
    withOrg("domains: { mode: off }"),
    { now: NOW },
  );
  ok(spec);
  equal(spec.defaults.limits.organization.text, "100/minute");
  equal(spec.defaults.limits.ip.text, "20/minute");
  equal(spec.defaults.limits.session.text, "60/minute");
  equal(spec.defaults.limits.agent.text, "600/minute");
  deepEqual(spec.defaults.limits.authFailures, {
    count: 10,
    windowMs: 600_000,
    text: "10/10m",
  });
  equal(spec.defaults.jwt.maxLifetimeMs, 15 * 60_000);
  equal(spec.defaults.jwt.clockToleranceMs, 30_000);
  deepEqual(spec.server, {
    trustProxy: 0,
    maxBodyBytes: 16384,
    onStoreError: "closed",
    maxStreamsPerSession: 2,
    maxStreamsPerIp: 50,
    maxStreams: 10_000,
    allowWebhookHosts: [],
  });
  const acme = spec.organizations.get("acme");
  ok(acme);
  equal(acme.name, "acme");
  deepEqual(acme.appIds, []);
  equal(acme.domains.mode, "off");
  equal(acme.jwt.mode, "off");
  equal(acme.jwt.maxLifetimeMs, 15 * 60_000);
  equal(acme.limits.organization.count, 100);
  equal(acme.limits.ip.count, 20);
  equal(acme.limits.session.count, 60);
  equal(acme.limits.agent.count, 600);
  equal(acme.limits.authFailures.count, 10);
  deepEqual(acme.widget, { unansweredAfterMs: 300_000 });
  deepEqual(acme.adminKeys, []);
  equal(acme.webhook, undefined);
  equal(acme.retentionMs, undefined);
  equal(acme.maxMessages, 1000);
});

Deno.test("validatePolicy() merges organization limits with policy defaults", () => {
  const text = `version: 1
defaults:
  limits: { organization: 50/minute, ip: 5/10s }
  jwt: { maxLifetime: 5m }
organizations:
  a:
    domains: { mode: off }
    limits: { ip: 7/second }
  b:
    domains: { mode: off }
    jwt: { clockTolerance: 0s }
`;
  const { spec } = validatePolicy(text);
  ok(spec);
  const a = spec.organizations.get("a");
  const b = spec.organizations.get("b");
  equal(a?.limits.organization.text, "50/minute");
  equal(a?.limits.ip.text, "7/second");
  equal(b?.limits.ip.windowMs, 10_000);
  equal(b?.jwt.maxLifetimeMs, 300_000);
  equal(b?.jwt.clockToleranceMs, 0);
  // Each organization owns its limits object, distinct from the defaults.
  ok(b?.limits !== spec.defaults.limits);
});

Deno.test("validatePolicy() returns frozen objects", () => {
  const { spec } = validatePolicy(DESIGN_EXAMPLE, { env: DESIGN_ENV });
  ok(spec);
  const acme = spec.organizations.get("acme");
  ok(acme);
  for (
    const value of [
      spec,
      spec.server,
      spec.defaults,
      spec.defaults.limits,
      acme,
      acme.domains,
      acme.domains.allow,
      acme.domains.allow[0],
      acme.jwt,
      acme.jwt.keys,
      acme.jwt.keys[0],
      acme.limits,
      acme.limits.ip,
      acme.widget,
      acme.adminKeys,
    ]
  ) {
    ok(Object.isFrozen(value));
  }
});

Deno.test("validatePolicy() reads JSON policies with positions", () => {
  const json = JSON.stringify(
    {
      version: 1,
      organizations: {
        acme: { domains: { mode: "enforce", allow: ["acme.com", "*.com"] } },
      },
    },
    null,
    2,
  );
  const { problems } = validatePolicy(json);
  deepEqual(
    problems.map((problem) => [problem.code, problem.path, problem.line]),
    [["wildcard-public-suffix", "organizations.acme.domains.allow[1]", 9]],
  );
});

Deno.test("validatePolicy() accepts until as a YAML 1.1 timestamp", () => {
  const text = "%YAML 1.1\n---\n" + withOrg(
    "jwt:\n  keys:\n    - id: k\n      secret: { env: S }\n      until: 2026-12-15T00:00:00Z\n",
  );
  const { spec, problems } = validatePolicy(text, {
    env: { S: SECRET },
    now: NOW,
  });
  deepEqual(problems.filter((problem) => problem.severity === "error"), []);
  equal(
    spec?.organizations.get("acme")?.jwt.keys[0]?.until,
    Date.parse("2026-12-15T00:00:00Z"),
  );
});

Deno.test("validatePolicy() reports every problem at once, in file order", () => {
  const text = `version: 3
server: { trustProxy: -2, onStoreError: maybe }
organizations:
  "bad id":
    domains: { mode: strict, allow: ["*", "*.com"] }
    jwt: { mode: required }
    limits: { ip: lots }
    widget: { color: red }
`;
  const { spec, problems } = validatePolicy(text);
  equal(spec, undefined);
  deepEqual(problems.map((problem) => problem.code), [
    "unknown-version",
    "out-of-range",
    "bad-enum",
    "bad-organization-id",
    "bad-enum",
    "bad-domain-pattern",
    "wildcard-public-suffix",
    "jwt-required-without-keys",
    "bad-rate",
    "bad-color",
  ]);
  const positions = problems.map((problem) => [problem.line, problem.column]);
  const sorted = [...positions].sort((a, b) =>
    (a[0] ?? 0) - (b[0] ?? 0) || (a[1] ?? 0) - (b[1] ?? 0)
  );
  deepEqual(positions, sorted);
});

Deno.test("validatePolicy() suggests the closest key", () => {
  const cases: ReadonlyArray<readonly [string, string, string]> = [
    [withOrg("domian: {}"), "organizations.acme.domian", '"domains"'],
    [withOrg("jwt: { mdoe: off }"), "organizations.acme.jwt.mdoe", '"mode"'],
    ["version: 1\nsever: {}\n", "sever", '"server"'],
  ];
  for (const [text, path, suggestion] of cases) {
    const problem = validatePolicy(text).problems.find((found) =>
      found.path === path
    );
    equal(problem?.code, "unknown-key");
    ok(problem?.hint?.includes(suggestion), problem?.hint);
  }
});

Deno.test("validatePolicy() names the variable and the key when a secret is missing", () => {
  const problem = validatePolicy(DESIGN_EXAMPLE, {
    env: { ...DESIGN_ENV, ACME_CHAT_JWT_SECRET_PREV: "" },
  }).problems.find((found) => found.code === "env-missing");
  ok(problem?.message.includes("ACME_CHAT_JWT_SECRET_PREV"));
  ok(problem?.message.includes("2026-08"));
});

Deno.test("validatePolicy() treats a throwing environment lookup as missing", () => {
  const { problems } = validatePolicy(DESIGN_EXAMPLE, {
    env: () => {
      throw new Deno.errors.NotCapable("Requires env access");
    },
  });
  deepEqual(
    problems.map((problem) => problem.code),
    ["env-missing", "env-missing", "env-missing"],
  );
});

Deno.test("validatePolicy() keeps the spec when there are only warnings", () => {
  const { spec, problems } = validatePolicy(
    withOrg(
      `domains: { allow: [acme.com] }\njwt:\n  mode: optional\n  keys: [{ id: k, secret: ${SECRET} }]`,
    ),
  );
  deepEqual(problems.map((problem) => problem.code), ["inline-secret"]);
  deepEqual(
    spec?.organizations.get("acme")?.jwt.keys[0]?.secret,
    new TextEncoder().encode(SECRET),
  );
});

const SECRET_VALUE = "Zq7-UNIQUE-SECRET-VALUE-that-must-never-leak-0123456789";
const SHORT_SECRET = "UNIQUE-short-xyz";
const SECRET_LEAK_ROWS: ReadonlyArray<
  readonly [string, string, Record<string, string>]
> = [
  [
    "inline JWT secret",
    withOrg(`jwt:\n  keys:\n    - id: k\n      secret: ${SECRET_VALUE}`),
    {},
  ],
  [
    "inline JWT secret too short",
    withOrg(`jwt:\n  keys:\n    - id: k\n      secret: ${SHORT_SECRET}`),
    {},
  ],
  [
    "environment JWT secret too short",
    withOrg("jwt:\n  keys:\n    - id: k\n      secret: { env: S }"),
    { S: SHORT_SECRET },
  ],
  [
    "secret pasted where the variable name goes",
    withOrg(
      `jwt:\n  keys:\n    - id: k\n      secret: { env: "${SECRET_VALUE}" }`,
    ),
    {},
  ],
  [
    "secret pasted as a key of the reference",
    withOrg(`jwt:\n  keys:\n    - id: k\n      secret: { ${SHORT_SECRET}: x }`),
    {},
  ],
  [
    "secret pasted as the reference's only value",
    withOrg(`jwt:\n  keys:\n    - id: k\n      secret: [${SECRET_VALUE}]`),
    {},
  ],
  [
    "admin secret too short",
    withOrg("admin:\n  keys:\n    - secret: { env: A }"),
    { A: SHORT_SECRET },
  ],
  [
    "inline admin secret",
    withOrg(`admin:\n  keys:\n    - secret: ${SECRET_VALUE}`),
    {},
  ],
  [
    "inline webhook secret too short",
    withOrg(
      `webhook:\n  url: https://hooks.acme.com/${SHORT_SECRET}\n  secret: ${SHORT_SECRET}`,
    ),
    {},
  ],
  [
    "webhook URL carrying a token",
    withOrg(
      `webhook:\n  url: "ftp://hooks.acme.com/${SECRET_VALUE}"\n  secret: { env: W }`,
    ),
    { W: SECRET_VALUE },
  ],
];

for (const [name, text, env] of SECRET_LEAK_ROWS) {
  Deno.test(`validatePolicy() never reveals a secret: ${name}`, () => {
    const { problems } = validatePolicy(text, { env });
    ok(problems.length > 0);
    const rendered = problems.map((problem: PolicyProblem) =>
      [problem.message, problem.hint ?? "", problem.path].join("\n")
    ).join("\n");
    ok(!rendered.includes(SECRET_VALUE), rendered);
    ok(!rendered.includes(SHORT_SECRET), rendered);
    ok(!rendered.includes(SECRET_VALUE.slice(0, 20)), rendered);
  });
}

const GOOD_PATTERNS: ReadonlyArray<
  readonly [string, {
    scheme: string;
    host: string;
    wildcard: boolean;
    port?: number;
  }]
> = [
  ["acme.com", { scheme: "https", host: "acme.com", wildcard: false }],
  ["ACME.com.", { scheme: "https", host: "acme.com", wildcard: false }],
  ["*.acme.com", { scheme: "https", host: "acme.com", wildcard: true }],
  ["*.acme.test", { scheme: "https", host: "acme.test", wildcard: true }],
  ["http://*.acme.test", { scheme: "http", host: "acme.test", wildcard: true }],
  [
    "shop.acme.test",
    { scheme: "https", host: "shop.acme.test", wildcard: false },
  ],
  [
    "http://localhost:3000",
    { scheme: "http", host: "localhost", wildcard: false, port: 3000 },
  ],
  [
    "https://x.com:8443",
    { scheme: "https", host: "x.com", wildcard: false, port: 8443 },
  ],
  [
    "http://127.0.0.1:8787",
    { scheme: "http", host: "127.0.0.1", wildcard: false, port: 8787 },
  ],
  ["localhost", { scheme: "https", host: "localhost", wildcard: false }],
  ["*.localhost", { scheme: "https", host: "localhost", wildcard: true }],
  ["http://[::1]", { scheme: "http", host: "[::1]", wildcard: false }],
  [
    "bücher.example",
    { scheme: "https", host: "xn--bcher-kva.example", wildcard: false },
  ],
  ["*.acme.co.uk", { scheme: "https", host: "acme.co.uk", wildcard: true }],
  [
    "*.me.github.io",
    { scheme: "https", host: "me.github.io", wildcard: true },
  ],
];

for (const [source, expected] of GOOD_PATTERNS) {
  Deno.test(`parseDomainPattern() accepts "${source}"`, () => {
    deepEqual(parseDomainPattern(source), { source, ...expected });
  });
}

Deno.test("validatePolicy() reads the session, agent and auth-failure limits, merged with the defaults", () => {
  const text = `version: 1
defaults:
  limits: { session: 30/minute, authFailures: 5/10m }
organizations:
  a:
    domains: { mode: off }
    limits: { agent: 1000/minute }
  b:
    domains: { mode: off }
    limits: { session: 90/minute, authFailures: 20/hour }
`;
  const { spec, problems } = validatePolicy(text);
  deepEqual(problems, []);
  ok(spec);
  const a = spec.organizations.get("a");
  const b = spec.organizations.get("b");
  equal(spec.defaults.limits.session.text, "30/minute");
  equal(spec.defaults.limits.agent.text, "600/minute");
  equal(a?.limits.session.text, "30/minute");
  equal(a?.limits.agent.text, "1000/minute");
  equal(a?.limits.authFailures.text, "5/10m");
  equal(b?.limits.session.text, "90/minute");
  equal(b?.limits.agent.text, "600/minute");
  deepEqual(b?.limits.authFailures, {
    count: 20,
    windowMs: 3_600_000,
    text: "20/hour",
  });
});

Deno.test("validatePolicy() reads the stream caps of the server section", () => {
  const { spec, problems } = validatePolicy(
    "version: 1\nserver: { maxStreamsPerSession: 1, maxStreamsPerIp: 8, maxStreams: 500 }\n",
  );
  deepEqual(problems.map((problem) => problem.code), ["no-organizations"]);
  equal(spec?.server.maxStreamsPerSession, 1);
  equal(spec?.server.maxStreamsPerIp, 8);
  equal(spec?.server.maxStreams, 500);
});

Deno.test("validatePolicy() reads retention as a duration or as { conversations, messages }", () => {
  const text = `version: 1
organizations:
  scalar: { domains: { mode: off }, retention: 90d }
  both: { domains: { mode: off }, retention: { conversations: 30d, messages: 250 } }
  messages: { domains: { mode: off }, retention: { messages: 50 } }
  none: { domains: { mode: off } }
`;
  const { spec, problems } = validatePolicy(text);
  deepEqual(problems, []);
  const retention = (id: string) => {
    const organization = spec?.organizations.get(id);
    return [organization?.retentionMs, organization?.maxMessages];
  };
  deepEqual(retention("scalar"), [90 * 86_400_000, 1000]);
  deepEqual(retention("both"), [30 * 86_400_000, 250]);
  deepEqual(retention("messages"), [undefined, 50]);
  deepEqual(retention("none"), [undefined, 1000]);
});

Deno.test("validatePolicy() names admin keys: written ids and names, else key-<n> and the organization's name", () => {
  const text = withOrg(`name: Acme Inc.
domains: { mode: off }
admin:
  keys:
    - { id: ada, name: "Ada Lovelace", secret: { env: ADA } }
    - { secret: { env: SHARED } }
    - { id: 2026, secret: { env: BOT } }`);
  const env = {
    ADA: "a".repeat(40),
    SHARED: "s".repeat(40),
    BOT: "b".repeat(40),
  };
  const { spec, problems } = validatePolicy(text, { env });
  deepEqual(problems, []);
  deepEqual(spec?.organizations.get("acme")?.adminKeys, [
    { id: "ada", name: "Ada Lovelace", secret: env.ADA },
    { id: "key-2", name: "Acme Inc.", secret: env.SHARED },
    { id: "2026", name: "Acme Inc.", secret: env.BOT },
  ]);
});

Deno.test("validatePolicy() reads business hours into Monday-first ranges in a canonical zone", () => {
  const text = withOrg(`domains: { mode: off }
widget:
  hours:
    timezone: europe/berlin
    weekly:
      mon-thu: "09:00-17:00"
      fri: ["13:00-16:00", "08:00-12:00"]
      sun-sun-x: "10:00-11:00"`);
  // One bad key makes the hours invalid, and the rest are still checked.
  deepEqual(
    validatePolicy(text).problems.map((problem) => problem.code),
    ["bad-hours"],
  );
  const { spec, problems } = validatePolicy(
    text.replace(
      '      sun-sun-x: "10:00-11:00"',
      '      sat-sun: "10:00-24:00"',
    ),
  );
  deepEqual(problems, []);
  const nine = { from: 540, to: 1020 };
  deepEqual(spec?.organizations.get("acme")?.widget.hours, {
    timezone: "Europe/Berlin",
    weekly: [
      [nine],
      [nine],
      [nine],
      [nine],
      [{ from: 480, to: 720 }, { from: 780, to: 960 }],
      [{ from: 600, to: 1440 }],
      [{ from: 600, to: 1440 }],
    ],
  });
  ok(Object.isFrozen(spec?.organizations.get("acme")?.widget.hours?.weekly));
});

Deno.test("validatePolicy() reads widget.unansweredAfter, 5m by default", () => {
  const { spec } = validatePolicy(withOrg("widget:\n  unansweredAfter: 90s"));
  equal(spec?.organizations.get("acme")?.widget.unansweredAfterMs, 90_000);
});

const ORGANIZATION_FILE = `version: 1
name: Acme Inc.
domains:
  allow: [acme.com, "*.acme.com"]
jwt:
  mode: optional
  keys: [{ id: "2026-11", secret: { env: ACME_JWT } }]
limits: { organization: 600/minute }
`;

Deno.test("validateOrganizationFile() reads one organization at the top level, its id from the file name", () => {
  const defaults = validateSettingsFile(
    "version: 1\ndefaults:\n  limits: { ip: 5/minute }\n",
  ).settings?.defaults;
  ok(defaults);
  const { organization, problems } = validateOrganizationFile(
    ORGANIZATION_FILE,
    { organizationId: "acme", defaults, env: { ACME_JWT: SECRET } },
  );
  deepEqual(problems, []);
  equal(organization?.id, "acme");
  equal(organization?.name, "Acme Inc.");
  deepEqual(organization?.jwt.keys.map((key) => key.id), ["2026-11"]);
  equal(organization?.limits.organization.text, "600/minute");
  equal(organization?.limits.ip.text, "5/minute", "the directory's default");
  ok(Object.isFrozen(organization));
});

Deno.test("validateOrganizationFile() paths start at the file's top level", () => {
  const { organization, problems } = validateOrganizationFile(
    ORGANIZATION_FILE.replace("mode: optional", "mode: sometimes"),
    { organizationId: "acme", env: { ACME_JWT: SECRET } },
  );
  equal(organization, undefined);
  deepEqual(
    problems.map((problem) => [problem.code, problem.path, problem.line]),
    [["bad-enum", "jwt.mode", 6]],
  );
});

const FOREIGN_ROWS: ReadonlyArray<readonly [string, string, string, number]> = [
  ["an id of its own", "version: 1\nid: globex\n", "id", 2],
  [
    "other organizations",
    "version: 1\norganizations:\n  globex: {}\n",
    "organizations",
    2,
  ],
];

for (const [name, text, path, line] of FOREIGN_ROWS) {
  Deno.test(`validateOrganizationFile() reports foreign-organization for ${name}`, () => {
    const { organization, problems } = validateOrganizationFile(text, {
      organizationId: "acme",
    });
    equal(organization, undefined);
    const problem = problems.find((found) =>
      found.code === "foreign-organization"
    );
    equal(problem?.path, path);
    equal(problem?.line, line);
  });
}

Deno.test("validateOrganizationFile() reports bad-organization-id for a file name that is not an id", () => {
  const { organization, problems } = validateOrganizationFile(
    "version: 1\ndomains: { mode: off }\n",
    { organizationId: "acme corp" },
  );
  equal(organization, undefined);
  deepEqual(problems.map((problem) => problem.code), ["bad-organization-id"]);
});

Deno.test("validateOrganizationFile() needs version 1", () => {
  const { problems } = validateOrganizationFile("domains: { mode: off }\n", {
    organizationId: "acme",
  });
  deepEqual(problems.map((problem) => problem.code), ["unknown-version"]);
});

Deno.test("validateSettingsFile() reads defaults and server settings", () => {
  const { settings, problems } = validateSettingsFile(
    "version: 1\ndefaults:\n  limits: { session: 30/minute }\nserver: { trustProxy: 1 }\n",
  );
  deepEqual(problems, []);
  equal(settings?.server.trustProxy, 1);
  equal(settings?.server.maxStreams, 10_000);
  equal(settings?.defaults.limits.session.text, "30/minute");
  equal(settings?.defaults.limits.ip.text, "20/minute");
});

Deno.test("validateSettingsFile() reports foreign-organization for organizations in _parley.yaml", () => {
  const { settings, problems } = validateSettingsFile(
    "version: 1\norganizations:\n  acme: {}\n",
  );
  equal(settings, undefined);
  deepEqual(
    problems.map((problem) => [problem.code, problem.path, problem.line]),
    [["foreign-organization", "organizations", 2]],
  );
});

Deno.test("validateSettingsFile() suggests the closest key", () => {
  const { problems } = validateSettingsFile("version: 1\ndefualts: {}\n");
  equal(problems[0]?.code, "unknown-key");
  ok(problems[0]?.hint?.includes('"defaults"'));
});

Deno.test("validatePolicy() takes 1,000 admin keys in one organization", () => {
  const env: Record<string, string> = {};
  const keys = Array.from({ length: 1_000 }, (_, i) => {
    env[`KEY_${i}`] = `admin-key-${i}-${SECRET}`;
    return `    - { id: a${i}, secret: { env: KEY_${i} } }`;
  });
  const { spec, problems } = validatePolicy(
    withOrg(`admin:\n  keys:\n${keys.join("\n")}`),
    { env },
  );
  deepEqual(problems.filter((problem) => problem.code !== "no-domains"), []);
  equal(spec?.organizations.get("acme")?.adminKeys.length, 1_000);
});

Deno.test("validatePolicy() reports only file-too-large for a text over 1 MiB", () => {
  const { problems } = validatePolicy(`version: 1\n#${"x".repeat(1_048_576)}`);
  deepEqual(problems.map((problem) => problem.code), ["file-too-large"]);
});

/** beta's file naming acme's variable, on line 5 column 18. */
const BETA_BINDS_ACME = `version: 1
domains: { allow: [beta.example] }
webhook:
  url: https://beta.example/h
  secret: { env: ACME_WEBHOOK_SECRET }
`;

Deno.test("validateOrganizationFile() refuses a variable not assigned to its organization, at its position", () => {
  const { organization, problems } = validateOrganizationFile(
    BETA_BINDS_ACME,
    {
      organizationId: "beta",
      secrets: new Map([["acme", ["ACME_*"]], ["beta", ["BETA_*"]]]),
      env: { ACME_WEBHOOK_SECRET: SECRET },
    },
  );
  equal(organization, undefined);
  deepEqual(
    problems.map((problem) => [
      problem.code,
      problem.path,
      problem.line,
      problem.column,
    ]),
    [["secret-not-assigned", "webhook.secret.env", 5, 18]],
  );
  ok(problems[0]?.hint?.includes("beta: [BETA_*, ACME_WEBHOOK_SECRET]"));
});

Deno.test("validateOrganizationFile() answers the same for an unassigned variable set, unset or short (no oracle)", () => {
  const outcomes = [
    { ACME_WEBHOOK_SECRET: SECRET },
    {},
    { ACME_WEBHOOK_SECRET: "short" },
  ].map((env) =>
    JSON.stringify(
      validateOrganizationFile(BETA_BINDS_ACME, {
        organizationId: "beta",
        secrets: new Map([["acme", ["ACME_*"]]]),
        env,
      }).problems,
    )
  );
  equal(new Set(outcomes).size, 1, outcomes.join("\n"));
});

Deno.test("validateOrganizationFile() with no secrets: map lets the file name no variable", () => {
  const { problems } = validateOrganizationFile(ORGANIZATION_FILE, {
    organizationId: "acme",
    secrets: new Map(),
    env: { ACME_JWT: SECRET },
  });
  deepEqual(problems.map((problem) => problem.code), ["secret-not-assigned"]);
  ok(
    problems[0]?.hint?.startsWith(
      'Add to _parley.yaml "secrets:" with "  acme: [ACME_JWT]"',
    ),
  );
});

Deno.test("validateOrganizationFile() reads its own assigned variables", () => {
  const { organization, problems } = validateOrganizationFile(
    ORGANIZATION_FILE,
    {
      organizationId: "acme",
      secrets: new Map([["acme", ["ACME_*"]]]),
      env: { ACME_JWT: SECRET },
    },
  );
  deepEqual(problems, []);
  equal(organization?.jwt.keys.length, 1);
});

Deno.test("validateSettingsFile() reads secrets: into an assignment, and reports bad entries", () => {
  const good = validateSettingsFile(
    "version: 1\nsecrets:\n  acme: [ACME_*]\n  beta: [BETA_WEBHOOK_SECRET]\n",
  );
  deepEqual(good.problems, []);
  deepEqual([...good.settings?.secrets ?? []], [
    ["acme", ["ACME_*"]],
    ["beta", ["BETA_WEBHOOK_SECRET"]],
  ]);
  const bad = validateSettingsFile("version: 1\nsecrets:\n  acme: ['*']\n");
  equal(bad.settings, undefined);
  deepEqual(
    bad.problems.map((problem) => [problem.code, problem.line]),
    [["bad-secret-pattern", 3]],
  );
});
