/**
 * HTTP load benchmark: the whole Parley pipeline against a bare JSON echo,
 * measured with `wrk` in one run on this machine.
 *
 * Scenarios (each a fresh server on 127.0.0.1, port 0, its own KV file):
 *
 * - `bare`: `bench/bare_echo.ts` under `deno serve` (one worker) — the
 *   baseline every ratio is taken against;
 * - `getConfig`, `boot`: `server.ts` under `deno run` — `chat.getConfig` with
 *   an allowed `Origin`, and `chat.boot` with a verified HS256 token minted by
 *   `jsonwebtoken` (`iss` = that origin);
 * - `bare ×N`, `getConfig ×N`, `boot ×N`: the same under
 *   `deno serve --parallel` with `DENO_JOBS=N` workers, all Parley workers
 *   sharing one KV file;
 * - `getConfig (pg)`, `boot (pg)`: `server.ts` on PostgreSQL (a throwaway
 *   cluster from `tests/postgres_cluster.ts`, one database per scenario);
 *   `boot (pg, 2 hosts)`: two server processes on one database, each loaded
 *   by its own wrk with half the connections at the same time.
 *
 * PostgreSQL rows also report store round trips per request, from the
 * adapter's counter (`parley_store_round_trips_total` on `/metrics`) over the
 * measured rounds, and their rps against the same method's KV row.
 *
 * The policy sets limits far above what a run can reach, so no 429 pollutes
 * the figures; any non-2xx reply is counted and printed.
 *
 * With `--compare DIR` (another checkout of Parley, e.g. `git archive main`
 * unpacked), every Parley scenario also runs against that checkout's servers,
 * both sets up at once (each on its own store) and their rounds interleaved
 * (A B, B A, …), so a change is measured against what it changes in the same
 * conditions; `vs before` is the ratio of the medians.
 *
 * Run: `deno task bench:load [--duration 10] [--warmup 3] [--connections 32]
 * [--workers 2] [--rounds 1] [--only bare,getConfig] [--compare DIR]
 * [--json out.json]`.
 * The JWT secret comes from `BENCH_JWT_SECRET` (≥ 32 bytes) or is generated.
 * Needs `wrk` on the PATH (`apt-get install -y wrk`).
 *
 * @module
 */

import jwt from "jsonwebtoken";
import {
  type PostgresCluster,
  startCluster,
} from "../tests/postgres_cluster.ts";
import { benchFlags, wholeFlag } from "./bench_flags.ts";
import { type LoadRequest, runWrk, type WrkResult, wrkScript } from "./wrk.ts";

const ROOT = new URL("../", import.meta.url);
const ORGANIZATION = "bench";
const ORIGIN = "https://bench.example";
const KEY_ID = "bench-1";
/** How long a server may take to answer its first request. */
const START_TIMEOUT_MS = 60_000;

/** One measured scenario. */
interface Scenario {
  readonly name: string;
  readonly server: "bare" | "parley";
  readonly parallel: boolean;
  readonly method?: "chat.getConfig" | "chat.boot";
  /** The store (default a KV file). */
  readonly store?: "kv" | "pg";
  /** Server processes on one store, each loaded by its own wrk (default 1). */
  readonly hosts?: number;
}

/** A scenario's figures (median round by requests per second). */
interface Measurement {
  readonly scenario: string;
  /** Set on the rows of the `--compare` checkout. */
  readonly before?: boolean;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly requests: number;
  readonly non2xx: number;
  readonly socketErrors: number;
  readonly rounds: readonly number[];
  /** Store statements per request over the measured rounds (PostgreSQL). */
  readonly roundTripsPerRequest?: number;
}

const flags = benchFlags({
  duration: "10",
  warmup: "3",
  connections: "32",
  threads: "1",
  workers: "2",
  rounds: "1",
  only: undefined,
  compare: undefined,
  json: undefined,
});

