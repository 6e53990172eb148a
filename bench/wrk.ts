/**
 * One `wrk` run for `bench/load.ts`: the request as a Lua script, and the
 * figures its `done()` hook prints as one JSON line, latencies in
 * microseconds.
 *
 * @module
 */

/** wrk's per-request timeout; a request slower than this counts as a timeout. */
const WRK_TIMEOUT = "5s";

/** The request a scenario sends, as wrk will send it. */
export interface LoadRequest {
  readonly path: string;
  readonly body: string;
  readonly headers: Record<string, string>;
}

/** What the wrk `done()` hook prints, latencies in microseconds. */
export interface WrkResult {
  readonly requests: number;
  readonly durationUs: number;
  readonly non2xx: number;
  readonly connectErrors: number;
  readonly readErrors: number;
  readonly writeErrors: number;
  readonly timeouts: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  readonly maxUs: number;
}

/** How wrk loads a server. */
export interface WrkLoad {
  /** wrk threads (`-t`). */
  readonly threads: number;
  /** Open connections (`-c`). */
  readonly connections: number;
  /** Seconds of load (`-d`). */
  readonly seconds: number;
}

function luaString(text: string): string {
  if (text.includes("]==]")) throw new Error("Text cannot be a Lua literal");
  return `[==[${text}]==]`;
}

/**
 * The wrk script that sends `request` and prints the figures.
 *
 * @param request What every connection sends.
 * @returns The Lua script's text.
 */
export function wrkScript(request: LoadRequest): string {
  const headers = Object.entries(request.headers).map(([name, value]) =>
    `wrk.headers[ ${luaString(name)} ] = ${luaString(value)}`
  ).join("\n");
  return `wrk.method = "POST"
wrk.path = ${luaString(request.path)}
wrk.body = ${luaString(request.body)}
${headers}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'PARLEY_WRK {"requests":%d,"durationUs":%d,"non2xx":%d,' ..
    '"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"timeouts":%d,' ..
    '"p50Us":%d,"p90Us":%d,"p99Us":%d,"maxUs":%d}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read,
    e.write, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
`;
}

/**
 * Runs wrk once against a server.
 *
 * @param baseUrl The server's origin.
 * @param scriptPath A file holding {@linkcode wrkScript}'s text.
 * @param load Threads, connections and seconds.
 * @returns The figures of the run.
 * @throws {Error} When wrk fails or prints no figures.
 */
export async function runWrk(
  baseUrl: string,
  scriptPath: string,
  load: WrkLoad,
): Promise<WrkResult> {
  const output = await new Deno.Command("wrk", {
    args: [
      `-t${load.threads}`,
      `-c${load.connections}`,
      `-d${load.seconds}s`,
      `--timeout`,
      WRK_TIMEOUT,
      "--latency",
      "-s",
      scriptPath,
      baseUrl,
    ],
    stdout: "piped",
    stderr: "piped",
    // wrk ends by itself after -d; this only bounds a hung client.
    signal: AbortSignal.timeout((load.seconds + 30) * 1000),
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  const line = text.split("\n").find((row) => row.startsWith("PARLEY_WRK "));
  if (!output.success || line === undefined) {
    throw new Error(
      `wrk failed (${output.code}):\n${text}\n${
        new TextDecoder().decode(output.stderr)
      }`,
    );
  }
  return JSON.parse(line.slice("PARLEY_WRK ".length)) as WrkResult;
}
