/**
 * Rate limits against the real server process on a real KV file: exact under
 * concurrency and across processes, per IP from distinct loopback addresses,
 * one shared bucket for unknown organizations, and an organization budget
 * that forged traffic cannot spend.
 */

import assert from "node:assert/strict";
import { signWithJsonwebtoken } from "./jsonwebtoken_minter.ts";
import { awayFromWindowEdge, startServer } from "./server_process.ts";
import { serverStore, testEachEngine } from "./store_engines.ts";

const SECRET = "limits-test-secret-0123456789abcdef0123";

const POLICY = `version: 1
defaults:
  limits: { organization: 100/minute, ip: 20/minute }
server: { trustProxy: 1 }
organizations:
  shop:
    domains: { mode: enforce, allow: [shop.example] }
    jwt:
      mode: optional
      keys: [{ id: k1, secret: { env: SHOP_SECRET } }]
    admin:
      keys: [{ secret: { env: SHOP_ADMIN_KEY } }]
  budget:
    domains: { mode: enforce, allow: [budget.example] }
    jwt:
      mode: optional
      keys: [{ id: k1, secret: { env: SHOP_SECRET } }]
    # 15 forged tokens from one address would spend the default authFailures
    # (10/10m, tests/server_auth_throttle_test.ts); this file is about the
    # organization budget.
    limits: { organization: 10/minute, ip: 1000/minute, authFailures: 1000/minute }
`;

const ADMIN_KEY = "limits-test-admin-key-0123456789abcdef01";
const ENV = { SHOP_SECRET: SECRET, SHOP_ADMIN_KEY: ADMIN_KEY };
const SHOP = "https://shop.example";

function statuses(replies: { status: number }[]) {
  const counts: Record<number, number> = {};
  for (const reply of replies) {
    counts[reply.status] = (counts[reply.status] ?? 0) + 1;
  }
  return counts;
}

testEachEngine(
  "the IP limit admits exactly 20 a minute, sequentially",
  async (engine) => {
    await using server = await startServer({
      ...await serverStore(engine),
      policy: POLICY,
      env: ENV,
    });
    await awayFromWindowEdge();
    const replies = [];
    for (let i = 0; i < 25; i++) {
      replies.push(
        await server.rpc("chat.getConfig", { organizationId: "shop" }, {
          origin: SHOP,
        }),
      );
    }
    assert.deepEqual(
      replies.slice(0, 20).map((reply) => reply.body.rateLimit.remaining),
      [
        ...Array(20).keys(),
      ].map((i) => 19 - i),
    );
    for (const reply of replies.slice(20)) {
      assert.equal(reply.status, 429);
      assert.equal(reply.body.error.code, "RATE_LIMITED");
      assert.equal(reply.body.error.reason, "limit.ip");
      const retryAfter = reply.body.error.retryAfter;
      assert.ok(
        retryAfter >= 1 && retryAfter <= 66,
        `retryAfter ${retryAfter}`,
      );
      assert.equal(reply.headers.get("retry-after"), String(retryAfter));
      assert.match(reply.headers.get("ratelimit") ?? "", /"ip";r=0;t=\d+/);
    }
  },
);

testEachEngine(
  "the IP limit admits exactly 20 of 60 concurrent requests",
  async (engine) => {
    await using server = await startServer({
      ...await serverStore(engine),
      policy: POLICY,
      env: ENV,
    });
    await awayFromWindowEdge();
    const replies = await Promise.all(
      Array.from(
        { length: 60 },
        () =>
          server.rpc("chat.getConfig", { organizationId: "shop" }, {
            origin: SHOP,
          }),
      ),
    );
    assert.deepEqual(statuses(replies), { 200: 20, 429: 40 });
  },
);