const durationS = wholeFlag("duration", flags.duration, 1, 120);
const warmupS = wholeFlag("warmup", flags.warmup, 0, 60);
const connections = wholeFlag("connections", flags.connections, 1, 1000);
const wrkThreads = wholeFlag("threads", flags.threads, 1, 16);
const workers = wholeFlag("workers", flags.workers, 1, 16);
const rounds = wholeFlag("rounds", flags.rounds, 1, 9);
/** The checkout a `--compare` run measures against. */
const BEFORE = flags.compare === undefined
  ? undefined
  : new URL(`file://${Deno.realPathSync(flags.compare).replace(/\/+$/, "")}/`);

const SCENARIOS: readonly Scenario[] = [
  { name: "bare", server: "bare", parallel: false },
  {
    name: "getConfig",
    server: "parley",
    parallel: false,
    method: "chat.getConfig",
  },
  { name: "boot", server: "parley", parallel: false, method: "chat.boot" },
  { name: `bare ×${workers}`, server: "bare", parallel: true },
  {
    name: `getConfig ×${workers}`,
    server: "parley",
    parallel: true,
    method: "chat.getConfig",
  },
  {
    name: `boot ×${workers}`,
    server: "parley",
    parallel: true,
    method: "chat.boot",
  },
  {
    name: "getConfig (pg)",
    server: "parley",
    parallel: false,
    method: "chat.getConfig",
    store: "pg",
  },
  {
    name: "boot (pg)",
    server: "parley",
    parallel: false,
    method: "chat.boot",
    store: "pg",
  },
  {
    name: "boot (pg, 2 hosts)",
    server: "parley",
    parallel: false,
    method: "chat.boot",
    store: "pg",
    hosts: 2,
  },
];

function selectedScenarios(): Scenario[] {
  if (flags.only === undefined) return [...SCENARIOS];
  const wanted = new Set(flags.only.split(",").map((name) => name.trim()));
  // `--only getConfig` selects "getConfig" and "getConfig ×2".
  return SCENARIOS.filter((scenario) =>
    wanted.has(scenario.name) || wanted.has(scenario.name.split(" ")[0]!)
  );
}

function benchPolicy(): string {
  return `version: 1
defaults:
  limits: { organization: 100000000/minute, ip: 100000000/minute }
server: { trustProxy: 0 }
organizations:
  ${ORGANIZATION}:
    name: Bench Inc.
    domains:
      mode: enforce
      allow: [bench.example]
    jwt:
      mode: optional
      keys:
        - id: "${KEY_ID}"
          secret: { env: BENCH_JWT_SECRET }
    limits: { organization: 100000000/minute, ip: 100000000/minute }
    widget: { title: Bench, greeting: "Hello", color: "#0b5fff" }
`;
}

function mintToken(secret: string): string {
  const now = Math.floor(Date.now() / 1000);
  return jwt.sign(
    {
      sub: "bench-user-1",
      org_id: ORGANIZATION,
      aud: "chat-widget",
      iss: ORIGIN,
      iat: now,
      // Under the policy's default 15-minute maxLifetime, and longer than a run.
      exp: now + 14 * 60,
      user_data: { name: "Bench User", email: "bench@example.com" },
    },
    secret,
    { algorithm: "HS256", keyid: KEY_ID },
  );
}

/** A server child process and how to reach it. */
interface RunningServer {
  readonly baseUrl: string;
  stop(): Promise<void>;
  output(): string;
}

