/**
 * `deno serve --parallel -A serve.ts`: two workers (threads of one process,
 * each with its own handler, limiter and connection to the one store — a KV
 * file, or a PostgreSQL database) keep a limit exact, answer every request
 * promptly, and both serve traffic.
 *
 * Both workers are known to be serving before the burst: warm-up requests
 * for another organization go out on fresh connections until `/metrics`
 * shows two workers that each counted some. The burst's 60 fresh
 * connections are then spread over both by the kernel; on a loaded machine
 * one worker may win them all, and a burst for another organization (its
 * own IP bucket) follows, at most three bursts in all, each held exact.
 *
 * @module
 */

import assert from "node:assert/strict";
import { awayFromWindowEdge } from "./server_process.ts";
import { storeEngines } from "./store_engines.ts";

const ROOT = new URL("../", import.meta.url);
const WORKERS = 2;
const ORIGIN = "https://shop.parallel.example";
const BURST = 60;
const IP_LIMIT = 20;
/** Liveness, not speed: no request may stall behind a stuck lock. */
const ANSWER_WITHIN_MS = 5_000;
const START_WITHIN_MS = 30_000;
/** /metrics requests at most, until every worker has answered one. */
const MAX_METRICS_PROBES = 400;
/** Bursts tried until one is served by both workers. */
const BURST_ATTEMPTS = 3;

const POLICY = `version: 1
defaults:
  limits: { organization: 1000/minute, ip: 1000/minute }
server: { trustProxy: 0 }
organizations:
  parallel1:
    name: Parallel 1
    domains: { mode: enforce, allow: [parallel.example, "*.parallel.example"] }
    limits: { organization: 1000/minute, ip: ${IP_LIMIT}/minute }
  parallel2:
    name: Parallel 2
    domains: { mode: enforce, allow: [parallel.example, "*.parallel.example"] }
    limits: { organization: 1000/minute, ip: ${IP_LIMIT}/minute }
  parallel3:
    name: Parallel 3
    domains: { mode: enforce, allow: [parallel.example, "*.parallel.example"] }
    limits: { organization: 1000/minute, ip: ${IP_LIMIT}/minute }
  warmup:
    domains: { mode: enforce, allow: [parallel.example, "*.parallel.example"] }
    limits: { organization: 100000/minute, ip: 100000/minute }
`;

/** Sum of `parley_decisions_total` lines of one organization and code. */
function counted(body: string, organization: string, code: string): number {
  return body.split("\n")
    .filter((line) =>
      line.startsWith("parley_decisions_total{") &&
      line.includes(`organization="${organization}"`) &&
      line.includes(`code="${code}"`)
    )
    .reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
}

/** Listens on port 0 and closes, for `deno serve --port`. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** `fetch` with a deadline; returns the status, JSON body and elapsed time. */
async function timedFetch(
  client: Deno.HttpClient,
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  const response = await fetch(url, {
    ...init,
    client,
    signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
  });
  const body = await response.text();
  return { status: response.status, body, ms: performance.now() - started };
}

/**
 * Sends a burst of `BURST` fresh connections for `organizationId` and holds
 * it to the IP limit: exactly `IP_LIMIT` answered, the rest `RATE_LIMITED`,
 * each promptly, and the workers' decision counters adding up to the same.
 *
 * @returns Whether both workers served some of the burst.
 */
async function exactBurst(
  client: Deno.HttpClient,
  baseUrl: string,
  organizationId: string,
): Promise<boolean> {
  await awayFromWindowEdge();
  const replies = await Promise.all(
    Array.from(
      { length: BURST },
      () =>
        timedFetch(client, `${baseUrl}/rpc/chat.getConfig`, {
          method: "POST",
          headers: { "Content-Type": "application/json", Origin: ORIGIN },
          body: JSON.stringify({ organizationId }),
        }),
    ),
  );
  const slowest = Math.max(...replies.map((reply) => reply.ms));
  const statuses = replies.map((reply) => reply.status);
  const ok = replies.filter((reply) => reply.status === 200);
  const limited = replies.filter((reply) => reply.status === 429);
  assert.equal(ok.length, IP_LIMIT, `statuses: ${statuses.join(",")}`);
  assert.equal(limited.length, BURST - IP_LIMIT);
  for (const reply of limited) {
    assert.equal(JSON.parse(reply.body).error.code, "RATE_LIMITED");
  }
  for (const reply of ok) assert.equal(JSON.parse(reply.body).ok, true);
  assert.ok(
    slowest < ANSWER_WITHIN_MS,
    `Slowest reply took ${slowest.toFixed(0)} ms`,
  );

  // Each worker has its own Metrics: /metrics bodies tell workers apart.
  // Decision counters of all distinct bodies add up to the burst.
  // Which worker accepts a connection is up to the workers' accept
  // loops: on a loaded machine one can win many in a row, so probe
  // until both have answered (bounded), not a fixed number of times.
  const bodies = new Set<string>();
  let probes = 0;
  for (; bodies.size < WORKERS && probes < MAX_METRICS_PROBES; probes++) {
    const metrics = await timedFetch(client, `${baseUrl}/metrics`);
    assert.equal(metrics.status, 200);
    bodies.add(metrics.body);
  }
  const served = [...bodies];
  assert.ok(
    served.length >= 2,
    `Only one worker answered /metrics ${probes} times`,
  );
  assert.equal(
    served.reduce(
      (sum, body) => sum + counted(body, organizationId, "OK"),
      0,
    ),
    IP_LIMIT,
  );
  assert.equal(
    served.reduce(
      (sum, body) => sum + counted(body, organizationId, "RATE_LIMITED"),
      0,
    ),
    BURST - IP_LIMIT,
  );
  const servedBurst =
    served.filter((body) =>
      counted(body, organizationId, "OK") +
          counted(body, organizationId, "RATE_LIMITED") > 0
    ).length;
  console.log(
    `${BURST} requests: ${ok.length} × 200, ${limited.length} × 429, slowest ${
      slowest.toFixed(0)
    } ms; per worker (OK/429): ${
      served.map((body) =>
        `${counted(body, organizationId, "OK")}/${
          counted(body, organizationId, "RATE_LIMITED")
        }`
      ).join(", ")
    }`,
  );
  return servedBurst >= 2;
}

