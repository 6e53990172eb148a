import assert from "node:assert/strict";
import type { DecisionLogEntry } from "../observability/decision_log.ts";
import { compilePolicy } from "../policy/compile.ts";
import { mintUserToken } from "../policy/mint_user_token.ts";
import { staticPolicy } from "../policy_source/policy_source.ts";
import { testEachEngine, type TestStore } from "../tests/store_engines.ts";
import { serveRpc } from "./serve_rpc.ts";
import { type RunningServices, startServices } from "./services.ts";

const SECRETS: Record<string, string> = {
  ACME_JWT_SECRET: "acme-current-secret-0123456789abcdef0123",
  ACME_ADMIN_KEY: "acme-admin-key-0123456789abcdef0123456789",
};
const POLICY = `version: 1
organizations:
  acme:
    domains: { mode: enforce, allow: [acme.com] }
    jwt:
      mode: optional
      keys: [{ id: k1, secret: { env: ACME_JWT_SECRET } }]
    limits: { ip: 3/minute, authFailures: 2/minute, organization: 100/minute }
    admin:
      keys: [{ id: ops, secret: { env: ACME_ADMIN_KEY } }]
`;
const ORIGIN = "https://acme.com";
/** 30 s into a minute: every per-minute window has 30 s left. */
const NOW = Date.UTC(2026, 0, 1, 12, 0, 30);

interface Served {
  readonly status: number;
  readonly headers: Headers;
  // deno-lint-ignore no-explicit-any
  readonly body: any;
}

/** The pipeline's long-lived parts on `store`, with the decision log kept in memory. */
function pipelineOn(store: TestStore): RunningServices & {
  readonly logged: DecisionLogEntry[];
} {
  const logged: DecisionLogEntry[] = [];
  const evaluator = compilePolicy(POLICY, { env: (name) => SECRETS[name] });
  const services = startServices(store, staticPolicy(evaluator), {
    now: () => NOW,
    decisionLog: (entry) => logged.push(entry),
  });
  return Object.assign(services, { logged });
}

async function call(
  pipeline: RunningServices,
  method: string,
  params: Record<string, unknown>,
  options: { bearer?: string; ip?: string; origin?: string; verb?: string } =
    {},
): Promise<Served> {
  const verb = options.verb ?? "POST";
  const request = new Request(`http://parley.test/rpc/${method}`, {
    method: verb,
    headers: {
      "Content-Type": "application/json",
      Origin: options.origin ?? ORIGIN,
      ...(options.bearer === undefined
        ? {}
        : { Authorization: `Bearer ${options.bearer}` }),
    },
    ...(verb === "POST" ? { body: JSON.stringify(params) } : {}),
  });
  const response = await serveRpc(request, method, pipeline, {
    remoteAddr: {
      transport: "tcp",
      hostname: options.ip ?? "203.0.113.7",
      port: 40_000,
    },
    completed: Promise.resolve(),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: await response.json(),
  };
}

async function forgedToken(): Promise<string> {
  return await mintUserToken({
    secret: new TextEncoder().encode("not-acme-secret-0123456789abcdef01234"),
    kid: "k1",
    organizationId: "acme",
    subject: "user_42",
    issuer: ORIGIN,
    now: NOW,
    expiresInMs: 600_000,
  });
}

testEachEngine(
  "serveRpc() admits chat.getConfig from an allowed origin: 200, its data and the limits it charged",
  async (engine) => {
    await using store = await engine.open();
    const pipeline = pipelineOn(store);
    try {
      const reply = await call(pipeline, "chat.getConfig", {
        organizationId: "acme",
      });
      assert.equal(reply.status, 200);
      assert.equal(reply.body.ok, true);
      assert.equal(reply.body.data.domains.mode, "enforce");
      assert.deepEqual(reply.body.rateLimit, {
        limit: 3,
        remaining: 2,
        reset: 30,
      });
      assert.match(reply.headers.get("ratelimit-policy") ?? "", /"ip"/);
      assert.match(
        reply.headers.get("ratelimit-policy") ?? "",
        /"organization"/,
      );
      assert.doesNotMatch(
        reply.headers.get("ratelimit-policy") ?? "",
        /authFailures/,
        "an admitting peek spent nothing",
      );
      assert.equal(reply.headers.get("access-control-allow-origin"), ORIGIN);
    } finally {
      await pipeline.close();
    }
  },
);

testEachEngine(
  "serveRpc() refuses a GET 405 METHOD_NOT_ALLOWED and an unknown method 404 METHOD_NOT_FOUND, spending nothing",
  async (engine) => {
    await using store = await engine.open();
    const pipeline = pipelineOn(store);
    try {
      const get = await call(pipeline, "chat.getConfig", {}, { verb: "GET" });
      assert.equal(get.status, 405);
      assert.equal(get.body.error.code, "METHOD_NOT_ALLOWED");
      const unknown = await call(pipeline, "chat.nothing", {
        organizationId: "acme",
      });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, "METHOD_NOT_FOUND");
      assert.equal(unknown.headers.get("ratelimit"), null);
      const admitted = await call(pipeline, "chat.getConfig", {
        organizationId: "acme",
      });
      assert.equal(admitted.body.rateLimit.remaining, 2);
    } finally {
      await pipeline.close();
    }
  },
);

