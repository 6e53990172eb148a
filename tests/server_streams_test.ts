/**
 * Live streams against the real server process: they follow the policy and
 * the session that opened them (revocation ends them, nothing is delivered
 * after), and they are capped.
 */

import assert from "node:assert/strict";
import { EventLog } from "./sse_events.ts";
import { type ServerProcess, startServer, waitFor } from "./server_process.ts";
import { serverStore, testEachEngine } from "./store_engines.ts";
import { ORIGINS, SECRETS, testPolicy } from "./test_policy.ts";

const origin = ORIGINS.acme;
const admin = { token: SECRETS.ACME_ADMIN_KEY };
/** A second admin key of acme, removed by the revocation test. */
const SECOND_KEY = "acme-second-admin-key-0123456789abcdef0123";

async function boot(server: ServerProcess, from = origin) {
  const reply = await server.rpc("chat.boot", { organizationId: "acme" }, {
    origin: from,
  });
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body.data;
}

/** A visitor with a conversation: a boot creates none, the first message does. */
async function bootWithConversation(server: ServerProcess) {
  const visitor = await boot(server);
  const sent = await server.rpc("chat.sendMessage", { text: "Hello" }, {
    origin,
    token: visitor.session.token,
  });
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  return { ...visitor, conversationId: sent.body.data.conversationId };
}

/** Opens a stream method with a bearer, from the shop's origin. */
async function openStream(
  server: ServerProcess,
  method: "chat.stream" | "agent.stream",
  bearer: string,
  signal: AbortSignal,
): Promise<Response> {
  return await fetch(`${server.baseUrl}/rpc/${method}`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Origin: origin,
      Authorization: `Bearer ${bearer}`,
    },
    body: JSON.stringify(
      method === "agent.stream" ? { organizationId: "acme" } : {},
    ),
    signal,
  });
}

async function health(server: ServerProcess) {
  return await (await fetch(`${server.baseUrl}/healthz`)).json();
}

/** Rewrites the policy file and waits until the server has loaded it. */
async function reload(server: ServerProcess, policy: string): Promise<number> {
  const before = (await health(server)).policyRevision;
  await Deno.writeTextFile(server.policyPath, policy);
  await waitFor(async () => (await health(server)).policyRevision !== before);
  return performance.now();
}

function withSecondAdminKey(policy: string): string {
  return policy.replace(
    "keys: [{ secret: { env: ACME_ADMIN_KEY } }]",
    "keys: [{ secret: { env: ACME_ADMIN_KEY } }, { secret: { env: ACME_SECOND_ADMIN_KEY } }]",
  );
}

const env = { ...SECRETS, ACME_SECOND_ADMIN_KEY: SECOND_KEY };

testEachEngine(
  "an admin key removed from the policy ends its open agent.stream with agent.key_invalid, and nothing is delivered after",
  async (engine) => {
    const policy = withSecondAdminKey(testPolicy());
    await using server = await startServer({
      ...await serverStore(engine),
      policy,
      env,
    });
    const controller = new AbortController();
    const revoked = new EventLog(
      await openStream(server, "agent.stream", SECOND_KEY, controller.signal),
    );
    const kept = new EventLog(
      await openStream(
        server,
        "agent.stream",
        SECRETS.ACME_ADMIN_KEY,
        controller.signal,
      ),
    );
    try {
      const visitor = await boot(server);
      await server.rpc("chat.sendMessage", { text: "before" }, {
        origin,
        token: visitor.session.token,
      });
      await revoked.next((event) => event.data.text === "before");

      const reloadedAt = await reload(server, testPolicy());
      await server.rpc("chat.sendMessage", { text: "after" }, {
        origin,
        token: visitor.session.token,
      });
      const closed = await revoked.next((event) => event.event === "closed");
      assert.deepEqual(closed.data, { reason: "agent.key_invalid" });
      assert.ok(
        closed.at - reloadedAt < 2_000,
        `closed ${Math.round(closed.at - reloadedAt)} ms after the reload`,
      );
      await revoked.ended;
      assert.deepEqual(
        revoked.events.filter((event) => event.data.text === "after"),
        [],
        "the revoked stream delivered a message after the reload",
      );
      // The key still in the policy keeps its stream.
      await kept.next((event) => event.data.text === "after");
      assert.equal(
        (await server.rpc("agent.listConversations", {
          organizationId: "acme",
        }, { token: SECOND_KEY })).status,
        401,
      );
    } finally {
      controller.abort();
    }
  },
);