async function startServer(
  scenario: Scenario,
  dir: string,
  env: Record<string, string>,
  root: URL = ROOT,
): Promise<RunningServer> {
  const config = new URL("deno.json", root).pathname;
  const entry = new URL(
    scenario.server === "bare" ? "bench/bare_echo.ts" : "serve.ts",
    root,
  ).pathname;
  let args: string[];
  if (scenario.server === "parley" && !scenario.parallel) {
    args = [
      "run",
      "-A",
      "--config",
      config,
      new URL("server.ts", root).pathname,
    ];
  } else {
    args = [
      "serve",
      ...(scenario.parallel ? ["--parallel"] : []),
      "-A",
      "--config",
      config,
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      entry,
    ];
  }
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: dir,
    env: {
      ...env,
      PORT: "0",
      HOSTNAME: "127.0.0.1",
      DENO_JOBS: String(workers),
      NO_COLOR: "1",
    },
    clearEnv: false,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const listening = Promise.withResolvers<number>();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      // "parley: listening on http://…:P/" or "deno serve: Listening on …"
      const match = /[Ll]istening on http:\/\/[^:/]+:(\d+)\//.exec(text);
      if (match) listening.resolve(Number(match[1]));
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]).then(
    () => listening.reject(new Error(`Server exited:\n${text}`)),
  );
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    // A server that ignores SIGTERM is killed after a grace period.
    const killer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, 2_000);
    await child.status;
    clearTimeout(killer);
    await pumps.catch(() => {});
  };
  const timer = setTimeout(
    () => listening.reject(new Error(`Server did not listen:\n${text}`)),
    START_TIMEOUT_MS,
  );
  try {
    const port = await listening.promise;
    return { baseUrl: `http://127.0.0.1:${port}`, stop, output: () => text };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function loadRequest(scenario: Scenario, token: string): LoadRequest {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "Origin": ORIGIN,
  };
  if (scenario.method === undefined) {
    return {
      path: "/rpc/echo",
      body: JSON.stringify({ organizationId: ORGANIZATION }),
      headers,
    };
  }
  if (scenario.method === "chat.boot") {
    headers["Authorization"] = `Bearer ${token}`;
  }
  return {
    path: `/rpc/${scenario.method}`,
    body: JSON.stringify({ organizationId: ORGANIZATION }),
    headers,
  };
}

/**
 * Sends the scenario's request until the server answers 200 with `ok: true`
 * on `probes` fresh connections in a row (with `--parallel`, every worker has
 * finished starting by then with high probability; the warm-up covers the
 * rest).
 */
async function waitUntilServing(
  baseUrl: string,
  request: LoadRequest,
  probes: number,
): Promise<unknown> {
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  const deadline = Date.now() + START_TIMEOUT_MS;
  let streak = 0;
  let last: unknown;
  try {
    while (streak < probes) {
      if (Date.now() > deadline) {
        throw new Error(`No 200 from ${baseUrl}${request.path}: ${last}`);
      }
      try {
        const response = await fetch(`${baseUrl}${request.path}`, {
          method: "POST",
          headers: request.headers,
          body: request.body,
          client,
          signal: AbortSignal.timeout(5_000),
        });
        const body = await response.json();
        if (response.status === 200 && body.ok === true) {
          streak++;
          last = body;
          continue;
        }
        last = `${response.status} ${JSON.stringify(body)}`;
      } catch (error) {
        last = error;
      }
      streak = 0;
      await new Promise((wake) => setTimeout(wake, 100));
    }
  } finally {
    client.close();
  }
  return last;
}

/** The store statements a server reports on `/metrics`, 0 if none. */
async function roundTrips(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split("\n").find((row) =>
    row.startsWith("parley_store_round_trips_total ")
  );
  return line === undefined ? 0 : Number(line.split(" ")[1]);
}

/**
 * Runs wrk against every server at once, the connections split between
 * them, and adds their figures up (latencies: the worst of them).
 */
