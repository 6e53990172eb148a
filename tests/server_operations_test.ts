/**
 * Operating the real server: policy hot reload (good → broken → good, and
 * SIGHUP), `/healthz`, the decision log, `/metrics`, storage failure, and a
 * restart on the same KV file.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { signWithJsonwebtoken } from "./jsonwebtoken_minter.ts";
import { startServer, waitFor } from "./server_process.ts";
import { serverStore, testEachEngine } from "./store_engines.ts";
import { acmeClaims, ORIGINS, SECRETS, testPolicy } from "./test_policy.ts";

async function health(baseUrl: string) {
  const response = await fetch(`${baseUrl}/healthz`);
  return { status: response.status, body: await response.json() };
}

Deno.test("hot reload swaps good policies and keeps the last good one on a broken file", async (t) => {
  await using server = await startServer({
    policy: testPolicy(),
    env: SECRETS,
  });
  const first = await health(server.baseUrl);
  assert.equal(first.status, 200);
  assert.equal(first.body.lastReloadError, null);
  assert.deepEqual(first.body.policyErrors, []);
  assert.equal(first.body.store, "ok");
  assert.equal(first.body.engine, "kv");
  const boot = () =>
    server.rpc("chat.boot", { organizationId: "legacy" }, {
      origin: ORIGINS.evil,
    });

  await t.step(
    "a broken file keeps the last good policy and reports every problem",
    async () => {
      const broken = testPolicy().replace('mode: "off"', "mode: sometimes")
        .replace(
          "version: 1",
          "version: 1\nsurprise: true",
        );
      await Deno.writeTextFile(server.policyPath, broken);
      await waitFor(async () =>
        (await health(server.baseUrl)).body.lastReloadError !== null
      );
      const now = await health(server.baseUrl);
      assert.equal(now.body.policyRevision, first.body.policyRevision);
      assert.deepEqual(
        now.body.policyErrors.map((
          error: { file: string; line: number; code: string },
        ) => [error.file, error.line, error.code]),
        [[server.policyPath, 2, "unknown-key"]],
      );
      assert.equal(
        (await boot()).status,
        200,
        "the last good policy still serves",
      );
      const log = server.stderr();
      assert.match(log, /policy\.yaml:2:1 unknown-key/);
      assert.match(log, /policy\.yaml:\d+:\d+ bad-enum/);
    },
  );

  await t.step("a good file is swapped in and clears the error", async () => {
    await Deno.writeTextFile(
      server.policyPath,
      testPolicy().replace('mode: "off"', "mode: enforce"),
    );
    await waitFor(async () =>
      (await health(server.baseUrl)).body.lastReloadError === null
    );
    const now = await health(server.baseUrl);
    assert.notEqual(now.body.policyRevision, first.body.policyRevision);
    assert.deepEqual(now.body.policyErrors, []);
    const reply = await boot();
    assert.equal(reply.status, 403);
    assert.equal(reply.body.error.code, "DOMAIN_NOT_ALLOWED");
  });

  await t.step(
    "SIGHUP reloads a change the file watcher cannot see",
    async () => {
      // The watcher watches the policy's directory; a symlink's target elsewhere
      // changes silently, so only SIGHUP can bring the edit in.
      const elsewhere = await Deno.makeTempDir({
        prefix: "parley-policy-target-",
      });
      const target = `${elsewhere}/policy.yaml`;
      const previous = (await health(server.baseUrl)).body.policyRevision;
      await Deno.writeTextFile(
        target,
        testPolicy().replace('mode: "off"', "mode: enforce") +
          "# via symlink\n",
      );
      await Deno.remove(server.policyPath);
      await Deno.symlink(target, server.policyPath);
      // A new symlink is not reported by the watcher either (the remove is,
      // and may race the symlink): SIGHUP makes the swap-in certain.
      Deno.kill(server.pid, "SIGHUP");
      await waitFor(async () =>
        (await health(server.baseUrl)).body.policyRevision !== previous
      );
      const before = (await health(server.baseUrl)).body.policyRevision;
      await Deno.writeTextFile(target, testPolicy());
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(
        (await boot()).status,
        403,
        "the edit was picked up without SIGHUP",
      );
      Deno.kill(server.pid, "SIGHUP");
      await waitFor(async () =>
        (await health(server.baseUrl)).body.policyRevision !== before
      );
      assert.equal((await boot()).status, 200);
      await Deno.remove(elsewhere, { recursive: true });
    },
  );
});

Deno.test("the decision log records rejections without tokens, secrets or emails", async () => {
  await using server = await startServer({
    policy: testPolicy(),
    env: SECRETS,
  });
  const badToken = signWithJsonwebtoken(
    acmeClaims(),
    SECRETS.GLOBEX_JWT_SECRET,
  );
  await server.rpc("chat.boot", {
    organizationId: "acme",
    email: "victim@example.com",
  }, {
    origin: ORIGINS.acme,
    token: badToken,
  });
  await server.rpc("chat.boot", { organizationId: "acme" }, {
    origin: ORIGINS.evil,
  });
  await server.rpc("chat.getConfig", { organizationId: "ghost" });
  const entries = await server.decisions();
  const byCode = (code: string) => entries.find((entry) => entry.code === code);
  const jwt = byCode("JWT_INVALID");
  assert.ok(jwt);
  assert.equal(jwt.reason, "jwt.signature");
  assert.equal(jwt.organizationId, "acme");
  assert.equal(jwt.origin, ORIGINS.acme);
  assert.equal(jwt.method, "chat.boot");
  assert.equal(jwt.ip, "127.0.0.1");
  assert.match(jwt.decisionId, /^[0-9a-f-]{36}$/);
  assert.match(jwt.policyRevision, /^[0-9a-f]+$/);
  assert.ok(!Number.isNaN(Date.parse(jwt.time)));
  assert.equal(byCode("DOMAIN_NOT_ALLOWED")?.origin, ORIGINS.evil);
  assert.equal(byCode("ORGANIZATION_NOT_FOUND")?.organizationId, "ghost");
  const text = await Deno.readTextFile(`${server.dir}/decisions.jsonl`);
  assert.ok(
    !text.includes(badToken.split(".")[2]!),
    "a token signature reached the log",
  );
  assert.ok(!text.includes("victim@example.com"), "an email reached the log");
  for (const secret of Object.values(SECRETS)) {
    assert.ok(!text.includes(secret));
  }
});

Deno.test("metrics count decisions, JWT states and latency", async () => {
  await using server = await startServer({
    policy: testPolicy(),
    env: SECRETS,
  });
  const token = signWithJsonwebtoken(acmeClaims(), SECRETS.ACME_JWT_SECRET);
  await server.rpc("chat.boot", { organizationId: "acme" }, {
    origin: ORIGINS.acme,
    token,
  });
  await server.rpc("chat.boot", { organizationId: "acme" }, {
    origin: ORIGINS.acme,
  });
  await server.rpc("chat.boot", { organizationId: "acme" }, {
    origin: ORIGINS.acme,
    token: "x.y.z",
  });
  await server.rpc("chat.getConfig", { organizationId: crypto.randomUUID() });
  const response = await fetch(`${server.baseUrl}/metrics`);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
  const text = await response.text();
  assert.match(
    text,
    /parley_jwt_total\{organization="acme",state="verified"\} 1/,
  );
  assert.match(
    text,
    /parley_jwt_total\{organization="acme",state="absent"\} 1/,
  );
  assert.match(
    text,
    /parley_jwt_total\{organization="acme",state="invalid"\} 1/,
  );
  assert.match(
    text,
    /parley_decisions_total\{organization="acme",outcome="allowed",code="OK"\} 2/,
  );
  assert.match(
    text,
    /parley_decisions_total\{organization="acme",outcome="rejected",code="JWT_INVALID"\} 1/,
  );
  assert.match(
    text,
    /parley_decisions_total\{organization="_unknown",outcome="rejected",code="ORGANIZATION_NOT_FOUND"\} 1/,
  );
  assert.match(
    text,
    /parley_request_duration_seconds_count\{method="chat.boot"\} 3/,
  );
  assert.match(text, /# TYPE parley_request_duration_seconds histogram/);
});

Deno.test("a stuck store fails closed with 503, or open when the policy says so", async (t) => {
  for (const mode of ["closed", "open"] as const) {
    await t.step(`onStoreError: ${mode}`, async () => {
      const policy = testPolicy({ serverExtra: `  onStoreError: ${mode}` });
      await using server = await startServer({ policy, env: SECRETS });
      const call = () =>
        server.rpc("chat.getConfig", { organizationId: "acme" }, {
          origin: ORIGINS.acme,
        });
      assert.equal((await call()).status, 200);
      // Another writer holds the SQLite write lock longer than the limiter retries.
      const rival = new DatabaseSync(server.kvPath);
      rival.exec("BEGIN IMMEDIATE");
      let reply;
      try {
        reply = await call();
      } finally {
        rival.exec("COMMIT");
        rival.close();
      }
      if (mode === "closed") {
        assert.equal(reply.status, 503);
        assert.equal(reply.body.error.code, "UNAVAILABLE");
      } else {
        assert.equal(reply.status, 200);
      }
      const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
      assert.match(
        metrics,
        new RegExp(`parley_store_errors_total\\{action="${mode}"\\} [1-9]`),
      );
      assert.equal(
        (await call()).status,
        200,
        "the server recovers once the store does",
      );
    });
  }
});

testEachEngine(
  "a restart on the same store loses nothing and keeps sessions working",
  async (engine) => {
    const shared = await serverStore(engine);
    const dir = await Deno.makeTempDir({ prefix: "parley-restart-" });
    try {
      const env = {
        ...SECRETS,
        PARLEY_SESSION_SECRET: "restart-session-secret-0123456789abcdef",
      };
      const first = await startServer({
        ...shared,
        policy: testPolicy(),
        env,
        dir,
      });
      const boot = await first.rpc("chat.boot", { organizationId: "acme" }, {
        origin: ORIGINS.acme,
      });
      const token = boot.body.data.session.token;
      const sent = await first.rpc("chat.sendMessage", {
        text: "before restart",
      }, { origin: ORIGINS.acme, token });
      await first.stop();
      await using second = await startServer({
        ...shared,
        policy: testPolicy(),
        env,
        dir,
      });
      await second.rpc("chat.sendMessage", { text: "after restart" }, {
        origin: ORIGINS.acme,
        token,
      });
      const listed = await second.rpc("chat.listMessages", {}, {
        origin: ORIGINS.acme,
        token,
      });
      assert.equal(listed.status, 200);
      assert.deepEqual(
        listed.body.data.messages.map((message: { text: string }) =>
          message.text
        ),
        ["before restart", "after restart"],
      );
      const again = await second.rpc("chat.boot", {
        organizationId: "acme",
        visitorId: boot.body.data.visitorId,
      }, { origin: ORIGINS.acme });
      assert.equal(
        again.body.data.conversation.id,
        sent.body.data.conversationId,
      );
      assert.equal(again.body.data.conversation.messages.length, 2);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
