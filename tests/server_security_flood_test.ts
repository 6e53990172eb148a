/**
 * The security report under an origin flood, against real server processes:
 * bursts of new origins from several addresses, spaced past the 5 s flush,
 * on two processes sharing one store, leave at most 100 origins per
 * organization and hour plus `(other)`, with every boot still counted; the
 * report stays quick to read; and origins of requests the IP limit refused
 * are never counted.
 */

import assert from "node:assert/strict";
import {
  FLUSH_INTERVAL_MS,
  HOUR_MS,
  hourStart,
} from "../observability/security_tally.ts";
import {
  awayFromWindowEdge,
  type ServerProcess,
  startServer,
} from "./server_process.ts";
import { testEachEngine } from "./store_engines.ts";

const ADMIN_KEY = "flood-shop-admin-key-0123456789abcdef0123";
const ENV = {
  SHOP_ADMIN_KEY: ADMIN_KEY,
  PARLEY_SESSION_SECRET: "flood-session-secret-0123456789abcdef01",
};

const POLICY = `version: 1
defaults:
  limits: { organization: 10000/minute, ip: 100/minute }
organizations:
  shop:
    domains: { mode: report, allow: [shop.example] }
    jwt: { mode: "off" }
    admin:
      keys: [{ secret: { env: SHOP_ADMIN_KEY } }]
  tight:
    domains: { mode: report, allow: [tight.example] }
    jwt: { mode: "off" }
    limits: { ip: 5/minute }
    admin:
      keys: [{ secret: { env: SHOP_ADMIN_KEY } }]
`;

const ADDRESSES = ["127.0.0.10", "127.0.0.11", "127.0.0.12", "127.0.0.13"];
const ROUNDS = 3;
const PER_ADDRESS = 10;

function bootFrom(
  server: ServerProcess,
  organizationId: string,
  origin: string,
  address: string,
  visitorId?: string,
) {
  return server.rpc("chat.boot", {
    organizationId,
    ...(visitorId === undefined ? {} : { visitorId }),
  }, { origin, localAddress: address });
}

testEachEngine(
  "origin bursts spaced past the flush, from several addresses and two processes on one store, keep at most 100 origins an hour plus (other), and the report stays quick",
  async (engine) => {
    const location = await engine.location();
    const servers = [
      await startServer({ policy: POLICY, env: ENV, store: location }),
      await startServer({ policy: POLICY, env: ENV, store: location }),
    ];
    try {
      // One hour holds the whole flood (a turn of the hour would split it).
      await awayFromWindowEdge(HOUR_MS, 60_000);
      const hour = hourStart(Date.now());
      let sent = 0;
      for (let round = 0; round < ROUNDS; round++) {
        // Each address boots one page after another, all addresses at once.
        const replies = (await Promise.all(
          servers.flatMap((server, s) =>
            ADDRESSES.map(async (address, a) => {
              const sent = [];
              for (let i = 0; i < PER_ADDRESS; i++) {
                sent.push(
                  await bootFrom(
                    server,
                    "shop",
                    `https://r${round}-s${s}-a${a}-${i}.example`,
                    address,
                    // One returning visitor per process: the flood is of
                    // origins, not of conversations.
                    `flood-visitor-of-process-${s}`,
                  ),
                );
              }
              return sent;
            })
          ),
        )).flat();
        for (const reply of replies) {
          assert.equal(reply.status, 200, JSON.stringify(reply.body));
        }
        sent += replies.length;
        // Each burst reaches the store in a flush of its own.
        await new Promise((resolve) =>
          setTimeout(resolve, FLUSH_INTERVAL_MS + 500)
        );
      }
      assert.ok(sent > 200, `${sent} origins sent`);

      const started = performance.now();
      const report = await servers[1]!.rpc("agent.securityReport", {
        organizationId: "shop",
        hours: 168,
      }, { token: ADMIN_KEY });
      const elapsed = performance.now() - started;
      assert.equal(report.status, 200);
      assert.equal(report.body.data.boots.total, sent);
      assert.equal(report.body.data.origins.length, 50);
      // Generous: the read is a few hundred rows whatever the flood.
      assert.ok(elapsed < 2_000, `the report took ${elapsed.toFixed(0)} ms`);

      for (const server of servers) await server.stop();
      await using store = await engine.open(location);
      const origins = (await store.securityCounters.read(
        "shop",
        hour,
        hour + HOUR_MS,
      )).filter((count) => count.metric === "origin");
      const named = origins.filter((count) => count.key !== "(other)");
      assert.equal(named.length, 100);
      assert.equal(
        origins.reduce((sum, count) => sum + count.count, 0),
        sent,
        "every boot is counted, past the cap as (other)",
      );
      assert.equal(
        origins.find((count) => count.key === "(other)")?.count,
        sent - 100,
      );
    } finally {
      for (const server of servers) await server[Symbol.asyncDispose]();
    }
  },
);

testEachEngine(
  "origins of boots the IP limit refused are not counted",
  async (engine) => {
    await using server = await startServer({
      policy: POLICY,
      env: ENV,
      store: await engine.location(),
    });
    await awayFromWindowEdge();
    // Sent at once, so the store's batch decides them, not the spent-IP cache.
    const origins = Array.from(
      { length: 12 },
      (_, i) => `https://flood-${i}.example`,
    );
    const replies = await Promise.all(
      origins.map((origin) => bootFrom(server, "tight", origin, "127.0.0.20")),
    );
    const admitted = origins.filter((_, i) => replies[i]!.status === 200);
    assert.equal(admitted.length, 5);
    for (const reply of replies.filter((reply) => reply.status !== 200)) {
      assert.equal(reply.status, 429);
      assert.equal(reply.body.error.reason, "limit.ip");
    }
    // And once the IP is known spent.
    assert.equal(
      (await bootFrom(server, "tight", "https://late.example", "127.0.0.20"))
        .status,
      429,
    );
    const report = await server.rpc("agent.securityReport", {
      organizationId: "tight",
    }, { token: ADMIN_KEY, localAddress: "127.0.0.21" });
    assert.equal(report.status, 200);
    assert.equal(report.body.data.boots.total, 5);
    assert.deepEqual(
      report.body.data.origins.map((row: { origin: string }) => row.origin)
        .sort(),
      admitted.sort(),
    );
  },
);
