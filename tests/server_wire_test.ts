/**
 * The wire contract (docs/rpc.md) against the real server process: every
 * error code with its status, CORS and rate-limit headers, the testing
 * methods, and boots with tokens from the Node jsonwebtoken example.
 */

import assert from "node:assert/strict";
import { mintGuideToken, signWithJsonwebtoken } from "./jsonwebtoken_minter.ts";
import { startServer } from "./server_process.ts";
import { acmeClaims, ORIGINS, SECRETS, testPolicy } from "./test_policy.ts";

const now = () => Math.floor(Date.now() / 1000);

Deno.test("server answers every error code with its status", async (t) => {
  await using server = await startServer({
    policy: testPolicy(),
    env: SECRETS,
  });
  const rows: {
    name: string;
    method: string;
    body: unknown;
    origin?: string;
    token?: string;
    headers?: Record<string, string>;
    status: number;
    code: string;
    reason?: string;
  }[] = [
    {
      name: "unknown organization",
      method: "chat.getConfig",
      body: { organizationId: "nope" },
      status: 404,
      code: "ORGANIZATION_NOT_FOUND",
      reason: "organization.unknown",
    },
    {
      name: "app_id the organization does not list",
      method: "chat.boot",
      body: { organizationId: "acme", app_id: "other_app" },
      origin: ORIGINS.acme,
      status: 404,
      code: "ORGANIZATION_NOT_FOUND",
      reason: "organization.app_id_unknown",
    },
    {
      name: "origin outside the allow list",
      method: "chat.boot",
      body: { organizationId: "acme" },
      origin: ORIGINS.evil,
      status: 403,
      code: "DOMAIN_NOT_ALLOWED",
      reason: "domain.not_allowed",
    },
    {
      name: "suffix attack evilacme.com against *.acme.com",
      method: "chat.boot",
      body: { organizationId: "acme" },
      origin: "https://evilacme.com",
      status: 403,
      code: "DOMAIN_NOT_ALLOWED",
    },
    {
      name: "widget method without Origin under enforce",
      method: "chat.boot",
      body: { organizationId: "acme" },
      status: 403,
      code: "DOMAIN_NOT_ALLOWED",
      reason: "domain.origin_missing",
    },
    {
      name: "getConfig from a disallowed page",
      method: "chat.getConfig",
      body: { organizationId: "acme" },
      origin: ORIGINS.evil,
      status: 403,
      code: "DOMAIN_NOT_ALLOWED",
    },
    {
      name: "required mode without a token",
      method: "chat.boot",
      body: { organizationId: "globex" },
      origin: "https://globex.example",
      status: 401,
      code: "JWT_REQUIRED",
      reason: "jwt.required",
    },
    {
      name: "a user token in the body (userJWT) instead of the header",
      method: "chat.boot",
      body: { organizationId: "acme", userJWT: "eyJhbGciOiJIUzI1NiJ9.e30.x" },
      origin: ORIGINS.acme,
      status: 400,
      code: "BAD_REQUEST",
      reason: "jwt.in_body",
    },
    {
      name: "garbage token in optional mode is rejected, not downgraded",
      method: "chat.boot",
      body: { organizationId: "acme" },
      origin: ORIGINS.acme,
      token: "not-a-jwt",
      status: 401,
      code: "JWT_INVALID",
      reason: "jwt.malformed",
    },
    {
      name: "token signed with another organization's secret",
      method: "chat.boot",
      body: { organizationId: "acme" },
      origin: ORIGINS.acme,
      token: signWithJsonwebtoken(acmeClaims(), SECRETS.GLOBEX_JWT_SECRET),
      status: 401,
      code: "JWT_INVALID",
      reason: "jwt.signature",
    },
    {
      name: "token issued for another origin",
      method: "chat.boot",
      body: { organizationId: "acme" },
      origin: ORIGINS.acme,
      token: signWithJsonwebtoken(
        acmeClaims({ iss: ORIGINS.acmeApex }),
        SECRETS.ACME_JWT_SECRET,
      ),
      status: 401,
      code: "JWT_INVALID",
      reason: "jwt.iss",
    },
    {
      name: "expired token",
      method: "chat.boot",
      body: { organizationId: "acme" },
      origin: ORIGINS.acme,
      token: signWithJsonwebtoken(
        acmeClaims({ iat: now() - 1200, exp: now() - 600 }),
        SECRETS.ACME_JWT_SECRET,
      ),
      status: 401,
      code: "JWT_INVALID",
      reason: "jwt.expired",
    },
    {
      name: "user_id that differs from the token's sub",
      method: "chat.boot",
      body: { organizationId: "acme", user_id: "someone_else" },
      origin: ORIGINS.acme,
      token: signWithJsonwebtoken(acmeClaims(), SECRETS.ACME_JWT_SECRET),
      status: 401,
      code: "JWT_INVALID",
      reason: "jwt.user_id_mismatch",
    },
    {
      name: "malformed JSON",
      method: "chat.getConfig",
      body: '{"organizationId": ',
      status: 400,
      code: "BAD_REQUEST",
      reason: "body.malformed_json",
    },
    {
      name: "JSON that is not an object",
      method: "chat.getConfig",
      body: "[1,2,3]",
      status: 400,
      code: "BAD_REQUEST",
      reason: "body.not_object",
    },
    {
      name: "deeply nested JSON",
      method: "chat.getConfig",
      body: "[".repeat(5000) + "]".repeat(5000),
      status: 400,
      code: "BAD_REQUEST",
      reason: "body.too_deep",
    },
    {
      name: "missing organizationId",
      method: "chat.getConfig",
      body: {},
      status: 400,
      code: "BAD_REQUEST",
      reason: "param.organizationId.missing",
    },
    {
      name: "organizationId of the wrong type",
      method: "chat.getConfig",
      body: { organizationId: 42 },
      status: 400,
      code: "BAD_REQUEST",
      reason: "param.organizationId.type",
    },
    {
      name: "over-long organizationId",
      method: "chat.getConfig",
      body: { organizationId: "a".repeat(65) },
      status: 400,
      code: "BAD_REQUEST",
      reason: "param.organizationId.length",
    },
    {
      name: "email of the wrong type at boot",
      method: "chat.boot",
      body: { organizationId: "legacy", email: ["a@b.c"] },
      origin: ORIGINS.evil,
      status: 400,
      code: "BAD_REQUEST",
      reason: "param.email.type",
    },
    {
      name: "body over maxBodyBytes",
      method: "chat.getConfig",
      body: JSON.stringify({ organizationId: "acme", pad: "x".repeat(20_000) }),
      status: 413,
      code: "PAYLOAD_TOO_LARGE",
    },
    {
      name: "form-encoded body",
      method: "chat.getConfig",
      body: "organizationId=acme",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      status: 415,
      code: "UNSUPPORTED_MEDIA_TYPE",
    },
    {
      name: "unknown method",
      method: "chat.deleteEverything",
      body: { organizationId: "acme" },
      status: 404,
      code: "METHOD_NOT_FOUND",
    },
    {
      name: "prototype key as a method name",
      method: "__proto__",
      body: { organizationId: "acme" },
      status: 404,
      code: "METHOD_NOT_FOUND",
    },
    {
      name: "session method without a session",
      method: "chat.sendMessage",
      body: { text: "hello" },
      origin: ORIGINS.acme,
      status: 401,
      code: "SESSION_INVALID",
      reason: "session.missing",
    },
    {
      name: "agent method with another organization's admin key",
      method: "agent.listConversations",
      body: { organizationId: "acme" },
      token: SECRETS.GLOBEX_ADMIN_KEY,
      status: 401,
      code: "SESSION_INVALID",
      reason: "agent.key_invalid",
    },
  ];
  for (const row of rows) {
    await t.step(row.name, async () => {
      const reply = await server.rpc(row.method, row.body, {
        ...(row.origin === undefined ? {} : { origin: row.origin }),
        ...(row.token === undefined ? {} : { token: row.token }),
        ...(row.headers === undefined ? {} : { headers: row.headers }),
      });
      assert.equal(reply.status, row.status);
      assert.equal(reply.body.ok, false);
      assert.equal(reply.body.error.code, row.code);
      if (row.reason !== undefined) {
        assert.equal(reply.body.error.reason, row.reason);
      }
      assert.equal(typeof reply.body.error.message, "string");
    });
  }

  await t.step(
    "a token in the body, or none where one is required, is told where it goes: the Authorization header",
    async () => {
      const inBody = await server.rpc("chat.boot", {
        organizationId: "globex",
        userJWT: "eyJhbGciOiJIUzI1NiJ9.e30.x",
      }, { origin: "https://globex.example" });
      assert.equal(inBody.body.error.reason, "jwt.in_body");
      assert.match(inBody.body.error.message, /Authorization: Bearer/);
      const missing = await server.rpc("chat.boot", {
        organizationId: "globex",
      }, { origin: "https://globex.example" });
      assert.equal(missing.body.error.code, "JWT_REQUIRED");
      assert.match(missing.body.error.message, /Authorization: Bearer/);
    },
  );

  await t.step("other HTTP verbs get 405 METHOD_NOT_ALLOWED", async () => {
    for (const verb of ["GET", "PUT", "DELETE"]) {
      const response = await fetch(`${server.baseUrl}/rpc/chat.getConfig`, {
        method: verb,
      });
      const body = await response.json();
      assert.equal(response.status, 405);
      assert.equal(body.error.code, "METHOD_NOT_ALLOWED");
    }
  });

  await t.step("a 10 MB body is refused while streaming", async () => {
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 10 * 1024 * 1024) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const response = await fetch(`${server.baseUrl}/rpc/chat.getConfig`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body,
    }).catch(() => undefined);
    if (response !== undefined) {
      assert.equal(response.status, 413);
      assert.equal((await response.json()).error.code, "PAYLOAD_TOO_LARGE");
    }
    assert.ok(
      sent < 10 * 1024 * 1024,
      `the server read the whole body (${sent} bytes)`,
    );
  });

  await t.step("the server stays healthy after bad input", async () => {
    const response = await fetch(`${server.baseUrl}/healthz`);
    assert.equal(response.status, 200);
    assert.equal((await response.json()).status, "ok");
  });
});

