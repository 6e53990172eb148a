/**
 * The failed-authentication limit (`limits.authFailures`) against the real
 * server process: forged tokens and wrong admin keys from one loopback
 * address spend it; that address is then refused at that organization until
 * the window ends, while other addresses and organizations are not; exact
 * across two processes on one store; every block logged, counted in the
 * metrics and in the security report.
 */

import assert from "node:assert/strict";
import { signWithJsonwebtoken } from "./jsonwebtoken_minter.ts";
import {
  awayFromWindowEdge,
  type ServerProcess,
  startServer,
} from "./server_process.ts";
import { testEachEngine } from "./store_engines.ts";

const SECRETS = {
  SHOP_SECRET: "throttle-shop-secret-0123456789abcdef0123",
  SHOP_ADMIN_KEY: "throttle-shop-admin-0123456789abcdef01234",
  OTHER_SECRET: "throttle-other-secret-0123456789abcdef012",
};
const SHOP = "https://shop.example";
const OTHER = "https://other.example";
/** A short window, so a test can wait for its end. */
const WINDOW_MS = 6_000;

const POLICY = `version: 1
defaults:
  limits: { organization: 1000/minute, ip: 1000/minute, authFailures: 3/6s }
organizations:
  shop:
    domains: { mode: enforce, allow: [shop.example] }
    jwt:
      mode: optional
      keys: [{ id: k1, secret: { env: SHOP_SECRET } }]
    admin:
      keys: [{ secret: { env: SHOP_ADMIN_KEY } }]
  other:
    domains: { mode: enforce, allow: [other.example] }
    jwt:
      mode: optional
      keys: [{ id: o1, secret: { env: OTHER_SECRET } }]
`;

function userToken(
  organizationId: string,
  origin: string,
  secret: string,
): string {
  const now = Math.floor(Date.now() / 1000);
  return signWithJsonwebtoken(
    {
      iss: origin,
      aud: "chat-widget",
      sub: "user_1",
      iat: now,
      exp: now + 300,
      org_id: organizationId,
    },
    secret,
  );
}

const forged = () =>
  userToken("shop", SHOP, "a-guessed-secret-0123456789abcdef01234");
const genuine = () => userToken("shop", SHOP, SECRETS.SHOP_SECRET);

function bootFrom(
  server: ServerProcess,
  address: string,
  token: string,
  organizationId = "shop",
  origin = SHOP,
) {
  return server.rpc("chat.boot", { organizationId }, {
    origin,
    token,
    localAddress: address,
  });
}

function assertThrottled(
  reply: {
    status: number;
    headers: Headers;
    body: { error: { code: string; reason: string; retryAfter: number } };
  },
): void {
  assert.equal(reply.status, 429);
  assert.equal(reply.body.error.code, "RATE_LIMITED");
  assert.equal(reply.body.error.reason, "limits.auth_failures");
  const retryAfter = reply.body.error.retryAfter;
  assert.ok(retryAfter >= 1 && retryAfter <= 6, `retryAfter ${retryAfter}`);
  assert.equal(reply.headers.get("retry-after"), String(retryAfter));
  assert.match(
    reply.headers.get("ratelimit") ?? "",
    /"authFailures";r=0;t=\d+/,
  );
}

