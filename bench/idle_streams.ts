/**
 * What idle live streams cost the server: CPU time and resident memory of
 * the real server process over a quiet window with no streams open (the
 * baseline), then with `--streams` idle `chat.stream`s open, in one run.
 *
 * Every stream is a real session (one `chat.boot` each) with a conversation
 * (its first `chat.sendMessage`: the widget holds a stream only for a
 * conversation or an open panel) on a real KV file, opened over loopback;
 * nothing is sent while the windows are measured, so what is left is what
 * the server spends keeping streams alive (heartbeats, timers, credential
 * re-checks, change notices).
 *
 * RSS is sampled every second of a window and the lowest sample is the
 * window's figure, on both servers alike: the garbage collector returns
 * memory in steps, and the lowest sample is the steady state rather than
 * wherever the last collection happened to leave it. Per stream, the
 * figures are each server's growth over its own no-stream window; Parley's
 * own share is its figure minus bare `Deno.serve`'s (the HTTP connection
 * and response both hold).
 *
 * Run: `deno run -A bench/idle_streams.ts [--streams 500] [--seconds 30]
 * [--engine kv|postgres] [--compare DIR]` (Linux: reads `/proc/<pid>/stat`
 * and `status`; `postgres` starts a throwaway cluster as the tests do).
 * `--compare DIR` measures another checkout's server (e.g. the tree before
 * a change) the same way in the same run. Windows shorter than about 30 s
 * often end before the collector returns the setup's garbage, and then
 * measure that rather than the streams.
 *
 * @module
 */

import { startCluster } from "../tests/postgres_cluster.ts";
import { startServer } from "../tests/server_process.ts";
import { benchFlags, engineFlag, wholeFlag } from "./bench_flags.ts";
import { cpuSeconds, residentBytes } from "./process_usage.ts";

const flags = benchFlags({
  streams: "500",
  seconds: "30",
  engine: "kv",
  compare: undefined,
});
const STREAMS = wholeFlag("streams", flags.streams, 1, 20_000);
const SECONDS = wholeFlag("seconds", flags.seconds, 1, 600);
const ENGINE = engineFlag(flags.engine);
const ORIGIN = "https://bench.example";

const policy = `version: 1
defaults:
  limits: { organization: 100000000/minute, ip: 100000000/minute }
server: { trustProxy: 1 }
organizations:
  bench:
    domains: { mode: enforce, allow: [bench.example] }
    jwt: { mode: "off" }
`;

/** CPU seconds (user + system) and RSS bytes of a process now. */
async function sample(pid: number): Promise<{ cpuS: number; rss: number }> {
  return { cpuS: await cpuSeconds(pid), rss: await residentBytes(pid) };
}

/** The process's cost over a quiet window of `SECONDS`: CPU, and the lowest RSS sampled. */
async function quietWindow(pid: number) {
  const before = await sample(pid);
  let lowest = before.rss;
  let after = before;
  for (let second = 0; second < SECONDS; second++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    after = await sample(pid);
    lowest = Math.min(lowest, after.rss);
  }
  return {
    corePercent: (after.cpuS - before.cpuS) / SECONDS * 100,
    rssMb: lowest / 2 ** 20,
    growthMb: (after.rss - before.rss) / 2 ** 20,
  };
}

/** A server process under test. */
interface Target {
  readonly baseUrl: string;
  readonly pid: number;
}

/** `deno serve` of the bare baseline on a free port. */
async function startBare(): Promise<Target & AsyncDisposable> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "serve",
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      new URL("./bare_event_stream.ts", import.meta.url).pathname,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stderr) {
    output += decoder.decode(chunk);
    const port = /Listening on http:\/\/[^:]+:(\d+)\//.exec(output)?.[1];
    if (port !== undefined) {
      child.stdout.cancel();
      return {
        baseUrl: `http://127.0.0.1:${port}`,
        pid: child.pid,
        async [Symbol.asyncDispose]() {
          child.kill("SIGKILL");
          await child.status;
        },
      };
    }
  }
  throw new Error(`The bare server did not start: ${output}`);
}

