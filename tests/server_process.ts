/**
 * The real Parley server as a child process, for whole-server tests: its own
 * temp dir with the policy file, the KV file and the decision log; port 0;
 * the address read from its start-up line. With `store`, it runs on that
 * store instead (e.g. one PostgreSQL database that several hosts share).
 *
 * @module
 */

import http from "node:http";
import type { DecisionLogEntry } from "../observability/decision_log.ts";

/** A running server process. */
export interface ServerProcess {
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  readonly port: number;
  /** The server's process id (for signals). */
  readonly pid: number;
  /** The temp dir holding `policy.yaml`, `kv.sqlite` and `decisions.jsonl`. */
  readonly dir: string;
  /** `<dir>/policy.yaml`, or `<dir>/policy.d` for a policy directory. */
  readonly policyPath: string;
  readonly kvPath: string;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** Whether the process has not exited (yet). */
  running(): boolean;
  /**
   * Parsed decision-log lines so far, once the log has settled (the server
   * writes it in the background: read until two reads 100 ms apart agree).
   */
  decisions(): Promise<DecisionLogEntry[]>;
  /** `POST /rpc/<method>` with a JSON body. */
  rpc(
    method: string,
    body: unknown,
    init?: RpcInit,
    // deno-lint-ignore no-explicit-any -- tests read reply JSON loosely
  ): Promise<{ status: number; headers: Headers; body: any }>;
  /** Stops the process (keeps the dir). */
  stop(): Promise<void>;
  /** Stops the process and removes the dir. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Headers and source address of one test RPC call. */
export interface RpcInit {
  readonly origin?: string;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  readonly headers?: Record<string, string>;
  /** Loopback source address to call from (e.g. `127.0.0.2`), for per-IP limits. */
  readonly localAddress?: string;
}

/** Options of {@linkcode startServer}. */
export interface StartServerOptions {
  /** Policy text written to `<dir>/policy.yaml`; ignored with `policyFiles`. */
  readonly policy?: string;
  /** A policy directory instead: file names and texts written to `<dir>/policy.d/`. */
  readonly policyFiles?: Readonly<Record<string, string>>;
  /** Extra environment (secrets named by the policy, …). */
  readonly env?: Record<string, string>;
  /** Reuse a dir (and its KV file) from an earlier process, e.g. a restart. */
  readonly dir?: string;
  /** Overrides the KV location (e.g. an unreachable KV Connect URL). */
  readonly kv?: string;
  /**
   * `PARLEY_STORE`: a store every host shares (a `postgres://` URL from
   * `TestEngine.location()`); the host keeps its own local dir beside it.
   */
  readonly store?: string;
  /** Entry file: `server.ts` (default). */
  readonly entry?: string;
  /**
   * A command the server runs under, e.g. `["prlimit", "--nofile=512"]`; it
   * must exec the server, so `pid` stays the server's.
   */
  readonly commandPrefix?: readonly string[];
}

const root = new URL("../", import.meta.url);

interface RawReply {
  status: number;
  headers: Headers;
  text: string;
}

async function fetchText(
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<RawReply> {
  const response = await fetch(url, { method: "POST", headers, body });
  return {
    status: response.status,
    headers: response.headers,
    text: await response.text(),
  };
}

/** `fetch` cannot pick a source address; `node:http` can. */
function postFrom(
  localAddress: string,
  port: number,
  path: string,
  headers: Record<string, string>,
  body: string,
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        localAddress,
        headers,
        agent: false,
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => text += chunk);
        response.on("end", () => {
          const replyHeaders = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            if (typeof value === "string") replyHeaders.set(name, value);
          }
          resolve({
            status: response.statusCode ?? 0,
            headers: replyHeaders,
            text,
          });
        });
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/**
 * Starts `server.ts` on 127.0.0.1 port 0.
 *
 * @param options Policy, environment, dir.
 * @returns The running process; dispose it with `await using`.
 */
export async function startServer(
  options: StartServerOptions,
): Promise<ServerProcess> {
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "parley-test-" });
  const policyPath = options.policyFiles === undefined
    ? `${dir}/policy.yaml`
    : `${dir}/policy.d`;
  const kvPath = `${dir}/kv.sqlite`;
  const decisionLog = `${dir}/decisions.jsonl`;
  if (options.policyFiles !== undefined) {
    await Deno.mkdir(policyPath, { recursive: true });
    for (const [name, text] of Object.entries(options.policyFiles)) {
      await Deno.writeTextFile(`${policyPath}/${name}`, text);
    }
  } else if (options.policy !== undefined) {
    await Deno.writeTextFile(policyPath, options.policy);
  } else if (options.dir === undefined) {
    throw new TypeError("startServer needs a policy or policyFiles");
  }
  const env: Record<string, string> = {
    PORT: "0",
    HOSTNAME: "127.0.0.1",
    PARLEY_POLICY: policyPath,
    ...(options.store === undefined
      ? { PARLEY_KV: options.kv ?? kvPath }
      : { PARLEY_STORE: options.store }),
    PARLEY_DECISION_LOG: decisionLog,
    NO_COLOR: "1",
    ...options.env,
  };
  const [command, ...prefixArgs] = [
    ...options.commandPrefix ?? [],
    Deno.execPath(),
  ];
  const child = new Deno.Command(command!, {
    args: [
      ...prefixArgs,
      "run",
      "-A",
      new URL(options.entry ?? "server.ts", root).pathname,
    ],
    env,
    cwd: dir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderrText = "";
  const listening = Promise.withResolvers<number>();
  const stderrDone = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      stderrText += decoder.decode(chunk, { stream: true });
      const match = /listening on http:\/\/[^:]+:(\d+)\//.exec(stderrText);
      if (match) listening.resolve(Number(match[1]));
    }
    listening.reject(
      new Error(`Server exited before listening:\n${stderrText}`),
    );
  })();
  const stdoutDone = child.stdout.pipeTo(new WritableStream());
  const timeout = setTimeout(
    () =>
      listening.reject(
        new Error(`Server did not start in 30 s:\n${stderrText}`),
      ),
    30_000,
  );
  let port: number;
  try {
    port = await listening.promise;
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    await Promise.allSettled([stderrDone, stdoutDone]);
    throw error;
  } finally {
    clearTimeout(timeout);
  }
  const baseUrl = `http://127.0.0.1:${port}`;
  let exited = false;
  child.status.then(() => exited = true);
  let stopped = false;
  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await Promise.allSettled([stderrDone, stdoutDone]);
  }
  return {
    baseUrl,
    port,
    pid: child.pid,
    dir,
    policyPath,
    kvPath,
    stderr: () => stderrText,
    running: () => !exited,
    async decisions() {
      const read = async () => {
        try {
          return await Deno.readTextFile(decisionLog);
        } catch {
          return ""; // none yet
        }
      };
      let text = await read();
      for (let settled = false, round = 0; !settled && round < 30; round++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const again = await read();
        settled = again === text;
        text = again;
      }
      return text.split("\n").filter((line) => line !== "").map((line) =>
        JSON.parse(line)
      );
    },
    async rpc(method, body, init = {}) {
      const headers: Record<string, string> = {
        "Content-Type": "application/json",
        ...init.headers,
      };
      if (init.origin !== undefined) headers["Origin"] = init.origin;
      if (init.token !== undefined) {
        headers["Authorization"] = `Bearer ${init.token}`;
      }
      const payload = typeof body === "string" ? body : JSON.stringify(body);
      let reply: RawReply;
      try {
        reply = init.localAddress === undefined
          ? await fetchText(`${baseUrl}/rpc/${method}`, headers, payload)
          : await postFrom(
            init.localAddress,
            port,
            `/rpc/${method}`,
            headers,
            payload,
          );
      } catch (error) {
        // A refused connection says little; the server's last words say why.
        if (exited) {
          throw new Error(
            `${method}: the server exited (${
              (await child.status).code
            }); its stderr:\n${stderrText}`,
            { cause: error },
          );
        }
        throw error;
      }
      const { status, headers: replyHeaders, text } = reply;
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch { /* not JSON */ }
      return { status, headers: replyHeaders, body: parsed };
    },
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
      if (options.dir === undefined) {
        await Deno.remove(dir, { recursive: true });
      }
    },
  };
}

/**
 * Waits until the current fixed rate-limit window has at least `marginMs`
 * left, so an exact-count test never straddles a window boundary.
 *
 * @param windowMs The window of the limit under test.
 * @param marginMs Time the test needs.
 */
export async function awayFromWindowEdge(
  windowMs = 60_000,
  marginMs = 5_000,
): Promise<void> {
  const left = windowMs - (Date.now() % windowMs);
  if (left < marginMs) {
    await new Promise((resolve) => setTimeout(resolve, left + 50));
  }
}

/**
 * Polls `condition` every 100 ms until it holds (for eventual effects such as
 * a policy reload).
 *
 * @param condition Checked until it returns true.
 * @param timeoutMs How long to wait before failing.
 * @throws {Error} When the condition never held in time.
 */
export async function waitFor(
  condition: () => Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("Condition not met in time");
}