Deno.test("server headers: CORS on every reply, rate limits in the IETF shape", async (t) => {
  await using server = await startServer({
    policy: testPolicy(),
    env: SECRETS,
  });

  await t.step("preflight is answered for any origin", async () => {
    const response = await fetch(`${server.baseUrl}/rpc/chat.boot`, {
      method: "OPTIONS",
      headers: {
        Origin: "https://anyone.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
      },
    });
    await response.body?.cancel();
    assert.equal(response.status, 204);
    assert.equal(
      response.headers.get("access-control-allow-origin"),
      "https://anyone.example",
    );
    assert.match(
      response.headers.get("access-control-allow-methods") ?? "",
      /POST/,
    );
    assert.match(
      response.headers.get("access-control-allow-headers") ?? "",
      /Authorization/i,
    );
    assert.equal(
      response.headers.get("access-control-allow-credentials"),
      null,
    );
  });

  await t.step(
    "an error reply echoes the origin so the widget can read the code",
    async () => {
      const reply = await server.rpc("chat.boot", { organizationId: "acme" }, {
        origin: ORIGINS.evil,
      });
      assert.equal(reply.status, 403);
      assert.equal(
        reply.headers.get("access-control-allow-origin"),
        ORIGINS.evil,
      );
      assert.match(reply.headers.get("vary") ?? "", /Origin/);
      assert.equal(reply.headers.get("access-control-allow-credentials"), null);
    },
  );

  await t.step(
    "a success carries RateLimit-Policy, RateLimit and the body's rateLimit",
    async () => {
      const reply = await server.rpc("chat.getConfig", {
        organizationId: "acme",
      }, { origin: ORIGINS.acme });
      assert.equal(reply.status, 200);
      assert.equal(
        reply.headers.get("access-control-allow-origin"),
        ORIGINS.acme,
      );
      assert.match(
        reply.headers.get("ratelimit-policy") ?? "",
        /^"ip";q=1000;w=60, "organization";q=1000;w=60$/,
      );
      assert.match(
        reply.headers.get("ratelimit") ?? "",
        /^"ip";r=\d+;t=\d+, "organization";r=\d+;t=\d+$/,
      );
      const { limit, remaining, reset } = reply.body.rateLimit;
      assert.equal(limit, 1000);
      assert.ok(remaining < 1000 && remaining >= 0);
      assert.ok(reset >= 0 && reset <= 60);
    },
  );
});