/** Opens `count` idle streams, each on its own session; returns their abort. */
async function openStreams(
  target: Target,
  count: number,
): Promise<AbortController> {
  const controller = new AbortController();
  for (let i = 0; i < count; i++) {
    // One client IP per 40 streams keeps under server.maxStreamsPerIp (50).
    const headers = {
      "Content-Type": "application/json",
      Origin: ORIGIN,
      "X-Forwarded-For": `10.0.${Math.floor(i / 40)}.1`,
    };
    const boot = await fetch(`${target.baseUrl}/rpc/chat.boot`, {
      method: "POST",
      headers,
      body: JSON.stringify({ organizationId: "bench" }),
    });
    if (boot.status !== 200) {
      throw new Error(`Boot ${i} failed: ${boot.status}`);
    }
    const { data } = await boot.json();
    const authorized = {
      ...headers,
      Authorization: `Bearer ${data.session.token}`,
    };
    const sent = await fetch(`${target.baseUrl}/rpc/chat.sendMessage`, {
      method: "POST",
      headers: authorized,
      body: JSON.stringify({ text: "Hello" }),
    });
    if (sent.status !== 200) {
      throw new Error(`Message ${i} failed: ${sent.status}`);
    }
    await sent.body?.cancel();
    const response = await fetch(`${target.baseUrl}/rpc/chat.stream`, {
      method: "POST",
      headers: authorized,
      body: "{}",
      signal: controller.signal,
    });
    if (response.status !== 200) {
      throw new Error(`Stream ${i} refused: ${response.status}`);
    }
    // Drained so heartbeats never back up.
    response.body!.pipeTo(new WritableStream()).catch(() => {});
    if ((i + 1) % 100 === 0) console.error(`${i + 1} streams open`);
  }
  return controller;
}

/** The target's cost with no streams, then with `STREAMS` idle ones. */
async function measure(target: Target) {
  // Warm up the paths the streams take, so the baseline has loaded them too.
  const warm = await openStreams(target, 1);
  warm.abort();
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const none = await quietWindow(target.pid);
  const streams = await openStreams(target, STREAMS);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const idle = await quietWindow(target.pid);
  streams.abort();
  return { none, idle };
}

const bare = await (async () => {
  await using target = await startBare();
  return await measure(target);
})();
/** A Parley server of `root` (this checkout, or `--compare`'s), measured. */
async function measureParley(root?: string) {
  await using cluster = ENGINE === "postgres"
    ? await startCluster()
    : undefined;
  await using server = await startServer({
    policy,
    ...(cluster === undefined ? {} : { store: await cluster.createDatabase() }),
    ...(root === undefined ? {} : {
      entry: new URL("server.ts", `file://${Deno.realPathSync(root)}/`).href,
    }),
  });
  const figures = await measure(server);
  const health = await (await fetch(`${server.baseUrl}/healthz`)).json();
  if (health.status !== "ok") throw new Error("The server is not healthy");
  return figures;
}
const before = flags.compare === undefined
  ? undefined
  : await measureParley(flags.compare);
const parley = await measureParley();

type Window = Awaited<ReturnType<typeof quietWindow>>;
const row = (name: string, figures: Window) =>
  `| ${name} | ${figures.corePercent.toFixed(2)}% | ${
    figures.rssMb.toFixed(1)
  } MB | ${figures.growthMb >= 0 ? "+" : ""}${
    figures.growthMb.toFixed(1)
  } MB |`;
console.log(
  `Idle streams, ${SECONDS} s windows, Parley on ${
    ENGINE === "kv" ? "a KV file" : "PostgreSQL"
  }:\n`,
);
console.log("| server | CPU (one core) | RSS | RSS growth in window |");
console.log("| --- | ---: | ---: | ---: |");
console.log(row("bare Deno.serve, no streams", bare.none));
console.log(row(`bare Deno.serve, ${STREAMS} idle streams`, bare.idle));
if (before !== undefined) {
  console.log(row("Parley before, no streams", before.none));
  console.log(row(`Parley before, ${STREAMS} idle streams`, before.idle));
}
console.log(row("Parley, no streams", parley.none));
console.log(row(`Parley, ${STREAMS} idle streams`, parley.idle));
const bareRss = bare.idle.rssMb - bare.none.rssMb;
const perStreamKb = (mb: number) => mb * 1024 / STREAMS;
/** One server's streams against bare Deno.serve's. */
function summary(name: string, figures: typeof parley): string {
  const extraCpu = figures.idle.corePercent - figures.none.corePercent;
  const extraRss = figures.idle.rssMb - figures.none.rssMb;
  return `${name}: ${perStreamKb(extraRss).toFixed(1)} KB a stream against ${
    perStreamKb(bareRss).toFixed(1)
  } KB for bare Deno.serve, so Parley's own share is ${
    perStreamKb(extraRss - bareRss).toFixed(1)
  } KB (target ≤ 8 KB); ${
    extraCpu.toFixed(2)
  }% of one core over its own baseline (target < 2%); RSS moved ${
    figures.idle.growthMb.toFixed(1)
  } MB while they idled (target < 20 MB).`;
}
console.log("");
if (before !== undefined) console.log(summary("Before", before));
console.log(summary(before === undefined ? "Parley" : "After", parley));
