/**
 * `agent.securityReport` against the real server process: exact counts after
 * known traffic (verified boots per key, absent, invalid by reason,
 * report-mode origins), admin-key authentication, no secret, token, email or
 * IP in the reply, counts that outlive a restart, and another process's
 * counts within one flush interval.
 */

import assert from "node:assert/strict";
import { hourStart } from "../observability/security_tally.ts";
import { signWithJsonwebtoken } from "./jsonwebtoken_minter.ts";
import { type ServerProcess, startServer, waitFor } from "./server_process.ts";
import { testEachEngine } from "./store_engines.ts";

const SECRETS = {
  SHOP_NEW_SECRET: "report-shop-new-secret-0123456789abcdef01",
  SHOP_OLD_SECRET: "report-shop-old-secret-0123456789abcdef01",
  SHOP_ADMIN_KEY: "report-shop-admin-key-0123456789abcdef012",
  OTHER_SECRET: "report-other-secret-0123456789abcdef01234",
  OTHER_ADMIN_KEY: "report-other-admin-key-0123456789abcdef01",
};
const SHOP = "https://shop.example";
const ELSEWHERE = "https://elsewhere.example";
const OTHER = "https://other.example";

const POLICY = `version: 1
defaults:
  limits: { organization: 1000/minute, ip: 1000/minute }
organizations:
  shop:
    domains: { mode: report, allow: [shop.example] }
    jwt:
      mode: optional
      keys:
        - { id: "2026-11", secret: { env: SHOP_NEW_SECRET } }
        - { id: "2026-08", secret: { env: SHOP_OLD_SECRET } }
    admin:
      keys: [{ secret: { env: SHOP_ADMIN_KEY } }]
  other:
    domains: { mode: enforce, allow: [other.example] }
    jwt:
      mode: optional
      keys: [{ id: o1, secret: { env: OTHER_SECRET } }]
    admin:
      keys: [{ secret: { env: OTHER_ADMIN_KEY } }]
`;

function token(
  secret: string,
  claims: Record<string, unknown> = {},
  keyid?: string,
): string {
  const now = Math.floor(Date.now() / 1000);
  return signWithJsonwebtoken(
    {
      iss: SHOP,
      aud: "chat-widget",
      sub: "user_1",
      iat: now,
      exp: now + 300,
      org_id: "shop",
      ...claims,
    },
    secret,
    keyid === undefined ? {} : { keyid },
  );
}

/**
 * The known traffic: 17 boots of `shop` from three origins and one without,
 * 6 verified (4 by key 2026-11, 2 by 2026-08), 7 absent, 4 invalid; plus
 * `getConfig` calls and `other`'s boots, which `shop`'s report never counts.
 */