async function runWrkOnAll(
  servers: readonly RunningServer[],
  scriptPath: string,
  seconds: number,
): Promise<WrkResult> {
  const share = Math.max(1, Math.floor(connections / servers.length));
  const results = await Promise.all(
    servers.map((server) =>
      runWrk(server.baseUrl, scriptPath, {
        threads: wrkThreads,
        connections: share,
        seconds,
      })
    ),
  );
  if (results.length === 1) return results[0]!;
  const sum = (field: keyof WrkResult) =>
    results.reduce((total, result) => total + result[field], 0);
  const worst = (field: keyof WrkResult) =>
    Math.max(...results.map((result) => result[field]));
  return {
    requests: sum("requests"),
    durationUs: worst("durationUs"),
    non2xx: sum("non2xx"),
    connectErrors: sum("connectErrors"),
    readErrors: sum("readErrors"),
    writeErrors: sum("writeErrors"),
    timeouts: sum("timeouts"),
    p50Us: worst("p50Us"),
    p90Us: worst("p90Us"),
    p99Us: worst("p99Us"),
    maxUs: worst("maxUs"),
  };
}

/** The servers of one scenario: this checkout's, or the `--compare` one's. */
interface ServerSet {
  readonly servers: readonly RunningServer[];
  readonly before: boolean;
}

/**
 * Measures one scenario on each set of servers, their rounds interleaved
 * with the order swapped every round, so drift on a shared machine falls on
 * both alike.
 */
async function measure(
  scenario: Scenario,
  sets: readonly ServerSet[],
  dir: string,
  token: string,
): Promise<Measurement[]> {
  const request = loadRequest(scenario, token);
  const label = (set: ServerSet) =>
    `${scenario.name}${set.before ? " (before)" : ""}`;
  for (const set of sets) {
    let sample: unknown;
    for (const server of set.servers) {
      sample = await waitUntilServing(
        server.baseUrl,
        request,
        scenario.parallel ? 4 * workers : 1,
      );
    }
    console.error(
      `  ${label(set)}: sample reply ${JSON.stringify(sample).slice(0, 160)}…`,
    );
  }
  const scriptPath = `${dir}/${scenario.name.replaceAll(/\W+/g, "_")}.lua`;
  await Deno.writeTextFile(scriptPath, wrkScript(request));
  if (warmupS > 0) {
    for (const set of sets) {
      await runWrkOnAll(set.servers, scriptPath, warmupS);
    }
  }
  const tripsBefore = await Promise.all(
    sets.map((set) =>
      Promise.all(set.servers.map((server) => roundTrips(server.baseUrl)))
    ),
  );
  const results = sets.map(() => [] as WrkResult[]);
  for (let round = 0; round < rounds; round++) {
    const order = sets.map((_, index) => index);
    if (round % 2 === 1) order.reverse();
    for (const index of order) {
      const set = sets[index]!;
      const result = await runWrkOnAll(set.servers, scriptPath, durationS);
      const rps = result.requests / (result.durationUs / 1e6);
      console.error(
        `  ${label(set)} round ${round + 1}: ${rps.toFixed(0)} rps, p50 ${
          (result.p50Us / 1000).toFixed(2)
        } ms, p99 ${
          (result.p99Us / 1000).toFixed(2)
        } ms, non-2xx ${result.non2xx}`,
      );
      results[index]!.push(result);
    }
  }
  return await Promise.all(sets.map(async (set, index) => {
    const tripsAfter = await Promise.all(
      set.servers.map((server) => roundTrips(server.baseUrl)),
    );
    const trips = tripsAfter.reduce(
      (sum, after, host) => sum + after - tripsBefore[index]![host]!,
      0,
    );
    return summarize(scenario, results[index]!, set.before, trips);
  }));
}

