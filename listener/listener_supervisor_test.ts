import assert from "node:assert/strict";
import {
  FIRST_RESTART_DELAY_MS,
  ListenerSupervisor,
  MAX_RESTART_DELAY_MS,
  restartDelayMs,
} from "./listener_supervisor.ts";

const LOOPBACK = "127.0.0.1";
const hello = () => new Response("ok");
const quiet = () => {};

/** Whether a new connection gets an answer (no pooled one from earlier). */
async function answers(port: number): Promise<boolean> {
  using client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  try {
    const response = await fetch(`http://${LOOPBACK}:${port}/`, {
      client,
      signal: AbortSignal.timeout(2_000),
    });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((wake) => setTimeout(wake, ms));

/** The most restarts the backoff allows within `ms` of one outage. */
function restartsAllowedWithin(ms: number): number {
  let restarts = 0;
  let waited = 0;
  while ((waited += restartDelayMs(restarts)) <= ms) restarts++;
  return restarts;
}

Deno.test("restartDelayMs() doubles from the first delay up to the cap, and stays there", () => {
  assert.equal(restartDelayMs(0), FIRST_RESTART_DELAY_MS);
  assert.equal(restartDelayMs(1), 2 * FIRST_RESTART_DELAY_MS);
  for (let attempt = 1; attempt < 100; attempt++) {
    assert.ok(restartDelayMs(attempt) >= restartDelayMs(attempt - 1));
    assert.ok(restartDelayMs(attempt) <= MAX_RESTART_DELAY_MS);
  }
  assert.equal(restartDelayMs(1_000_000), MAX_RESTART_DELAY_MS);
});

Deno.test("ListenerSupervisor binds port 0 once, reports the port to onListen, and serves on it", async () => {
  const bound: Deno.NetAddr[] = [];
  const supervisor = new ListenerSupervisor({
    hostname: LOOPBACK,
    port: 0,
    handler: hello,
    onListen: (address) => bound.push(address),
    log: quiet,
  });
  try {
    assert.equal(bound.length, 1);
    assert.notEqual(supervisor.address.port, 0);
    assert.equal(bound[0]!.port, supervisor.address.port);
    assert.ok(await answers(supervisor.address.port));
    assert.equal(supervisor.restarts, 0);
  } finally {
    await supervisor.shutdown();
  }
});

Deno.test("ListenerSupervisor throws when its first bind fails (a wrong address is not retried)", () => {
  const taken = Deno.listen({ hostname: LOOPBACK, port: 0 });
  try {
    assert.throws(
      () =>
        new ListenerSupervisor({
          hostname: LOOPBACK,
          port: (taken.addr as Deno.NetAddr).port,
          handler: hello,
          log: quiet,
        }),
      Deno.errors.AddrInUse,
    );
  } finally {
    taken.close();
  }
});

Deno.test("ListenerSupervisor.shutdown() stops listening for good: no restart follows", async () => {
  const lines: string[] = [];
  const supervisor = new ListenerSupervisor({
    hostname: LOOPBACK,
    port: 0,
    handler: hello,
    log: (line) => lines.push(line),
  });
  const { port } = supervisor.address;
  await supervisor.shutdown();
  assert.equal(await answers(port), false);
  await sleep(FIRST_RESTART_DELAY_MS + MAX_RESTART_DELAY_MS);
  assert.equal(await answers(port), false);
  assert.equal(supervisor.restarts, 0);
  assert.deepEqual(lines, []);
});

Deno.test({
  name:
    "a listener that dies of EMFILE is restarted on the same port with backoff, and serves again while the idle connections are still open",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const child = new Deno.Command("prlimit", {
      args: [
        "--nofile=64",
        Deno.execPath(),
        "run",
        "-A",
        new URL("./testdata/supervised_hello.ts", import.meta.url).pathname,
      ],
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let stderr = "";
    const listening = Promise.withResolvers<number>();
    const drained = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of child.stderr) {
        stderr += decoder.decode(chunk, { stream: true });
        const match = /listening (\d+)/.exec(stderr);
        if (match) listening.resolve(Number(match[1]));
      }
      listening.reject(new Error(`Exited before listening:\n${stderr}`));
    })();
    const held: Deno.Conn[] = [];
    try {
      const port = await listening.promise;
      assert.ok(await answers(port));

      // Keep every descriptor taken for a while: each restarted listener
      // accepts until EMFILE again, fails, and its idle connections close.
      const attackMs = 3_000;
      const started = Date.now();
      let refused = 0;
      for (let attempt = 0; attempt < 20_000; attempt++) {
        if (Date.now() - started > attackMs) break;
        try {
          held.push(await Deno.connect({ hostname: LOOPBACK, port }));
        } catch {
          refused++;
          await sleep(5);
        }
      }
      const attackedFor = Date.now() - started;
      assert.ok(refused > 0, "the listener never went away");

      // The attacker's sockets stay open: the failed listeners closed their
      // side, so the server serves again without the attacker's help.
      const deadline = Date.now() + 5_000;
      while (!await answers(port)) {
        assert.ok(Date.now() < deadline, `not serving again:\n${stderr}`);
        await sleep(50);
      }
      const { restarts } = await (await fetch(
        `http://${LOOPBACK}:${port}/restarts`,
      )).json();
      assert.ok(restarts >= 1, "never restarted");
      // Backoff, not a spin: no more restarts than its delays allow.
      assert.ok(
        restarts <= restartsAllowedWithin(attackedFor + 1_000),
        `${restarts} restarts in ${attackedFor} ms`,
      );
      // One outage: the start-up line, one failure line, one recovery line.
      const lines = stderr.trimEnd().split("\n");
      assert.equal(lines.length, 3, stderr);
      assert.doesNotMatch(stderr, /^\s+at /m, "a stack trace was printed");
      console.log(
        `${restarts} restarts in ${attackedFor} ms of exhaustion; ${lines[2]}`,
      );
    } finally {
      for (const connection of held) connection.close();
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      const status = await child.status;
      await drained;
      assert.equal(status.code, 0, `did not stop cleanly:\n${stderr}`);
    }
  },
});
