/**
 * Descriptor exhaustion on the real server: under a 512 open-file limit, 700
 * idle connections make `accept()` fail with EMFILE, which used to end the
 * process. It must keep running, serve again once the connections close, and
 * warn at start that the limit is low.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startServer } from "./server_process.ts";
import { ORIGINS, SECRETS, testPolicy } from "./test_policy.ts";

const OPEN_FILE_LIMIT = 512;
const IDLE_CONNECTIONS = 700;
const FLOOD_WITHIN_MS = 15_000;
const SERVE_AGAIN_WITHIN_MS = 10_000;
const LINUX = Deno.build.os === "linux";

const sleep = (ms: number) => new Promise((wake) => setTimeout(wake, ms));

/** Opens up to `count` idle connections (no byte sent); some are refused. */
async function openIdleConnections(
  port: number,
  count: number,
): Promise<{ held: Deno.Conn[]; refused: number }> {
  const held: Deno.Conn[] = [];
  let refused = 0;
  const deadline = Date.now() + FLOOD_WITHIN_MS;
  for (let attempt = 0; attempt < count && Date.now() < deadline; attempt++) {
    try {
      held.push(
        await Deno.connect({
          hostname: "127.0.0.1",
          port,
          signal: AbortSignal.timeout(2_000),
        }),
      );
    } catch {
      refused++;
      await sleep(5);
    }
  }
  return { held, refused };
}

/** Milliseconds until `/healthz` answers 200 on a new connection. */
async function untilHealthy(baseUrl: string): Promise<number> {
  using client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  const started = performance.now();
  const deadline = Date.now() + SERVE_AGAIN_WITHIN_MS;
  while (true) {
    try {
      const response = await fetch(`${baseUrl}/healthz`, {
        client,
        signal: AbortSignal.timeout(2_000),
      });
      await response.body?.cancel();
      if (response.status === 200) return performance.now() - started;
    } catch { /* not listening yet */ }
    assert.ok(Date.now() < deadline, "the server does not answer again");
    await sleep(20);
  }
}

Deno.test({
  name:
    "700 idle connections under a 512 open-file limit do not end the server: it warns at start, then answers /healthz and RPCs again",
  ignore: !LINUX,
  async fn() {
    await using server = await startServer({
      policy: testPolicy(),
      env: SECRETS,
      commandPrefix: ["prlimit", `--nofile=${OPEN_FILE_LIMIT}`],
    });
    assert.match(
      server.stderr(),
      new RegExp(`RLIMIT_NOFILE\\) is ${OPEN_FILE_LIMIT}\\b`),
      "no warning about the low limit",
    );
    // Twice: the listener is restarted every time, not once.
    const failures = () =>
      server.stderr().split("\n").filter((line) => / failed \(/.test(line))
        .length;
    for (const round of [1, 2]) {
      const before = failures();
      const { held, refused } = await openIdleConnections(
        server.port,
        IDLE_CONNECTIONS,
      );
      // The listener's own report proves EMFILE was reached: a connect can
      // succeed throughout when the kernel's backlog takes it while the
      // listener restarts.
      // stderr is read as the process writes it: give the line a moment.
      for (let wait = 0; failures() === before && wait < 40; wait++) {
        await sleep(50);
      }
      assert.ok(
        failures() > before,
        `round ${round}: ${held.length} held and ${refused} refused, but the listener never failed, so the limit was never reached`,
      );
      for (const connection of held) connection.close();
      const downMs = await untilHealthy(server.baseUrl);
      assert.ok(server.running(), `round ${round}: the server exited`);
      const config = await server.rpc("chat.getConfig", {
        organizationId: "acme",
      }, { origin: ORIGINS.acme });
      assert.equal(config.status, 200);
      assert.equal(config.body.ok, true);
      console.log(
        `round ${round}: ${held.length} held, ${refused} refused; /healthz answered ${
          downMs.toFixed(0)
        } ms after they closed`,
      );
    }
    assert.doesNotMatch(server.stderr(), /^\s+at /m, "a stack trace");
    console.log(
      server.stderr().split("\n").filter((line) =>
        / failed \(| serving again /.test(line)
      ).join("\n"),
    );
  },
});

Deno.test({
  name: "no open-file warning at start when the limit is 8192 or more",
  ignore: !LINUX,
  async fn() {
    await using server = await startServer({
      policy: testPolicy(),
      env: SECRETS,
      commandPrefix: ["prlimit", "--nofile=8192"],
    });
    assert.doesNotMatch(server.stderr(), /RLIMIT_NOFILE/);
  },
});