/** A scenario's rounds on one set of servers, as its row. */
function summarize(
  scenario: Scenario,
  results: readonly WrkResult[],
  before: boolean,
  trips: number,
): Measurement {
  const rpsOf = (result: WrkResult) =>
    result.requests / (result.durationUs / 1e6);
  const sorted = [...results].sort((a, b) => rpsOf(a) - rpsOf(b));
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  // Every reply of a round is a request; non-2xx ones are counted as well.
  const measured = results.reduce((sum, result) => sum + result.requests, 0);
  return {
    scenario: scenario.name,
    ...(before ? { before: true } : {}),
    rps: rpsOf(median),
    p50Ms: median.p50Us / 1000,
    p90Ms: median.p90Us / 1000,
    p99Ms: median.p99Us / 1000,
    maxMs: median.maxUs / 1000,
    requests: measured,
    // Every round counts: an error in any round is an error.
    non2xx: results.reduce((sum, result) => sum + result.non2xx, 0),
    socketErrors: results.reduce(
      (sum, result) =>
        sum + result.connectErrors + result.readErrors + result.writeErrors +
        result.timeouts,
      0,
    ),
    rounds: results.map((result) => Math.round(rpsOf(result))),
    ...(scenario.store === "pg"
      ? { roundTripsPerRequest: trips / Math.max(1, measured) }
      : {}),
  };
}

/** A PostgreSQL row's rps over the single-process KV row of its method. */
function kvShare(
  row: Measurement,
  measurements: readonly Measurement[],
): string {
  if (!row.scenario.includes("(pg")) return "-";
  const kv = measurements.find((other) =>
    other.scenario === row.scenario.split(" ")[0] && other.before === row.before
  );
  return kv === undefined ? "-" : `${(100 * row.rps / kv.rps).toFixed(1)}%`;
}

/** A row's rps over the `--compare` checkout's row of the same scenario. */
function beforeShare(
  row: Measurement,
  measurements: readonly Measurement[],
): string {
  if (row.before) return "-";
  const before = measurements.find((other) =>
    other.before && other.scenario === row.scenario
  );
  return before === undefined
    ? "-"
    : `${(100 * row.rps / before.rps).toFixed(1)}%`;
}

function table(measurements: readonly Measurement[]): string {
  const bare = measurements.find((row) => row.scenario === "bare");
  const compared = measurements.some((row) => row.before);
  const header = [
    "scenario",
    "rps",
    "p50 ms",
    "p99 ms",
    "max ms",
    "non-2xx",
    "sock err",
    "vs bare",
    "vs kv",
    "trips/req",
    ...(compared ? ["vs before"] : []),
  ];
  const rows = measurements.map((row) => [
    row.before ? `${row.scenario} (before)` : row.scenario,
    row.rps.toFixed(0),
    row.p50Ms.toFixed(2),
    row.p99Ms.toFixed(2),
    row.maxMs.toFixed(1),
    String(row.non2xx),
    String(row.socketErrors),
    bare === undefined ? "-" : `${(100 * row.rps / bare.rps).toFixed(1)}%`,
    kvShare(row, measurements),
    row.roundTripsPerRequest === undefined
      ? "-"
      : row.roundTripsPerRequest.toFixed(3),
    ...(compared ? [beforeShare(row, measurements)] : []),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length))
  );
  const format = (cells: readonly string[]) =>
    "| " +
    cells.map((cell, column) =>
      column === 0
        ? cell.padEnd(widths[column]!)
        : cell.padStart(widths[column]!)
    ).join(" | ") + " |";
  return [
    format(header),
    "|" +
    widths.map((width, column) =>
      column === 0 ? ` ${"-".repeat(width)} |` : ` ${"-".repeat(width - 1)}: |`
    ).join(""),
    ...rows.map(format),
  ].join("\n");
}

