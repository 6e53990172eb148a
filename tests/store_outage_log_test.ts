/**
 * Losing the store is in the server's own log: on PostgreSQL (a throwaway
 * cluster stopped and started under a running server), one line when it goes
 * and one with the outage's length when it is back — not one per failed
 * request — and never the password.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startCluster } from "./postgres_cluster.ts";
import { startServer, waitFor } from "./server_process.ts";
import { storeEngines } from "./store_engines.ts";
import { ORIGINS, SECRETS, testPolicy } from "./test_policy.ts";

const FAILED_REQUESTS = 12;

function linesOf(stderr: string, pattern: RegExp): string[] {
  return stderr.split("\n").filter((line) => pattern.test(line));
}

if (storeEngines().some((engine) => engine.name === "postgres")) {
  Deno.test("postgres: a stopped database is one line on stderr when it goes and one with the outage's length when it is back, however many requests failed between", async () => {
    await using cluster = await startCluster();
    await using server = await startServer({
      policy: testPolicy(),
      env: SECRETS,
      store: await cluster.createDatabase(),
    });
    const getConfig = () =>
      server.rpc("chat.getConfig", { organizationId: "acme" }, {
        origin: ORIGINS.acme,
      });
    assert.equal((await getConfig()).status, 200);

    await cluster.stop();
    for (let request = 0; request < FAILED_REQUESTS; request++) {
      assert.equal((await getConfig()).status, 503);
    }
    const gone =
      /^parley: store postgres postgres:\/\/127\.0\.0\.1:\d+\/\w+ unavailable: /;
    await waitFor(() =>
      Promise.resolve(linesOf(server.stderr(), gone).length > 0)
    ).catch(() =>
      assert.fail(`no line says the store is gone:\n${server.stderr()}`)
    );

    await cluster.start();
    const back =
      /^parley: store postgres postgres:\/\/127\.0\.0\.1:\d+\/\w+ available again after (\d+(?:\.\d)?) s \((\d+) failed calls\)$/;
    await waitFor(
      () => Promise.resolve(linesOf(server.stderr(), back).length > 0),
      20_000,
    );
    assert.equal((await getConfig()).status, 200);

    const stderr = server.stderr();
    assert.equal(linesOf(stderr, gone).length, 1, stderr);
    const recovered = linesOf(stderr, back);
    assert.equal(recovered.length, 1, stderr);
    const [, seconds, calls] = back.exec(recovered[0]!)!;
    assert.ok(Number(seconds) > 0, recovered[0]);
    assert.ok(Number(calls) >= FAILED_REQUESTS, recovered[0]);
    assert.ok(!stderr.includes(cluster.password), "the password");
  });
}
