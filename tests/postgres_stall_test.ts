/**
 * A PostgreSQL that hangs instead of going away, against the real server on
 * a cluster of its own: its processes stopped with `SIGSTOP`, or one table
 * locked. Requests answer `503` within 5 s (the rate limiter's queued batches
 * included), `/healthz` within 2 s, and the server recovers by itself once
 * the database answers again.
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { postgresAvailability, startCluster } from "./postgres_cluster.ts";
import { type ServerProcess, startServer, waitFor } from "./server_process.ts";
import { postgresRequired } from "./store_engines.ts";
import { ORIGINS, SECRETS, testPolicy } from "./test_policy.ts";

/** What a request may take at most while the database hangs. */
const RPC_BOUND_MS = 5_000;
/** What `/healthz` may take at most. */
const HEALTH_BOUND_MS = 2_000;

async function timed<T>(
  work: () => Promise<T>,
): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

/** Ten boots at once, from one address: they share the limiter's batches. */
function boots(server: ServerProcess) {
  return Promise.all(
    Array.from(
      { length: 10 },
      () =>
        timed(async () =>
          (await server.rpc("chat.boot", { organizationId: "acme" }, {
            origin: ORIGINS.acme,
          })).status
        ),
    ),
  );
}

function health(server: ServerProcess) {
  return timed(async () => {
    const response = await fetch(`${server.baseUrl}/healthz`);
    await response.body?.cancel();
    return response.status;
  });
}

function summary(rows: { ms: number }[]): string {
  const times = rows.map((row) => row.ms).sort((a, b) => a - b);
  return `${times[0]!.toFixed(0)}–${times.at(-1)!.toFixed(0)} ms`;
}

if (postgresAvailability().available || postgresRequired()) {
  Deno.test("a stopped database (SIGSTOP): RPCs answer 503 within 5 s, /healthz within 2 s, and SIGCONT brings them back without a restart", async (t) => {
    await using cluster = await startCluster();
    await using server = await startServer({
      store: await cluster.createDatabase(),
      policy: testPolicy(),
      env: SECRETS,
    });
    assert.ok((await boots(server)).every((row) => row.value === 200));
    // The first to meet the stall waits for its statement's deadline; the
    // next ones for one probe at most. Both orders, each on a fresh stall.
    for (const first of ["RPCs", "/healthz"] as const) {
      await t.step(`${first} first`, async () => {
        await cluster.pause();
        let stopped = true;
        try {
          const checks = [
            async () => {
              const rows = await boots(server);
              console.log(`SIGSTOP (${first} first): boots ${summary(rows)}`);
              for (const row of rows) {
                assert.equal(row.value, 503);
                assert.ok(row.ms < RPC_BOUND_MS, `${row.ms} ms`);
              }
            },
            async () => {
              const checked = await health(server);
              console.log(
                `SIGSTOP (${first} first): /healthz ${
                  checked.ms.toFixed(0)
                } ms`,
              );
              assert.equal(checked.value, 503);
              assert.ok(checked.ms < HEALTH_BOUND_MS, `${checked.ms} ms`);
            },
          ];
          if (first === "/healthz") checks.reverse();
          for (const check of [...checks, ...checks]) await check();
          await cluster.resume();
          stopped = false;
          const resumed = performance.now();
          await waitFor(
            async () => (await boots(server)).every((row) => row.value === 200),
            10_000,
          );
          console.log(
            `SIGCONT: served again after ${
              (performance.now() - resumed).toFixed(0)
            } ms`,
          );
          assert.equal((await health(server)).value, 200);
          assert.ok(server.running(), "no restart");
        } finally {
          if (stopped) await cluster.resume();
        }
      });
    }
  });

  Deno.test("a table held under ACCESS EXCLUSIVE: RPCs that need it answer 503 within 5 s, /healthz stays 200 within 2 s, and the release brings them back", async () => {
    await using cluster = await startCluster();
    const url = await cluster.createDatabase();
    await using server = await startServer({
      store: url,
      policy: testPolicy(),
      env: SECRETS,
    });
    assert.ok((await boots(server)).every((row) => row.value === 200));
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    const locked = Promise.withResolvers<void>();
    const release = Promise.withResolvers<void>();
    const holding = sql.begin(async (transaction) => {
      await transaction`LOCK TABLE parley_counters IN ACCESS EXCLUSIVE MODE`;
      locked.resolve();
      await release.promise;
    });
    try {
      await locked.promise;
      const first = await boots(server);
      console.log(`held lock: boots answered ${summary(first)}`);
      for (const row of first) {
        assert.equal(row.value, 503);
        assert.ok(row.ms < RPC_BOUND_MS, `${row.ms} ms`);
      }
      const checked = await health(server);
      console.log(
        `held lock: /healthz answered in ${checked.ms.toFixed(0)} ms`,
      );
      assert.equal(checked.value, 200, "the database itself answers");
      assert.ok(checked.ms < HEALTH_BOUND_MS, `${checked.ms} ms`);
    } finally {
      release.resolve();
      await holding;
      await sql.end();
    }
    await waitFor(
      async () => (await boots(server)).every((row) => row.value === 200),
      10_000,
    );
  });
}
