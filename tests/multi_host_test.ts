/**
 * Many hosts on one PostgreSQL database: real server processes, each with
 * its own local dir (as separate machines would have), sharing nothing but
 * the database. Limits stay exact across hosts, sessions and live messages
 * cross them, a killed host loses nothing, a stopped database fails closed
 * and every host recovers by itself, hosts migrate an empty database
 * together, and a webhook pending on a dead host is made by another, once.
 *
 * Skipped, with one notice, where PostgreSQL is not installed (see
 * `store_engines.ts`); a failure where `PARLEY_REQUIRE_POSTGRES=1`.
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { MIGRATIONS } from "../store/postgres/migrations.ts";
import { startCluster } from "./postgres_cluster.ts";
import {
  awayFromWindowEdge,
  type ServerProcess,
  startServer,
  waitFor,
} from "./server_process.ts";
import { storeEngines } from "./store_engines.ts";
import { ORIGINS, SECRETS, testPolicy } from "./test_policy.ts";

const engine = storeEngines().find((each) => each.name === "postgres");
const origin = ORIGINS.acme;
const admin = { token: SECRETS.ACME_ADMIN_KEY };

/** Starts `count` hosts on `store`, each in its own dir, all at once. */
async function startHosts(
  count: number,
  store: string,
  policy = testPolicy(),
  env: Record<string, string> = {},
): Promise<ServerProcess[]> {
  return await Promise.all(
    Array.from(
      { length: count },
      () => startServer({ policy, store, env: { ...SECRETS, ...env } }),
    ),
  );
}

async function stopAll(hosts: readonly ServerProcess[]): Promise<void> {
  await Promise.all(hosts.map((host) => host[Symbol.asyncDispose]()));
}

function statuses(replies: readonly { status: number }[]) {
  const counts: Record<number, number> = {};
  for (const reply of replies) {
    counts[reply.status] = (counts[reply.status] ?? 0) + 1;
  }
  return counts;
}

async function boot(host: ServerProcess, body: Record<string, unknown> = {}) {
  const reply = await host.rpc(
    "chat.boot",
    { organizationId: "acme", ...body },
    {
      origin,
    },
  );
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body.data;
}

/** An open event stream read as text. */
interface OpenStream {
  /** Reads until `pattern` shows, or fails after `timeoutMs`. */
  until(pattern: RegExp, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

async function stream(
  host: ServerProcess,
  method: "chat.stream" | "agent.stream",
  token: string,
  options: { body?: unknown; lastEventId?: string } = {},
): Promise<OpenStream> {
  const controller = new AbortController();
  const response = await fetch(`${host.baseUrl}/rpc/${method}`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Origin: origin,
      Authorization: `Bearer ${token}`,
      ...(options.lastEventId === undefined
        ? {}
        : { "Last-Event-ID": options.lastEventId }),
    },
    body: JSON.stringify(options.body ?? {}),
    signal: controller.signal,
  });
  assert.equal(response.status, 200);
  const reader = response.body!.pipeThrough(new TextDecoderStream())
    .getReader();
  let text = "";
  return {
    async until(pattern, timeoutMs = 5_000) {
      const timer = setTimeout(() => controller.abort(), timeoutMs);
      try {
        while (!pattern.test(text)) {
          const { value, done } = await reader.read();
          if (done) break;
          text += value;
        }
      } catch {
        // Aborted by the deadline.
      } finally {
        clearTimeout(timer);
      }
      assert.match(text, pattern);
      return text;
    },
    async close() {
      controller.abort();
      await reader.cancel().catch(() => {});
    },
  };
}

/** Milliseconds `work` takes. */
async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