async function knownTraffic(server: ServerProcess): Promise<void> {
  const boot = (origin: string | undefined, bearer?: string) =>
    server.rpc("chat.boot", {
      organizationId: "shop",
      email: "ada@example.com",
    }, {
      ...(origin === undefined ? {} : { origin }),
      ...(bearer === undefined ? {} : { token: bearer }),
    });
  const replies = [
    ...await Promise.all(
      Array.from(
        { length: 3 },
        () => boot(SHOP, token(SECRETS.SHOP_NEW_SECRET, {}, "2026-11")),
      ),
    ),
    ...await Promise.all(
      Array.from(
        { length: 2 },
        () => boot(SHOP, token(SECRETS.SHOP_OLD_SECRET, {}, "2026-08")),
      ),
    ),
    ...await Promise.all(Array.from({ length: 4 }, () => boot(SHOP))),
    // Off the allow list, admitted in report mode.
    await boot(ELSEWHERE),
    await boot(ELSEWHERE),
    await boot(
      ELSEWHERE,
      token(SECRETS.SHOP_NEW_SECRET, { iss: ELSEWHERE }, "2026-11"),
    ),
    await boot(undefined),
  ];
  for (const reply of replies) assert.equal(reply.status, 200);
  const now = Math.floor(Date.now() / 1000);
  const refused = [
    await boot(
      SHOP,
      token(
        SECRETS.SHOP_NEW_SECRET,
        { iat: now - 900, exp: now - 600 },
        "2026-11",
      ),
    ),
    await boot(
      SHOP,
      token("a-guessed-secret-0123456789abcdef01234", {}, "2026-11"),
    ),
    await boot(
      SHOP,
      token("another-guess-0123456789abcdef0123456", {}, "2026-11"),
    ),
    await boot(SHOP, "not-a-jwt"),
  ];
  assert.deepEqual(
    refused.map((reply) => reply.body.error.reason),
    ["jwt.expired", "jwt.signature", "jwt.signature", "jwt.malformed"],
  );
  for (let i = 0; i < 2; i++) {
    assert.equal(
      (await server.rpc("chat.getConfig", { organizationId: "shop" }, {
        origin: SHOP,
      })).status,
      200,
    );
  }
  for (let i = 0; i < 2; i++) {
    const reply = await server.rpc("chat.boot", { organizationId: "other" }, {
      origin: OTHER,
      token: signWithJsonwebtoken(
        {
          iss: OTHER,
          aud: "chat-widget",
          sub: "u",
          exp: now + 300,
          org_id: "other",
        },
        SECRETS.OTHER_SECRET,
      ),
    });
    assert.equal(reply.status, 200);
  }
}

function report(server: ServerProcess, body: Record<string, unknown> = {}) {
  return server.rpc("agent.securityReport", {
    organizationId: "shop",
    ...body,
  }, { token: SECRETS.SHOP_ADMIN_KEY });
}

/** The report's counts, without the times that move. */
function countsOf(data: Record<string, unknown>) {
  const { boots, invalidReasons, origins, ifRequired, ifEnforced, keys } =
    data as {
      boots: unknown;
      invalidReasons: unknown;
      origins: unknown;
      ifRequired: unknown;
      ifEnforced: unknown;
      keys: { id: string; verified: number }[];
    };
  return {
    boots,
    invalidReasons,
    origins,
    ifRequired,
    ifEnforced,
    keys: keys.map(({ id, verified }) => ({ id, verified })),
  };
}

const EXPECTED = {
  boots: { total: 17, verified: 6, absent: 7, invalid: 4, admitted: 13 },
  invalidReasons: { "jwt.expired": 1, "jwt.malformed": 1, "jwt.signature": 2 },
  origins: [
    { origin: SHOP, boots: 13, refused: 4 },
    { origin: ELSEWHERE, boots: 3, refused: 0 },
    { origin: "(none)", boots: 1, refused: 0 },
  ],
  ifRequired: {
    refused: 7,
    origins: [
      { origin: SHOP, refused: 4 },
      { origin: ELSEWHERE, refused: 2 },
      { origin: "(none)", refused: 1 },
    ],
  },
  ifEnforced: {
    refused: 4,
    origins: [
      { origin: ELSEWHERE, refused: 3 },
      { origin: "(none)", refused: 1 },
    ],
  },
  keys: [{ id: "2026-11", verified: 4 }, { id: "2026-08", verified: 2 }],
};