testEachEngine(
  "serveRpc() refuses a foreign origin 403 DOMAIN_NOT_ALLOWED, spending the IP limit until 429 limit.ip, and logs each refusal with its organization",
  async (engine) => {
    await using store = await engine.open();
    const pipeline = pipelineOn(store);
    try {
      const evil = { origin: "https://evil.example" };
      for (const remaining of [2, 1, 0]) {
        const reply = await call(pipeline, "chat.getConfig", {
          organizationId: "acme",
        }, evil);
        assert.equal(reply.status, 403);
        assert.equal(reply.body.error.code, "DOMAIN_NOT_ALLOWED");
        assert.match(reply.headers.get("ratelimit") ?? "", /"ip";r=\d+/);
        assert.match(
          reply.headers.get("ratelimit") ?? "",
          new RegExp(`r=${remaining}`),
        );
      }
      const spent = await call(pipeline, "chat.getConfig", {
        organizationId: "acme",
      });
      assert.equal(spent.status, 429);
      assert.equal(spent.body.error.code, "RATE_LIMITED");
      assert.equal(spent.body.error.reason, "limit.ip");
      // The window's 30 s left, plus up to 5 s of jitter.
      const retryAfter = Number(spent.headers.get("retry-after"));
      assert.ok(retryAfter >= 30 && retryAfter <= 35, `${retryAfter}`);
      assert.equal(spent.body.error.retryAfter, retryAfter);
      assert.deepEqual(
        pipeline.logged.map((entry) => [entry.organizationId, entry.code]),
        [
          ["acme", "DOMAIN_NOT_ALLOWED"],
          ["acme", "DOMAIN_NOT_ALLOWED"],
          ["acme", "DOMAIN_NOT_ALLOWED"],
          ["acme", "RATE_LIMITED"],
        ],
      );
    } finally {
      await pipeline.close();
    }
  },
);

testEachEngine(
  "serveRpc() counts forged tokens in the failed-authentication limit, then refuses the address 429 limits.auth_failures as a throttle block",
  async (engine) => {
    await using store = await engine.open();
    const pipeline = pipelineOn(store);
    try {
      const params = { organizationId: "acme" };
      for (let i = 0; i < 2; i++) {
        const reply = await call(pipeline, "chat.boot", params, {
          bearer: await forgedToken(),
        });
        assert.equal(reply.status, 401);
        assert.equal(reply.body.error.code, "JWT_INVALID");
      }
      const throttled = await call(pipeline, "chat.boot", params, {
        bearer: await forgedToken(),
      });
      assert.equal(throttled.status, 429);
      assert.equal(throttled.body.error.reason, "limits.auth_failures");
      // Another address of the organization is not throttled.
      const other = await call(pipeline, "chat.getConfig", params, {
        ip: "203.0.113.8",
      });
      assert.equal(other.status, 200);
      assert.match(
        pipeline.metrics.render(),
        /parley_auth_throttle_blocks_total\{organization="acme"\} 1/,
      );
    } finally {
      await pipeline.close();
    }
  },
);

testEachEngine(
  "serveRpc() runs a session call on the token chat.boot issued, spending the session's budget, and refuses it 401 SESSION_INVALID without one",
  async (engine) => {
    await using store = await engine.open();
    const pipeline = pipelineOn(store);
    try {
      const boot = await call(pipeline, "chat.boot", {
        organizationId: "acme",
      });
      assert.equal(boot.status, 200);
      const token: string = boot.body.data.session.token;
      const listed = await call(pipeline, "chat.listMessages", {}, {
        bearer: token,
      });
      assert.equal(listed.status, 200);
      assert.match(listed.headers.get("ratelimit-policy") ?? "", /"session"/);
      assert.doesNotMatch(listed.headers.get("ratelimit-policy") ?? "", /ip/);
      const missing = await call(pipeline, "chat.listMessages", {});
      assert.equal(missing.status, 401);
      assert.equal(missing.body.error.code, "SESSION_INVALID");
      assert.equal(missing.body.error.reason, "session.missing");
    } finally {
      await pipeline.close();
    }
  },
);

testEachEngine(
  "serveRpc() admits an agent call with the organization's admin key on the agent's budget, and refuses a wrong key 401 SESSION_INVALID",
  async (engine) => {
    await using store = await engine.open();
    const pipeline = pipelineOn(store);
    try {
      const params = { organizationId: "acme" };
      const admitted = await call(pipeline, "agent.listConversations", params, {
        bearer: SECRETS.ACME_ADMIN_KEY!,
      });
      assert.equal(admitted.status, 200);
      assert.match(admitted.headers.get("ratelimit-policy") ?? "", /"agent"/);
      const wrong = await call(pipeline, "agent.listConversations", params, {
        bearer: "wrong-admin-key-0123456789abcdef0123456789",
      });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.error.code, "SESSION_INVALID");
      assert.equal(wrong.body.error.reason, "agent.key_invalid");
      assert.match(wrong.headers.get("ratelimit-policy") ?? "", /"ip"/);
      assert.match(
        wrong.headers.get("ratelimit-policy") ?? "",
        /"authFailures"/,
      );
    } finally {
      await pipeline.close();
    }
  },
);