if (engine !== undefined) {
  Deno.test("3 hosts on one database admit exactly 20 of 60 concurrent requests from one IP against 20/minute", async () => {
    const policy = testPolicy({
      acmeLimits: "limits: { organization: 1000/minute, ip: 20/minute }",
    });
    const hosts = await startHosts(3, await engine.location(), policy);
    try {
      await awayFromWindowEdge();
      const replies = await Promise.all(
        Array.from(
          { length: 60 },
          (_, index) =>
            hosts[index % 3]!.rpc("chat.getConfig", {
              organizationId: "acme",
            }, {
              origin,
              // One client behind the proxy the policy trusts.
              headers: { "X-Forwarded-For": "203.0.113.9" },
            }),
        ),
      );
      assert.deepEqual(statuses(replies), { 200: 20, 429: 40 });
      for (const reply of replies) {
        if (reply.status === 429) {
          assert.equal(reply.body.error.reason, "limit.ip");
        }
      }
    } finally {
      await stopAll(hosts);
    }
  });

  Deno.test("3 hosts on one database admit exactly the organization limit of concurrent requests from many IPs", async () => {
    const policy = testPolicy({
      acmeLimits: "limits: { organization: 25/minute, ip: 1000/minute }",
    });
    const hosts = await startHosts(3, await engine.location(), policy);
    try {
      await awayFromWindowEdge();
      const replies = await Promise.all(
        Array.from(
          { length: 60 },
          (_, index) =>
            hosts[index % 3]!.rpc("chat.getConfig", {
              organizationId: "acme",
            }, {
              origin,
              headers: { "X-Forwarded-For": `198.51.100.${index}` },
            }),
        ),
      );
      assert.deepEqual(statuses(replies), { 200: 25, 429: 35 });
      for (const reply of replies) {
        if (reply.status === 429) {
          assert.equal(reply.body.error.reason, "limit.organization");
        }
      }
    } finally {
      await stopAll(hosts);
    }
  });

  Deno.test("a session issued by one host holds on the others, with the secret created once in the database", async () => {
    const hosts = await startHosts(3, await engine.location());
    try {
      const [a, b, c] = hosts as [ServerProcess, ServerProcess, ServerProcess];
      const visitor = await boot(a);
      for (const [index, host] of [b, c, a].entries()) {
        const sent = await host.rpc("chat.sendMessage", {
          text: `hello ${index}`,
        }, { origin, token: visitor.session.token });
        assert.equal(sent.status, 200, JSON.stringify(sent.body));
      }
      const listed = await c.rpc("chat.listMessages", {}, {
        origin,
        token: visitor.session.token,
      });
      assert.deepEqual(
        listed.body.data.messages.map((message: { text: string }) =>
          message.text
        ),
        ["hello 0", "hello 1", "hello 2"],
      );
      // A tampered session is refused on every host alike.
      const forged = visitor.session.token.slice(0, -2) + "AA";
      for (const host of hosts) {
        const reply = await host.rpc("chat.sendMessage", { text: "x" }, {
          origin,
          token: forged,
        });
        assert.equal(reply.status, 401);
      }
    } finally {
      await stopAll(hosts);
    }
  });

  Deno.test("live messages cross hosts both ways within a second, and Last-Event-ID resumes on any host", async () => {
    const hosts = await startHosts(3, await engine.location());
    try {
      const [a, b, c] = hosts as [ServerProcess, ServerProcess, ServerProcess];
      const visitor = await boot(a);
      // A boot creates no conversation; the first message does.
      const first = await a.rpc("chat.sendMessage", { text: "Hello" }, {
        origin,
        token: visitor.session.token,
      });
      const conversationId = first.body.data.conversationId;
      const visitorStream = await stream(
        a,
        "chat.stream",
        visitor.session.token,
      );
      const agentStream = await stream(b, "agent.stream", admin.token, {
        body: { organizationId: "acme" },
      });
      // Both streams are registered with their hosts' hubs.
      await new Promise((resolve) => setTimeout(resolve, 300));

      const replyMs = await timed(async () => {
        const reply = await b.rpc("agent.reply", {
          organizationId: "acme",
          conversationId,
          text: "Hello from host B",
        }, admin);
        assert.equal(reply.status, 200);
        await visitorStream.until(/Hello from host B/);
      });
      assert.ok(replyMs < 1_000, `chat.stream on A got it in ${replyMs} ms`);

      const visitorMs = await timed(async () => {
        const sent = await c.rpc("chat.sendMessage", {
          text: "Hello from host C",
        }, { origin, token: visitor.session.token });
        assert.equal(sent.status, 200);
        await agentStream.until(/Hello from host C/);
      });
      assert.ok(
        visitorMs < 1_000,
        `agent.stream on B got it in ${visitorMs} ms`,
      );

      const seen = await visitorStream.until(/Hello from host C/);
      const lastId = [...seen.matchAll(/^id: (.+)$/gm)].at(-1)?.[1];
      assert.ok(lastId, "the stream's events carry ids");
      await visitorStream.close();
      await c.rpc("agent.reply", {
        organizationId: "acme",
        conversationId,
        text: "While you were away",
      }, admin);
      const resumed = await stream(b, "chat.stream", visitor.session.token, {
        lastEventId: lastId,
      });
      const more = await resumed.until(/While you were away/);
      assert.doesNotMatch(more, /Hello from host B|Hello from host C/);
      await resumed.close();

      const agentText = await agentStream.until(/While you were away/);
      const agentLastId = [...agentText.matchAll(/^id: (.+)$/gm)].at(-1)?.[1];
      await agentStream.close();
      await a.rpc("agent.reply", {
        organizationId: "acme",
        conversationId,
        text: "Missed by the inbox",
      }, admin);
      const agentResumed = await stream(c, "agent.stream", admin.token, {
        body: { organizationId: "acme" },
        lastEventId: agentLastId!,
      });
      const missed = await agentResumed.until(/Missed by the inbox/);
      assert.doesNotMatch(missed, /While you were away/);
      await agentResumed.close();
    } finally {
      await stopAll(hosts);
    }
  });

  Deno.test("kill -9 of a host mid-conversation loses no acknowledged message, and it restarts on the same database", async () => {
    const store = await engine.location();
    const [a, b] = await startHosts(2, store) as [ServerProcess, ServerProcess];
    let restarted: ServerProcess | undefined;
    try {
      const visitor = await boot(a);
      const acknowledged: string[] = [];
      const sends = Array.from({ length: 40 }, async (_, index) => {
        if (index === 20) Deno.kill(a.pid, "SIGKILL");
        try {
          const reply = await (index % 2 ? a : b).rpc("chat.sendMessage", {
            text: `message ${index}`,
          }, { origin, token: visitor.session.token });
          if (reply.status === 200) acknowledged.push(`message ${index}`);
        } catch {
          // The killed host dropped the connection: not acknowledged.
        }
      });
      await Promise.all(sends);
      await a.stop();
      assert.ok(
        acknowledged.length >= 20,
        `${acknowledged.length} acknowledged`,
      );
      restarted = await startServer({
        policy: testPolicy(),
        store,
        env: SECRETS,
        dir: a.dir,
      });
      for (const host of [restarted, b]) {
        const listed = await host.rpc("chat.listMessages", { limit: 200 }, {
          origin,
          token: visitor.session.token,
        });
        assert.equal(listed.status, 200);
        const texts = new Set(
          listed.body.data.messages.map((message: { text: string }) =>
            message.text
          ),
        );
        for (const text of acknowledged) assert.ok(texts.has(text), text);
      }
    } finally {
      await stopAll([a, b, ...(restarted ? [restarted] : [])]);
    }
  });

  Deno.test("a stopped database fails closed with 503 on every host, naming the engine and never the password, and every host recovers by itself", async () => {
    await using cluster = await startCluster();
    const hosts = await startHosts(3, await cluster.createDatabase());
    try {
      const visitor = await boot(hosts[0]!);
      await cluster.stop();
      for (const host of hosts) {
        const reply = await host.rpc("chat.getConfig", {
          organizationId: "acme",
        }, { origin });
        assert.equal(reply.status, 503);
        assert.equal(reply.body.error.code, "UNAVAILABLE");
        const sent = await host.rpc("chat.sendMessage", { text: "lost?" }, {
          origin,
          token: visitor.session.token,
        });
        assert.equal(sent.status, 503);
        const health = await fetch(`${host.baseUrl}/healthz`);
        const body = await health.json();
        assert.equal(health.status, 503);
        assert.equal(body.store, "unavailable");
        assert.equal(body.engine, "postgres");
        assert.ok(!JSON.stringify(body).includes(cluster.password));
        const metrics = await (await fetch(`${host.baseUrl}/metrics`)).text();
        assert.ok(!metrics.includes(cluster.password));
        assert.match(
          metrics,
          /parley_store_errors_total\{action="closed"\} \d+/,
        );
      }
      await cluster.start();
      const started = performance.now();
      await Promise.all(hosts.map((host) =>
        waitFor(async () => {
          const reply = await host.rpc("chat.getConfig", {
            organizationId: "acme",
          }, { origin });
          return reply.status === 200;
        }, 15_000)
      ));
      const recoveredMs = performance.now() - started;
      console.log(
        `every host answered 200 again ${
          recoveredMs.toFixed(0)
        } ms after the database came back`,
      );
      assert.ok(recoveredMs < 10_000, `recovered in ${recoveredMs} ms`);
      for (const host of hosts) {
        const health = await fetch(`${host.baseUrl}/healthz`);
        assert.equal(health.status, 200);
        assert.equal((await health.json()).store, "ok");
        assert.ok(!host.stderr().includes(cluster.password));
      }
      const sent = await hosts[2]!.rpc("chat.sendMessage", { text: "back" }, {
        origin,
        token: visitor.session.token,
      });
      assert.equal(sent.status, 200);
    } finally {
      await stopAll(hosts);
    }
  });

  Deno.test("two hosts migrating an empty database at once both come up, and the schema is applied once", async () => {
    const store = await engine.location();
    const hosts = await startHosts(2, store);
    try {
      for (const host of hosts) {
        const health = await fetch(`${host.baseUrl}/healthz`);
        assert.equal(health.status, 200);
        await health.body?.cancel();
      }
      const sql = postgres(store, { max: 1, onnotice: () => {} });
      try {
        const rows = await sql<{ version: number }[]>`
          SELECT version FROM parley_schema_migrations ORDER BY version`;
        assert.deepEqual(
          rows.map((row) => Number(row.version)),
          MIGRATIONS.map((migration) => migration.version),
        );
      } finally {
        await sql.end();
      }
    } finally {
      await stopAll(hosts);
    }
  });

  Deno.test("a webhook retry pending on a host that dies is made by another host, once, after the lease", async () => {
    const store = await engine.location();
    const attempts: {
      at: number;
      attempt: string | null;
      id: string | null;
    }[] = [];
    const hang = Promise.withResolvers<void>();
    const receiver = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (request) => {
        await request.text();
        attempts.push({
          at: performance.now(),
          attempt: request.headers.get("parley-attempt"),
          id: request.headers.get("parley-delivery"),
        });
        // The first attempt fails; the second hangs until its host dies.
        if (attempts.length === 1) {
          return new Response("try later", { status: 500 });
        }
        if (attempts.length === 2) {
          await hang.promise;
          return new Response("too late", { status: 500 });
        }
        return new Response("ok");
      },
    );
    // The receiver listens on loopback, which the operator allows.
    const policy = testPolicy({
      serverExtra: "  allowWebhookHosts: [127.0.0.1]",
    }).replace(
      "    admin:\n      keys: [{ secret: { env: ACME_ADMIN_KEY } }]\n  globex:",
      `    admin:\n      keys: [{ secret: { env: ACME_ADMIN_KEY } }]\n    webhook:\n      url: http://127.0.0.1:${receiver.addr.port}/hook\n      secret: { env: ACME_WEBHOOK_SECRET }\n  globex:`,
    );
    const env = { ACME_WEBHOOK_SECRET: "webhook-secret-0123456789abcdef0123" };
    const [a] = await startHosts(1, store, policy, env) as [ServerProcess];
    let others: ServerProcess[] = [];
    try {
      const visitor = await boot(a);
      const sent = await a.rpc("chat.sendMessage", { text: "Anyone?" }, {
        origin,
        token: visitor.session.token,
      });
      assert.equal(sent.status, 200);
      // Host A leases the retry and is killed while it is in flight.
      await waitFor(() => Promise.resolve(attempts.length === 2), 15_000);
      Deno.kill(a.pid, "SIGKILL");
      await a.stop();
      const killedAt = performance.now();
      others = await startHosts(2, store, policy, env);
      await waitFor(() => Promise.resolve(attempts.length >= 3), 40_000);
      // Nobody else made it while A's lease (2 × 5 s timeout + 10 s) lasted.
      const waited = attempts[2]!.at - attempts[1]!.at;
      assert.ok(waited >= 19_000, `re-attempted after ${waited} ms`);
      assert.ok(attempts[2]!.at >= killedAt);
      assert.equal(attempts[2]!.attempt, "2");
      assert.equal(new Set(attempts.map((each) => each.id)).size, 1);
      // Delivered once: no host attempts it again.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      assert.equal(attempts.length, 3);
    } finally {
      hang.resolve();
      await stopAll([a, ...others]);
      await receiver.shutdown();
    }
  });
}