testEachEngine(
  "the IP limit is exact across two server processes on one store",
  async (engine) => {
    const shared = await serverStore(engine);
    const dir = await Deno.makeTempDir({ prefix: "parley-two-" });
    try {
      const env = {
        ...ENV,
        PARLEY_SESSION_SECRET: "shared-session-secret-0123456789abcdef",
      };
      await using first = await startServer({
        ...shared,
        policy: POLICY,
        env,
        dir,
      });
      await using second = await startServer({
        ...shared,
        policy: POLICY,
        env,
        dir,
      });
      assert.notEqual(first.port, second.port);
      await awayFromWindowEdge();
      const replies = await Promise.all(
        Array.from(
          { length: 60 },
          (_, i) =>
            (i % 2 === 0 ? first : second).rpc("chat.getConfig", {
              organizationId: "shop",
            }, { origin: SHOP }),
        ),
      );
      assert.deepEqual(statuses(replies), { 200: 20, 429: 40 });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

testEachEngine("each source address has its own IP bucket", async (engine) => {
  await using server = await startServer({
    ...await serverStore(engine),
    policy: POLICY,
    env: ENV,
  });
  await awayFromWindowEdge();
  const from = (address: string) =>
    server.rpc("chat.getConfig", { organizationId: "shop" }, {
      origin: SHOP,
      localAddress: address,
    });
  const first = await Promise.all(
    Array.from({ length: 25 }, () => from("127.0.0.2")),
  );
  assert.deepEqual(statuses(first), { 200: 20, 429: 5 });
  const second = await Promise.all(
    Array.from({ length: 20 }, () => from("127.0.0.3")),
  );
  assert.deepEqual(statuses(second), { 200: 20 });
  assert.equal((await from("127.0.0.2")).status, 429);
});

testEachEngine(
  "X-Forwarded-For is read trustProxy hops from the right, never the leftmost entry",
  async (engine) => {
    await using server = await startServer({
      ...await serverStore(engine),
      policy: POLICY,
      env: ENV,
    });
    await awayFromWindowEdge();
    const replies = await Promise.all(
      Array.from(
        { length: 30 },
        (_, i) =>
          server.rpc("chat.getConfig", { organizationId: "shop" }, {
            origin: SHOP,
            // A client can prepend anything; our one proxy appends the real address.
            headers: { "X-Forwarded-For": `10.0.${i}.1, 203.0.113.7` },
          }),
      ),
    );
    assert.deepEqual(statuses(replies), { 200: 20, 429: 10 });
    const other = await server.rpc(
      "chat.getConfig",
      { organizationId: "shop" },
      {
        origin: SHOP,
        headers: { "X-Forwarded-For": "203.0.113.8" },
      },
    );
    assert.equal(other.status, 200);
  },
);

testEachEngine(
  "unknown organizations share one bucket per IP",
  async (engine) => {
    await using server = await startServer({
      ...await serverStore(engine),
      policy: POLICY,
      env: ENV,
    });
    await awayFromWindowEdge();
    const replies = await Promise.all(
      Array.from(
        { length: 30 },
        () =>
          server.rpc("chat.getConfig", {
            organizationId: crypto.randomUUID().slice(0, 12),
          }, {
            localAddress: "127.0.0.4",
          }),
      ),
    );
    assert.deepEqual(statuses(replies), { 404: 20, 429: 10 });
    // The known organization's bucket for this IP is untouched.
    const known = await server.rpc(
      "chat.getConfig",
      { organizationId: "shop" },
      {
        origin: SHOP,
        localAddress: "127.0.0.4",
      },
    );
    assert.equal(known.status, 200);
  },
);

testEachEngine(
  "forged traffic cannot spend the organization's budget",
  async (engine) => {
    await using server = await startServer({
      ...await serverStore(engine),
      policy: POLICY,
      env: ENV,
    });
    await awayFromWindowEdge();
    const origin = "https://budget.example";
    const now = Math.floor(Date.now() / 1000);
    const forged = signWithJsonwebtoken(
      {
        iss: origin,
        aud: "chat-widget",
        sub: "x",
        iat: now,
        exp: now + 300,
        org_id: "budget",
      },
      "attacker-guess-0123456789abcdef0123456789",
    );
    const attacks = await Promise.all([
      ...Array.from(
        { length: 15 },
        () =>
          server.rpc("chat.boot", { organizationId: "budget" }, {
            origin,
            token: forged,
          }),
      ),
      ...Array.from(
        { length: 15 },
        () =>
          server.rpc("chat.boot", { organizationId: "budget" }, {
            origin: "https://evil.example",
          }),
      ),
    ]);
    assert.deepEqual(statuses(attacks), { 401: 15, 403: 15 });
    const genuine = [];
    for (let i = 0; i < 11; i++) {
      genuine.push(
        await server.rpc("chat.getConfig", { organizationId: "budget" }, {
          origin,
        }),
      );
    }
    assert.deepEqual(statuses(genuine), { 200: 10, 429: 1 });
    assert.equal(genuine[10]!.body.error.reason, "limit.organization");
  },
);

testEachEngine(
  "an address that spent its entry-point budget keeps its agents: a valid admin key is admitted, a wrong one refused as before",
  async (engine) => {
    await using server = await startServer({
      ...await serverStore(engine),
      policy: POLICY,
      env: ENV,
    });
    await awayFromWindowEdge();
    const office = "127.0.0.8";
    const visitors = [];
    for (let i = 0; i < 21; i++) {
      visitors.push(
        await server.rpc("chat.getConfig", { organizationId: "shop" }, {
          origin: SHOP,
          localAddress: office,
        }),
      );
    }
    assert.deepEqual(statuses(visitors), { 200: 20, 429: 1 });
    const list = (key?: string) =>
      server.rpc("agent.listConversations", { organizationId: "shop" }, {
        localAddress: office,
        ...(key === undefined ? {} : { token: key }),
      });
    for (let i = 0; i < 3; i++) {
      const agent = await list(ADMIN_KEY);
      assert.equal(agent.status, 200, JSON.stringify(agent.body));
      // It spent the key's own budget, nothing of the address's.
      assert.match(agent.headers.get("ratelimit-policy") ?? "", /"agent"/);
      assert.doesNotMatch(agent.headers.get("ratelimit-policy") ?? "", /"ip"/);
    }
    const wrong = await list("a-wrong-admin-key-0123456789abcdef0123");
    assert.equal(wrong.status, 429);
    assert.equal(wrong.body.error.code, "RATE_LIMITED");
    assert.equal(wrong.body.error.reason, "limit.ip");
    const missing = await list();
    assert.equal(missing.status, 429);
    assert.equal(missing.body.error.reason, "limit.ip");
    // From an address with budget left, a wrong key spends the IP limit and the failed-authentication limit.
    const fresh = await server.rpc("agent.listConversations", {
      organizationId: "shop",
    }, {
      localAddress: "127.0.0.9",
      token: "a-wrong-admin-key-0123456789abcdef0123",
    });
    assert.equal(fresh.status, 401);
    assert.equal(fresh.body.error.reason, "agent.key_invalid");
    assert.match(fresh.headers.get("ratelimit") ?? "", /"ip";r=19;/);
    assert.match(fresh.headers.get("ratelimit") ?? "", /"authFailures";r=9;/);
  },
);
