/**
 * Webhooks against the real server: one organization's hanging receiver does
 * not hold back another's deliveries, and a webhook that leads to a private
 * address is refused when it is delivered, counted, and not retried.
 */

import assert from "node:assert/strict";
import { type ServerProcess, startServer, waitFor } from "./server_process.ts";
import { serverStore, testEachEngine } from "./store_engines.ts";

const SECRETS = {
  ACME_WEBHOOK_SECRET: "acme-webhook-secret-0123456789abcdef012345",
  BETA_WEBHOOK_SECRET: "beta-webhook-secret-0123456789abcdef012345",
};

/**
 * A receiver on loopback; `reply` may hang. `mostOpen` is the most requests
 * it held open at once (a request ends when answered or dropped).
 */
function receiver(
  reply: () => Promise<Response> | Response,
):
  & { url: string; arrivals: number[]; mostOpen: () => number }
  & AsyncDisposable {
  const arrivals: number[] = [];
  let open = 0;
  let mostOpen = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      await request.text();
      arrivals.push(performance.now());
      open++;
      mostOpen = Math.max(mostOpen, open);
      let ended = false;
      const end = () => {
        if (!ended) open--;
        ended = true;
      };
      request.signal.addEventListener("abort", end, { once: true });
      try {
        return await reply();
      } finally {
        end();
      }
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    arrivals,
    mostOpen: () => mostOpen,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

function organization(id: string, url: string, secret: string): string {
  return `  ${id}:
    domains: { mode: "off" }
    limits: { session: 1000/minute }
    webhook: { url: "${url}", secret: { env: ${secret} } }`;
}

/** Boots a visitor of `organizationId` and returns the session token. */
async function visitor(
  server: ServerProcess,
  organizationId: string,
): Promise<string> {
  const reply = await server.rpc("chat.boot", { organizationId });
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body.data.session.token;
}

async function say(server: ServerProcess, session: string, text: string) {
  const reply = await server.rpc("chat.sendMessage", { text }, {
    token: session,
  });
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
}

/** One attempt's timeout (`WebhookDispatcher`'s default). */
const ATTEMPT_TIMEOUT_MS = 5_000;

testEachEngine(
  "a hanging receiver delays only its organization: acme's webhook arrives within one attempt timeout while beta's hangs with 200 queued",
  async (engine) => {
    const hang = Promise.withResolvers<Response>();
    await using beta = receiver(() => hang.promise);
    await using acme = receiver(() => new Response(null, { status: 204 }));
    try {
      await using server = await startServer({
        ...await serverStore(engine),
        // Both receivers listen on loopback, which the operator allows.
        policy: `version: 1
defaults:
  limits: { organization: 10000/minute, ip: 10000/minute }
server: { allowWebhookHosts: [127.0.0.1] }
organizations:
${organization("acme", acme.url, "ACME_WEBHOOK_SECRET")}
${organization("beta", beta.url, "BETA_WEBHOOK_SECRET")}
`,
        env: SECRETS,
      });
      const betaVisitor = await visitor(server, "beta");
      for (let index = 0; index < 200; index++) {
        await say(server, betaVisitor, `Hello ${index}`);
      }
      await waitFor(() => Promise.resolve(beta.arrivals.length > 0));
      const acmeVisitor = await visitor(server, "acme");
      const sent = performance.now();
      await say(server, acmeVisitor, "Where is my order?");
      await waitFor(
        () => Promise.resolve(acme.arrivals.length === 1),
        ATTEMPT_TIMEOUT_MS,
      );
      const latency = acme.arrivals[0]! - sent;
      console.log(
        `${engine.name}: acme's webhook beside beta's hanging receiver: ${
          latency.toFixed(0)
        } ms (beta: ${beta.arrivals.length} attempts, at most ${beta.mostOpen()} at once)`,
      );
      assert.ok(latency < ATTEMPT_TIMEOUT_MS, `${latency} ms`);
      assert.ok(beta.mostOpen() <= 4, "beta holds only its own slots");
    } finally {
      hang.resolve(new Response(null, { status: 204 }));
    }
  },
);

testEachEngine(
  "a webhook the operator stops allowing is refused when delivered: not sent, not retried, counted, and said once on stderr",
  async (engine) => {
    await using hook = receiver(() => new Response(null, { status: 204 }));
    const beta =
      `version: 1\ndomains: { mode: "off" }\nlimits: { session: 1000/minute }\nwebhook: { url: "${hook.url}", secret: { env: BETA_WEBHOOK_SECRET } }\n`;
    await using server = await startServer({
      ...await serverStore(engine),
      policyFiles: {
        "_parley.yaml":
          "version: 1\nsecrets: { beta: [BETA_WEBHOOK_SECRET] }\nserver: { allowWebhookHosts: [127.0.0.1] }\n",
        "beta.yaml": beta,
      },
      env: SECRETS,
    });
    const session = await visitor(server, "beta");
    await say(server, session, "Allowed");
    await waitFor(() => Promise.resolve(hook.arrivals.length === 1));
    // The operator takes loopback away. beta.yaml fails validation now and
    // its last good version stays in force, webhook and all: the delivery
    // is where the address is refused.
    await Deno.writeTextFile(
      `${server.policyPath}/_parley.yaml`,
      "version: 1\nsecrets: { beta: [BETA_WEBHOOK_SECRET] }\n",
    );
    await waitFor(async () => {
      const health = await (await fetch(`${server.baseUrl}/healthz`)).json();
      return health.policyErrors.some((error: { code: string }) =>
        error.code === "webhook-private-address"
      );
    });
    await say(server, session, "Refused");
    await say(server, session, "Refused again");
    const metric =
      /parley_webhook_deliveries_total\{organization="beta",outcome="refused"\} (\d+)/;
    await waitFor(async () => {
      const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
      return Number(metric.exec(text)?.[1] ?? 0) === 2;
    });
    // Give a retry the time it would need; none comes.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    assert.equal(metric.exec(metrics)?.[1], "2");
    assert.match(
      metrics,
      /parley_webhook_deliveries_total\{organization="beta",outcome="delivered"\} 1/,
    );
    assert.doesNotMatch(metrics, /outcome="retrying"/);
    assert.equal(hook.arrivals.length, 1, "nothing more reached loopback");
    const warnings = server.stderr().split("\n").filter((line) =>
      line.includes('Webhook of organization "beta" refused')
    );
    assert.equal(warnings.length, 1, server.stderr());
    assert.match(warnings[0]!, /\(loopback\)/);
  },
);