Deno.test("testing methods answer curl without an Origin", async (t) => {
  await using server = await startServer({
    policy: testPolicy(),
    env: SECRETS,
  });

  await t.step("getConfig gives the public settings and modes", async () => {
    const reply = await server.rpc("chat.getConfig", {
      organizationId: "acme",
    });
    assert.equal(reply.status, 200);
    const data = reply.body.data;
    assert.equal(data.widget.title, "Acme Support");
    assert.equal(data.jwt.mode, "optional");
    assert.equal(data.domains.mode, "enforce");
    assert.deepEqual(data.limits, {
      organization: "1000/minute",
      ip: "1000/minute",
    });
  });

  const probes = [
    { origin: "https://deep.shop.acme.com", allowed: true, rule: "*.acme.com" },
    { origin: "https://ACME.com", allowed: true, rule: "acme.com" },
    { origin: "https://evilacme.com", allowed: false },
    { origin: "https://acme.com.evil.com", allowed: false },
    { origin: "http://acme.com", allowed: false },
  ];
  for (const probe of probes) {
    await t.step(`getConfig probes ${probe.origin}`, async () => {
      const reply = await server.rpc("chat.getConfig", {
        organizationId: "acme",
        origin: probe.origin,
      });
      assert.equal(reply.status, 200);
      assert.equal(reply.body.data.origin.allowed, probe.allowed);
      if (probe.rule !== undefined) {
        assert.equal(reply.body.data.origin.rule, probe.rule);
      }
    });
  }

  await t.step(
    "getJWTDocs explains the claims and never shows a secret",
    async () => {
      const reply = await server.rpc("chat.getJWTDocs", {
        organizationId: "acme",
      });
      assert.equal(reply.status, 200);
      const data = reply.body.data;
      assert.equal(data.algorithm, "HS256");
      assert.equal(data.audience, "chat-widget");
      assert.deepEqual(data.keys.map((key: { id: string }) => key.id), [
        "2026-11",
        "2026-08",
      ]);
      assert.deepEqual(
        data.claims.required.map((claim: { name: string }) => claim.name),
        ["iss", "aud", "sub", "exp", "org_id"],
      );
      assert.equal(data.examplePayload.org_id, "acme");
      assert.match(data.examples.node, /jsonwebtoken/);
      assert.match(data.examples.node, /"acme"/);
      assert.match(data.examples.deno, /jose/);
      assert.match(data.examples.python, /import jwt/);
      const text = JSON.stringify(reply.body);
      for (const secret of Object.values(SECRETS)) {
        assert.ok(
          !text.includes(secret),
        );
      }
    },
  );
});