testEachEngine(
  "agent.securityReport counts known traffic exactly: verified boots per key, absent, invalid by reason, report-mode origins",
  async (engine) => {
    await using server = await startServer({
      policy: POLICY,
      env: SECRETS,
      store: await engine.location(),
    });
    const started = Date.now();
    await knownTraffic(server);
    const reply = await report(server);
    assert.equal(reply.status, 200);
    const data = reply.body.data;
    assert.equal(data.organizationId, "shop");
    assert.equal(data.hours, 24);
    assert.deepEqual(data.modes, { jwt: "optional", domains: "report" });
    assert.deepEqual(countsOf(data), EXPECTED);
    for (const key of data.keys) {
      const lastSeen = Date.parse(key.lastSeen);
      assert.ok(lastSeen >= started && lastSeen <= Date.now(), key.lastSeen);
    }
    assert.deepEqual(data.authFailures, {
      limit: "10/10m",
      invalidTokens: 4,
      wrongAdminKeys: 0,
      blocked: 0,
    });
    assert.equal(data.hourly.length, 24);
    const summed = data.hourly.reduce(
      (
        sum: Record<string, number>,
        hour: Record<string, number>,
      ) => ({
        verified: sum.verified! + hour.verified!,
        absent: sum.absent! + hour.absent!,
        invalid: sum.invalid! + hour.invalid!,
      }),
      { verified: 0, absent: 0, invalid: 0 },
    );
    assert.deepEqual(summed, { verified: 6, absent: 7, invalid: 4 });

    const other = await server.rpc("agent.securityReport", {
      organizationId: "other",
    }, { token: SECRETS.OTHER_ADMIN_KEY });
    assert.deepEqual(other.body.data.boots, {
      total: 2,
      verified: 2,
      absent: 0,
      invalid: 0,
      admitted: 2,
    });
  },
);

testEachEngine(
  "agent.securityReport is for the organization's admin key only, and checks its window",
  async (engine) => {
    await using server = await startServer({
      policy: POLICY,
      env: SECRETS,
      store: await engine.location(),
    });
    const rows: {
      name: string;
      body: Record<string, unknown>;
      key?: string;
      status: number;
      code: string;
      reason: string;
    }[] = [
      {
        name: "no key",
        body: { organizationId: "shop" },
        status: 401,
        code: "SESSION_INVALID",
        reason: "agent.key_invalid",
      },
      {
        name: "a wrong key",
        body: { organizationId: "shop" },
        key: "not-the-admin-key-0123456789abcdef0123",
        status: 401,
        code: "SESSION_INVALID",
        reason: "agent.key_invalid",
      },
      {
        name: "another organization's key",
        body: { organizationId: "shop" },
        key: SECRETS.OTHER_ADMIN_KEY,
        status: 401,
        code: "SESSION_INVALID",
        reason: "agent.key_invalid",
      },
      {
        name: "a user token's secret as the key",
        body: { organizationId: "shop" },
        key: SECRETS.SHOP_NEW_SECRET,
        status: 401,
        code: "SESSION_INVALID",
        reason: "agent.key_invalid",
      },
      {
        name: "an unknown organization",
        body: { organizationId: "nope" },
        key: SECRETS.SHOP_ADMIN_KEY,
        status: 404,
        code: "ORGANIZATION_NOT_FOUND",
        reason: "organization.unknown",
      },
      {
        name: "no organization",
        body: {},
        key: SECRETS.SHOP_ADMIN_KEY,
        status: 400,
        code: "BAD_REQUEST",
        reason: "param.organizationId.missing",
      },
      {
        name: "hours 0",
        body: { organizationId: "shop", hours: 0 },
        key: SECRETS.SHOP_ADMIN_KEY,
        status: 400,
        code: "BAD_REQUEST",
        reason: "param.hours.type",
      },
      {
        name: "hours past the 7 days kept",
        body: { organizationId: "shop", hours: 169 },
        key: SECRETS.SHOP_ADMIN_KEY,
        status: 400,
        code: "BAD_REQUEST",
        reason: "param.hours.type",
      },
      {
        name: "hours as a string",
        body: { organizationId: "shop", hours: "24" },
        key: SECRETS.SHOP_ADMIN_KEY,
        status: 400,
        code: "BAD_REQUEST",
        reason: "param.hours.type",
      },
    ];
    for (const row of rows) {
      const reply = await server.rpc(
        "agent.securityReport",
        row.body,
        row.key === undefined ? {} : { token: row.key },
      );
      assert.equal(reply.status, row.status, row.name);
      assert.equal(reply.body.error.code, row.code, row.name);
      assert.equal(reply.body.error.reason, row.reason, row.name);
    }
    const week = await report(server, { hours: 168 });
    assert.equal(week.status, 200);
    assert.equal(week.body.data.hourly.length, 168);
    // The three wrong keys that reached shop, counted for its report.
    assert.equal(week.body.data.authFailures.wrongAdminKeys, 3);
  },
);

