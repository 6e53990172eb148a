/**
 * The decision log under a flood, against the real server process: 10,000
 * requests from one address past its limit write at most 100 lines, whose
 * counts still add up to every refusal; the other refusals keep a line each.
 */

import assert from "node:assert/strict";
import { awayFromWindowEdge, startServer } from "./server_process.ts";

const POLICY = `version: 1
defaults:
  limits: { organization: 100000/minute, ip: 20/minute }
server: { trustProxy: 1 }
organizations:
  shop:
    domains: { mode: enforce, allow: [shop.example] }
    jwt: { mode: "off" }
`;
const FLOOD = 10_000;
const CONCURRENCY = 50;
/** The flood stops here, sent or not: the assertions hold for any part of it. */
const DEADLINE_MS = 120_000;
const ATTACKER = "203.0.113.66";

Deno.test("10,000 refused requests from one address write at most 100 decision-log lines, whose counts add up to every refusal", async () => {
  await using server = await startServer({ policy: POLICY });
  await awayFromWindowEdge(60_000, 20_000);
  const call = (origin = "https://shop.example") =>
    server.rpc("chat.getConfig", { organizationId: "shop" }, {
      origin,
      headers: { "X-Forwarded-For": ATTACKER },
    });
  // Refusals of another kind from the same address: one line each.
  for (let i = 0; i < 3; i++) {
    const reply = await server.rpc("chat.boot", { organizationId: "shop" }, {
      origin: "https://evil.example",
      headers: { "X-Forwarded-For": ATTACKER },
    });
    assert.equal(reply.body.error.code, "DOMAIN_NOT_ALLOWED");
  }
  const deadline = Date.now() + DEADLINE_MS;
  let sent = 0;
  let refused = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (sent < FLOOD && Date.now() < deadline) {
        sent++;
        const reply = await call();
        if (reply.status === 429) refused++;
        else assert.equal(reply.status, 200);
      }
    }),
  );
  assert.ok(refused > 1_000, `only ${refused} of ${sent} refused`);
  const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
  assert.match(metrics, /^parley_decision_log_dropped_total 0$/m);

  // Stopping writes the window's folded line.
  await server.stop();
  const lines = (await server.decisions()).filter((line) =>
    line.ip === ATTACKER
  );
  const limited = lines.filter((line) => line.code === "RATE_LIMITED");
  assert.ok(lines.length <= 100, `${lines.length} lines for ${sent} requests`);
  assert.equal(
    limited.reduce((sum, line) => sum + (line.count ?? 1), 0),
    refused,
    "every refusal is counted in the log",
  );
  assert.ok(limited.every((line) => line.reason === "limit.ip"));
  assert.ok(limited.some((line) => (line.count ?? 1) > 1));
  assert.equal(
    lines.filter((line) => line.code === "DOMAIN_NOT_ALLOWED").length,
    3,
  );
});

Deno.test("refusals naming random organizations fold as one: their address writes a line per unknown id only until its limit is spent", async () => {
  await using server = await startServer({ policy: POLICY });
  await awayFromWindowEdge(60_000, 10_000);
  const address = "203.0.113.77";
  const replies = [];
  for (let i = 0; i < 300; i++) {
    replies.push(
      await server.rpc("chat.getConfig", {
        organizationId: crypto.randomUUID().slice(0, 12),
      }, { headers: { "X-Forwarded-For": address } }),
    );
  }
  const refused = replies.filter((reply) => reply.status === 429).length;
  assert.equal(refused, 300 - 20);
  await server.stop();
  const lines = (await server.decisions()).filter((line) =>
    line.ip === address
  );
  const limited = lines.filter((line) => line.code === "RATE_LIMITED");
  assert.equal(
    lines.filter((line) => line.code === "ORGANIZATION_NOT_FOUND").length,
    20,
  );
  assert.ok(limited.length <= 5, `${limited.length} RATE_LIMITED lines`);
  assert.equal(
    limited.reduce((sum, line) => sum + (line.count ?? 1), 0),
    refused,
  );
});