testEachEngine(
  "forged tokens from one address spend its failed-authentication limit: that address is refused, another is admitted, and the window's end lifts it",
  async (engine) => {
    await using server = await startServer({
      policy: POLICY,
      env: SECRETS,
      store: await engine.location(),
    });
    await awayFromWindowEdge(WINDOW_MS, 4_500);
    for (let i = 0; i < 3; i++) {
      const reply = await bootFrom(server, "127.0.0.2", forged());
      assert.equal(reply.status, 401);
      assert.equal(reply.body.error.code, "JWT_INVALID");
      assert.equal(reply.body.error.reason, "jwt.signature");
    }
    // Spent: even a genuine token, or a method without one, is refused.
    const blocked = await bootFrom(server, "127.0.0.2", genuine());
    assertThrottled(blocked);
    assertThrottled(
      await server.rpc("chat.getConfig", { organizationId: "shop" }, {
        origin: SHOP,
        localAddress: "127.0.0.2",
      }),
    );
    // Another address of the same organization, and another organization.
    assert.equal((await bootFrom(server, "127.0.0.3", genuine())).status, 200);
    assert.equal(
      (await bootFrom(
        server,
        "127.0.0.2",
        userToken("other", OTHER, SECRETS.OTHER_SECRET),
        "other",
        OTHER,
      )).status,
      200,
    );

    // The first block is logged at once; later ones are folded into a line
    // per window with their count (written at the latest when the server
    // stops: see below).
    const first = (await server.decisions()).filter((entry) =>
      entry.reason === "limits.auth_failures"
    );
    assert.equal(first.length, 1);
    assert.equal(first[0]!.count, undefined);
    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    assert.ok(
      metrics.includes(
        'parley_auth_throttle_blocks_total{organization="shop"} 2',
      ),
      metrics,
    );
    const report = await server.rpc("agent.securityReport", {
      organizationId: "shop",
    }, { token: SECRETS.SHOP_ADMIN_KEY });
    assert.equal(report.status, 200);
    assert.deepEqual(report.body.data.authFailures, {
      limit: "3/6s",
      invalidTokens: 3,
      wrongAdminKeys: 0,
      blocked: 2,
    });

    await new Promise((resolve) =>
      setTimeout(resolve, blocked.body.error.retryAfter * 1000)
    );
    assert.equal((await bootFrom(server, "127.0.0.2", genuine())).status, 200);

    await server.stop();
    const decisions = (await server.decisions()).filter((entry) =>
      entry.reason === "limits.auth_failures"
    );
    assert.equal(
      decisions.reduce((sum, entry) => sum + (entry.count ?? 1), 0),
      2,
      "every block is in the log",
    );
    for (const entry of decisions) {
      assert.equal(entry.code, "RATE_LIMITED");
      assert.equal(entry.ip, "127.0.0.2");
      assert.equal(entry.organizationId, "shop");
    }
  },
);

testEachEngine(
  "wrong admin keys from one address spend the limit too, and the right key is then refused from there only",
  async (engine) => {
    await using server = await startServer({
      policy: POLICY,
      env: SECRETS,
      store: await engine.location(),
    });
    await awayFromWindowEdge(WINDOW_MS, 3_000);
    const list = (address: string, key?: string) =>
      server.rpc("agent.listConversations", { organizationId: "shop" }, {
        localAddress: address,
        ...(key === undefined ? {} : { token: key }),
      });
    // A missing key guesses nothing: it is refused but not counted.
    for (let i = 0; i < 4; i++) {
      assert.equal((await list("127.0.0.4")).status, 401);
    }
    for (let i = 0; i < 3; i++) {
      const reply = await list(
        "127.0.0.4",
        `wrong-key-${i}-0123456789abcdef0123`,
      );
      assert.equal(reply.status, 401);
      assert.equal(reply.body.error.reason, "agent.key_invalid");
    }
    assertThrottled(await list("127.0.0.4", SECRETS.SHOP_ADMIN_KEY));
    // The failed keys spent nothing of another address.
    assert.equal((await list("127.0.0.5", SECRETS.SHOP_ADMIN_KEY)).status, 200);
    const report = await server.rpc("agent.securityReport", {
      organizationId: "shop",
    }, { token: SECRETS.SHOP_ADMIN_KEY, localAddress: "127.0.0.5" });
    assert.equal(report.body.data.authFailures.wrongAdminKeys, 3);
    assert.equal(report.body.data.authFailures.blocked, 1);
  },
);

testEachEngine(
  "the limit is exact across two server processes on one store: failures on both spend it, and the one that never saw it spent refuses too",
  async (engine) => {
    const location = await engine.location();
    const env = {
      ...SECRETS,
      PARLEY_SESSION_SECRET: "shared-session-secret-0123456789abcdef",
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
    await awayFromWindowEdge(WINDOW_MS, 3_000);
    assert.equal((await bootFrom(first, "127.0.0.6", forged())).status, 401);
    assert.equal((await bootFrom(first, "127.0.0.6", forged())).status, 401);
    assert.equal((await bootFrom(second, "127.0.0.6", forged())).status, 401);
    // `first` counted two failures itself; the third was counted by `second`.
    assertThrottled(await bootFrom(first, "127.0.0.6", genuine()));
    assertThrottled(await bootFrom(second, "127.0.0.6", genuine()));
    assert.equal((await bootFrom(first, "127.0.0.7", genuine())).status, 200);
  },
);