Deno.test("boot verifies tokens minted by the Node jsonwebtoken example", async (t) => {
  await using server = await startServer({
    policy: testPolicy(),
    env: SECRETS,
  });

  await t.step("current key → a verified user", async () => {
    const token = await mintGuideToken({
      secret: SECRETS.ACME_JWT_SECRET,
      issuer: ORIGINS.acme,
      organizationId: "acme",
      sub: "user_123",
    });
    const reply = await server.rpc("chat.boot", {
      organizationId: "acme",
      app_id: "acme_web",
      user_id: "user_123",
    }, {
      origin: ORIGINS.acme,
      token,
    });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.equal(reply.body.data.user.verified, true);
    assert.equal(reply.body.data.user.id, "user_123");
    assert.equal(reply.body.data.user.name, "Ada Lovelace");
    assert.equal(reply.body.data.visitorId, undefined);
    assert.match(reply.body.data.session.token, /^v1\./);
  });

  await t.step("previous key during rotation → verified", async () => {
    const token = await mintGuideToken({
      secret: SECRETS.ACME_JWT_SECRET_PREV,
      issuer: ORIGINS.acme,
      organizationId: "acme",
      sub: "user_9",
    });
    const reply = await server.rpc("chat.boot", { organizationId: "acme" }, {
      origin: ORIGINS.acme,
      token,
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.data.user.verified, true);
  });

  await t.step("required mode admits a valid token", async () => {
    const token = await mintGuideToken({
      secret: SECRETS.GLOBEX_JWT_SECRET,
      issuer: "https://globex.example",
      organizationId: "globex",
      sub: "g-user",
    });
    const reply = await server.rpc("chat.boot", { organizationId: "globex" }, {
      origin: "https://globex.example",
      token,
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.data.user.verified, true);
  });

  await t.step(
    "no token in optional mode → an anonymous visitor with unverified attributes",
    async () => {
      const reply = await server.rpc("chat.boot", {
        organizationId: "acme",
        user_id: "user_123",
        email: "ada@example.com",
        name: "Ada",
      }, { origin: ORIGINS.acme });
      assert.equal(reply.status, 200);
      const data = reply.body.data;
      assert.equal(data.user.verified, false);
      assert.notEqual(data.user.id, "user_123");
      assert.equal(data.user.id, data.visitorId);
    },
  );

  await t.step("legacy mode admits any origin", async () => {
    const reply = await server.rpc("chat.boot", { organizationId: "legacy" }, {
      origin: ORIGINS.evil,
    });
    assert.equal(reply.status, 200);
  });

  await t.step(
    "report mode admits and logs the would-be rejection",
    async () => {
      const reply = await server.rpc("chat.boot", { organizationId: "trial" }, {
        origin: ORIGINS.evil,
      });
      assert.equal(reply.status, 200);
      const report = (await server.decisions()).find((entry) =>
        entry.organizationId === "trial" && entry.outcome === "report"
      );
      assert.ok(report, "no report-mode decision was logged");
      assert.equal(report.code, "DOMAIN_NOT_ALLOWED");
    },
  );
});