async function main(): Promise<void> {
  const wrkCheck = await new Deno.Command("wrk", {
    args: ["--version"],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => null);
  if (wrkCheck === null) {
    throw new Error("wrk is not installed: apt-get install -y wrk");
  }
  const secret = Deno.env.get("BENCH_JWT_SECRET") ??
    crypto.randomUUID() + crypto.randomUUID();
  if (new TextEncoder().encode(secret).length < 32) {
    throw new Error(`"BENCH_JWT_SECRET" must be at least 32 bytes`);
  }
  const token = mintToken(secret);
  const scenarios = selectedScenarios();
  const dir = await Deno.makeTempDir({ prefix: "parley-load-" });
  const measurements: Measurement[] = [];
  const sessionSecret = crypto.randomUUID() + crypto.randomUUID();
  let cluster: PostgresCluster | undefined;
  console.error(
    `parley load: ${scenarios.length} scenarios, ${durationS} s each (+${warmupS} s warm-up) × ${rounds} round(s), wrk -t${wrkThreads} -c${connections}, ${workers} workers with --parallel; temp ${dir}`,
  );
  try {
    await Deno.writeTextFile(`${dir}/policy.yaml`, benchPolicy());
    // One set of servers per (kind, parallel, store, hosts); its scenarios
    // run back to back.
    const groups = new Map<string, Scenario[]>();
    for (const scenario of scenarios) {
      const key = `${scenario.server}-${scenario.parallel}-${
        scenario.store ?? "kv"
      }-${scenario.hosts ?? 1}`;
      groups.set(key, [...(groups.get(key) ?? []), scenario]);
    }
    for (const [key, group] of groups) {
      const first = group[0]!;
      const hosts = first.hosts ?? 1;
      const checkouts = BEFORE !== undefined && first.server === "parley"
        ? [{ root: BEFORE, before: true }, { root: ROOT, before: false }]
        : [{ root: ROOT, before: false }];
      const sets: { servers: RunningServer[]; before: boolean }[] = [];
      try {
        for (const { root, before } of checkouts) {
          const setDir = `${dir}/${key}${before ? "-before" : ""}`;
          let store: Record<string, string>;
          if (first.store === "pg") {
            cluster ??= await startCluster();
            store = { PARLEY_STORE: await cluster.createDatabase() };
          } else {
            store = { PARLEY_KV: `${setDir}/kv.sqlite` };
          }
          const set = { servers: [] as RunningServer[], before };
          sets.push(set);
          for (let host = 0; host < hosts; host++) {
            // Each host its own dir, as separate machines would have.
            const serverDir = `${setDir}/host-${host}`;
            await Deno.mkdir(serverDir, { recursive: true });
            set.servers.push(
              await startServer(first, serverDir, {
                PARLEY_POLICY: `${dir}/policy.yaml`,
                ...store,
                PARLEY_DECISION_LOG: `${serverDir}/decisions.jsonl`,
                PARLEY_SESSION_SECRET: sessionSecret,
                BENCH_JWT_SECRET: secret,
              }, root),
            );
          }
        }
        for (const scenario of group) {
          measurements.push(
            ...await measure(scenario, sets, `${dir}/${key}`, token),
          );
        }
      } finally {
        await Promise.all(
          sets.flatMap((set) => set.servers.map((server) => server.stop())),
        );
      }
      for (const { servers, before } of sets) {
        for (const server of servers) {
          const errors = server.output().split("\n").filter((line) =>
            /error|locked|unavailable/i.test(line)
          );
          if (errors.length > 0) {
            console.error(
              `  ${key}${before ? " (before)" : ""} server said:\n    ${
                errors.join("\n    ")
              }`,
            );
          }
        }
      }
    }
  } finally {
    await cluster?.[Symbol.asyncDispose]();
    await Deno.remove(dir, { recursive: true });
  }
  console.log(
    `\n${
      new Date().toISOString()
    } · ${navigator.hardwareConcurrency} cores · deno ${Deno.version.deno} · wrk -t${wrkThreads} -c${connections} -d${durationS}s (median of ${rounds}) · --parallel ${workers} workers\n`,
  );
  console.log(table(measurements));
  if (flags.json !== undefined) {
    await Deno.writeTextFile(
      flags.json,
      JSON.stringify(
        {
          date: new Date().toISOString(),
          cores: navigator.hardwareConcurrency,
          deno: Deno.version.deno,
          durationS,
          connections,
          wrkThreads,
          workers,
          rounds,
          ...(flags.compare === undefined ? {} : { compare: flags.compare }),
          measurements,
        },
        null,
        2,
      ) + "\n",
    );
  }
}

await main();