for (const engine of storeEngines()) {
  Deno.test({
    name:
      `${engine.name}: deno serve --parallel keeps the IP limit exact across workers sharing one ${
        engine.name === "kv" ? "KV file" : "database"
      }`,
    async fn() {
      const dir = await Deno.makeTempDir({ prefix: "parley-serve-parallel-" });
      const store = engine.name === "kv"
        ? { PARLEY_KV: `${dir}/kv.sqlite` }
        : { PARLEY_STORE: await engine.location() };
      await Deno.writeTextFile(`${dir}/policy.yaml`, POLICY);
      const port = freePort();
      const baseUrl = `http://127.0.0.1:${port}`;
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "serve",
          "--parallel",
          "-A",
          "--config",
          new URL("deno.json", ROOT).pathname,
          "--port",
          String(port),
          "--host",
          "127.0.0.1",
          new URL("serve.ts", ROOT).pathname,
        ],
        cwd: dir,
        env: {
          // `--parallel` starts DENO_JOBS workers, else one per core.
          DENO_JOBS: String(WORKERS),
          PARLEY_POLICY: `${dir}/policy.yaml`,
          ...store,
          PARLEY_DECISION_LOG: `${dir}/decisions.jsonl`,
          PARLEY_SESSION_SECRET: "parallel-session-secret-0123456789abcdef",
          NO_COLOR: "1",
        },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      let output = "";
      const drain = (stream: ReadableStream<Uint8Array>) =>
        (async () => {
          const decoder = new TextDecoder();
          for await (const chunk of stream) {
            output += decoder.decode(chunk, { stream: true });
          }
        })();
      const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
      // No connection reuse: each request is a new connection, which the
      // kernel hands to one of the workers' listeners.
      const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
      try {
        // Healthy once every worker is likely up: several fresh connections in a row.
        const deadline = Date.now() + START_WITHIN_MS;
        for (let healthy = 0; healthy < 4 * WORKERS;) {
          assert.ok(
            Date.now() < deadline,
            `Server did not become healthy:\n${output}`,
          );
          try {
            const health = await timedFetch(client, `${baseUrl}/healthz`);
            healthy = health.status === 200 ? healthy + 1 : 0;
          } catch {
            healthy = 0;
          }
          if (healthy === 0) await new Promise((wake) => setTimeout(wake, 100));
        }

        // Both workers serving: warm-up requests on fresh connections until
        // two distinct workers' /metrics each counted some.
        for (let round = 0;; round++) {
          assert.ok(
            Date.now() < deadline,
            `One worker only after ${round} warm-up rounds:\n${output}`,
          );
          await Promise.all(
            Array.from(
              { length: 8 },
              () =>
                timedFetch(client, `${baseUrl}/rpc/chat.getConfig`, {
                  method: "POST",
                  headers: {
                    "Content-Type": "application/json",
                    Origin: ORIGIN,
                  },
                  body: JSON.stringify({ organizationId: "warmup" }),
                }),
            ),
          );
          const warmed = new Set<string>();
          for (let probe = 0; probe < 16; probe++) {
            const metrics = await timedFetch(client, `${baseUrl}/metrics`);
            if (counted(metrics.body, "warmup", "OK") > 0) {
              warmed.add(metrics.body);
            }
          }
          if (warmed.size >= WORKERS) break;
        }

        // On a loaded machine one worker can win every connection of a
        // burst; that burst proves nothing across workers, so the next one
        // goes to a fresh organization (its own IP bucket), at most 3 times.
        // Every burst is held to the exact limit.
        let spread = false;
        for (let attempt = 1; attempt <= BURST_ATTEMPTS && !spread; attempt++) {
          spread = await exactBurst(client, baseUrl, `parallel${attempt}`);
        }
        assert.ok(
          spread,
          `Every one of ${BURST_ATTEMPTS} bursts was served by one worker only`,
        );
      } finally {
        client.close();
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
        // serve.ts closes its watcher and store on SIGTERM; kill only as a
        // last resort, and then fail.
        let killed = false;
        const killer = setTimeout(() => {
          killed = true;
          try {
            child.kill("SIGKILL");
          } catch { /* already gone */ }
        }, 5_000);
        const status = await child.status;
        clearTimeout(killer);
        await drained;
        await Deno.remove(dir, { recursive: true });
        assert.ok(!killed, "deno serve --parallel did not stop on SIGTERM");
        assert.equal(status.code, 0);
      }
    },
  });
}