testEachEngine(
  "an origin removed from the policy ends its visitor's chat.stream with session.revoked, and no reply reaches it",
  async (engine) => {
    await using server = await startServer({
      ...await serverStore(engine),
      policy: testPolicy(),
      env,
    });
    const visitor = await bootWithConversation(server);
    const controller = new AbortController();
    const stream = new EventLog(
      await openStream(
        server,
        "chat.stream",
        visitor.session.token,
        controller.signal,
      ),
    );
    try {
      const reply = (text: string) =>
        server.rpc("agent.reply", {
          organizationId: "acme",
          conversationId: visitor.conversationId,
          text,
        }, admin);
      await reply("before");
      await stream.next((event) => event.data.text === "before");
      // The shop's origin (*.acme.com) is no longer allowed.
      const reloadedAt = await reload(
        server,
        testPolicy().replace(
          'allow: [acme.com, "*.acme.com"]',
          "allow: [acme.com]",
        ),
      );
      assert.equal((await reply("after")).status, 200);
      const closed = await stream.next((event) => event.event === "closed");
      assert.deepEqual(closed.data, { reason: "session.revoked" });
      assert.ok(closed.at - reloadedAt < 2_000);
      await stream.ended;
      assert.deepEqual(
        stream.events.filter((event) => event.data.text === "after"),
        [],
      );
    } finally {
      controller.abort();
    }
  },
);

testEachEngine(
  "a session that expires ends its chat.stream with session.expired",
  async (engine) => {
    await using server = await startServer({
      ...await serverStore(engine),
      policy: testPolicy(),
      env: { ...env, PARLEY_SESSION_LIFETIME: "2s" },
    });
    const visitor = await boot(server);
    const stream = new EventLog(
      await openStream(
        server,
        "chat.stream",
        visitor.session.token,
        AbortSignal.timeout(10_000),
      ),
    );
    const closed = await stream.next(
      (event) => event.event === "closed",
      6_000,
    );
    assert.deepEqual(closed.data, { reason: "session.expired" });
    await stream.ended;
    const expiresAt = Date.parse(visitor.session.expiresAt);
    assert.ok(Date.now() >= expiresAt, "it ended at, not before, the expiry");
  },
);

testEachEngine(
  "a third stream of one session ends the first, so a reconnect after a network blip just works",
  async (engine) => {
    await using server = await startServer({
      ...await serverStore(engine),
      policy: testPolicy(),
      env,
    });
    const visitor = await bootWithConversation(server);
    const controller = new AbortController();
    try {
      const streams: EventLog[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await openStream(
          server,
          "chat.stream",
          visitor.session.token,
          controller.signal,
        );
        assert.equal(response.status, 200);
        streams.push(new EventLog(response));
      }
      const [first, second, third] = streams as [EventLog, EventLog, EventLog];
      const replaced = await first.next((event) => event.event === "closed");
      assert.deepEqual(replaced.data, { reason: "stream.replaced" });
      await first.ended;
      await server.rpc("agent.reply", {
        organizationId: "acme",
        conversationId: visitor.conversationId,
        text: "to the live ones",
      }, admin);
      await second.next((event) => event.data.text === "to the live ones");
      await third.next((event) => event.data.text === "to the live ones");
      assert.equal((await health(server)).streams, 2);
    } finally {
      controller.abort();
    }
  },
);

testEachEngine(
  "streams beyond server.maxStreamsPerIp are refused with RATE_LIMITED stream.too_many",
  async (engine) => {
    await using server = await startServer({
      ...await serverStore(engine),
      policy: testPolicy({ serverExtra: "  maxStreamsPerIp: 3" }),
      env,
    });
    const controller = new AbortController();
    try {
      const statuses: number[] = [];
      let refusal: Record<string, unknown> | undefined;
      for (let i = 0; i < 4; i++) {
        const visitor = await boot(server);
        const response = await openStream(
          server,
          "chat.stream",
          visitor.session.token,
          controller.signal,
        );
        statuses.push(response.status);
        if (response.status !== 200) refusal = await response.json();
      }
      assert.deepEqual(statuses, [200, 200, 200, 429]);
      assert.equal(
        (refusal?.error as { code: string; reason: string }).code,
        "RATE_LIMITED",
      );
      assert.equal(
        (refusal?.error as { code: string; reason: string }).reason,
        "stream.too_many",
      );
    } finally {
      controller.abort();
    }
  },
);