testEachEngine(
  "agent.securityReport never carries a secret, token, email or IP address",
  async (engine) => {
    await using server = await startServer({
      policy: POLICY,
      env: SECRETS,
      store: await engine.location(),
    });
    const userToken = token(
      SECRETS.SHOP_NEW_SECRET,
      { user_data: { email: "grace@example.com", name: "Grace" } },
      "2026-11",
    );
    const sent = [
      userToken,
      token(SECRETS.SHOP_NEW_SECRET, { exp: 1 }, "2026-11"),
    ];
    for (const bearer of sent) {
      await server.rpc("chat.boot", {
        organizationId: "shop",
        email: "ada@example.com",
        name: "Ada",
        user_id: "user_1",
      }, { origin: SHOP, token: bearer });
    }
    await knownTraffic(server);
    const text = JSON.stringify((await report(server)).body);
    for (
      const secret of [
        ...Object.values(SECRETS),
        ...sent,
        ...sent.map((bearer) => bearer.split(".")[2]!),
        "grace@example.com",
        "ada@example.com",
        "127.0.0.1",
      ]
    ) {
      assert.ok(!text.includes(secret), `the report carries ${secret}`);
    }
  },
);

testEachEngine(
  "the counts outlive a restart: a stopping server adds what it holds to the store",
  async (engine) => {
    const location = await engine.location();
    const env = {
      ...SECRETS,
      PARLEY_SESSION_SECRET: "report-session-secret-0123456789abcdef",
    };
    {
      await using first = await startServer({
        policy: POLICY,
        env,
        store: location,
      });
      await knownTraffic(first);
      // Stopped within the flush interval of its traffic: close() flushes.
    }
    await using second = await startServer({
      policy: POLICY,
      env,
      store: location,
    });
    assert.deepEqual(countsOf((await report(second)).body.data), EXPECTED);
  },
);

testEachEngine(
  "another process's counts reach a report within one flush interval",
  async (engine) => {
    const location = await engine.location();
    const env = {
      ...SECRETS,
      PARLEY_SESSION_SECRET: "report-session-secret-0123456789abcdef",
    };
    await using first = await startServer({
      policy: POLICY,
      env,
      store: location,
    });
    await using second = await startServer({
      policy: POLICY,
      env,
      store: location,
    });
    await knownTraffic(first);
    // Nothing asks `first` to flush: its timer does, every 5 s.
    await waitFor(
      async () => (await report(second)).body.data.boots.total === 17,
      10_000,
    );
    assert.deepEqual(countsOf((await report(second)).body.data), EXPECTED);
    assert.deepEqual(countsOf((await report(first)).body.data), EXPECTED);
  },
);

testEachEngine(
  "a key's last use is read over the 7 days kept, its count over the window",
  async (engine) => {
    const location = await engine.location();
    const threeDaysAgo = Date.now() - 3 * 24 * 3_600_000;
    {
      // History from before this test: the old key's last boots, 3 days ago.
      await using store = await engine.open(location);
      await store.securityCounters.add([{
        organizationId: "shop",
        hour: hourStart(threeDaysAgo),
        metric: "key",
        key: "2026-08",
        count: 5,
        lastSeen: threeDaysAgo,
      }]);
    }
    await using server = await startServer({
      policy: POLICY,
      env: SECRETS,
      store: location,
    });
    const day = (await report(server)).body.data;
    assert.deepEqual(day.keys, [
      { id: "2026-11", verified: 0, lastSeen: null },
      {
        id: "2026-08",
        verified: 0,
        lastSeen: new Date(threeDaysAgo).toISOString(),
      },
    ]);
    const week = (await report(server, { hours: 168 })).body.data;
    assert.equal(week.keys[1].verified, 5);
  },
);
