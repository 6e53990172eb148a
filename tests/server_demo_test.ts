/**
 * A newcomer's first start, as `deno task start` and `deno serve` run it:
 * the built-in demo is `examples/demo.policy.yaml` on the server's own port
 * with an admin key printed at start (the same key on every worker, and it
 * signs in), the pages have an icon, stderr holds Parley's lines and no
 * Deno warning, and a policy nobody can sign in to, or whose variables are
 * unset, says so at start.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SECRETS, testPolicy } from "./test_policy.ts";

const ROOT = new URL("../", import.meta.url);
const START_WITHIN_MS = 30_000;

/** A server process started as an operator would, with only `env` set. */
interface Started extends AsyncDisposable {
  readonly baseUrl: string;
  readonly port: number;
  readonly dir: string;
  /** stderr so far. */
  stderr(): string;
}

/** Waits until `stderr` matches `pattern`, or fails with what it holds. */
async function stderrMatching(
  started: Started,
  pattern: RegExp,
): Promise<RegExpExecArray> {
  const deadline = Date.now() + START_WITHIN_MS;
  for (;;) {
    const match = pattern.exec(started.stderr());
    if (match !== null) return match;
    assert.ok(
      Date.now() < deadline,
      `stderr never matched ${pattern}:\n${started.stderr()}`,
    );
    await new Promise((wake) => setTimeout(wake, 50));
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Starts `deno run server.ts` (port 0) or `deno serve --parallel serve.ts`
 * in a fresh directory: no `policy.yaml` there, so without `PARLEY_POLICY`
 * it runs the built-in demo.
 */
async function start(
  how: "run" | "serve --parallel",
  env: Record<string, string> = {},
  files: Record<string, string> = {},
): Promise<Started> {
  const dir = await Deno.makeTempDir({ prefix: "parley-demo-" });
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir}/${name}`, text);
  }
  const port = how === "run" ? 0 : freePort();
  const config = new URL("deno.json", ROOT).pathname;
  const args = how === "run"
    ? ["run", "-A", "--config", config, new URL("server.ts", ROOT).pathname]
    : [
      "serve",
      "--parallel",
      "-A",
      "--config",
      config,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      new URL("serve.ts", ROOT).pathname,
    ];
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: dir,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "",
      ...(Deno.env.get("DENO_DIR")
        ? { DENO_DIR: Deno.env.get("DENO_DIR")! }
        : {}),
      HOME: Deno.env.get("HOME") ?? dir,
      NO_COLOR: "1",
      PORT: String(port),
      PARLEY_STORE: `${dir}/kv.sqlite`,
      PARLEY_DECISION_LOG: `${dir}/decisions.jsonl`,
      DENO_JOBS: "2",
      ...env,
    },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  const drained = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      text += decoder.decode(chunk, { stream: true });
    }
  })();
  const started: Started = {
    baseUrl: "",
    port,
    dir,
    stderr: () => text,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
      await drained;
      await Deno.remove(dir, { recursive: true });
    },
  };
  try {
    const listening = await stderrMatching(
      started,
      /listening on http:\/\/127\.0\.0\.1:(\d+)\//,
    );
    const bound = Number(listening[1]);
    return { ...started, port: bound, baseUrl: `http://127.0.0.1:${bound}` };
  } catch (error) {
    await started[Symbol.asyncDispose]();
    throw error;
  }
}

async function rpc(
  baseUrl: string,
  method: string,
  body: unknown,
  headers: Record<string, string> = {},
  client?: Deno.HttpClient,
  // deno-lint-ignore no-explicit-any -- tests read reply JSON loosely
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${baseUrl}/rpc/${method}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
    ...(client === undefined ? {} : { client }),
  });
  return { status: response.status, body: await response.json() };
}

Deno.test("deno run server.ts with no policy runs examples/demo.policy.yaml on its own port, prints an admin key that signs in, serves an icon, and prints no Deno warning after a boot and ended streams", async () => {
  await using server = await start("run");
  const key = (await stderrMatching(
    server,
    /agent inbox http:\/\/127\.0\.0\.1:\d+\/agent\?org=demo · admin key (\S+)/,
  ))[1]!;
  const example = await Deno.readTextFile(
    new URL("examples/demo.policy.yaml", ROOT),
  );
  const config = await rpc(server.baseUrl, "chat.getConfig", {
    organizationId: "demo",
  });
  assert.equal(config.status, 200);
  assert.ok(
    example.includes(`greeting: ${config.body.data.widget.greeting}`),
    "the greeting is the example file's",
  );

  // The example lists :8787; the demo follows the port it listens on.
  const boot = await rpc(server.baseUrl, "chat.boot", {
    organizationId: "demo",
  }, { Origin: `http://localhost:${server.port}` });
  assert.equal(boot.status, 200, JSON.stringify(boot.body));
  const agent = { Authorization: `Bearer ${key}` };
  const listed = await rpc(server.baseUrl, "agent.listConversations", {
    organizationId: "demo",
  }, agent);
  assert.equal(listed.status, 200);

  for (const page of ["/", "/agent"]) {
    const html = await (await fetch(`${server.baseUrl}${page}`)).text();
    assert.match(html, /<link rel="icon" href="\/favicon\.ico">/, page);
  }
  const icon = await fetch(`${server.baseUrl}/favicon.ico`);
  assert.equal(icon.status, 200);
  assert.equal(icon.headers.get("content-type"), "image/x-icon");
  const bytes = new Uint8Array(await icon.arrayBuffer());
  assert.deepEqual([...bytes.subarray(0, 4)], [0, 0, 1, 0], "an ICO header");

  // A stream the server ends itself (a third one of the key replaces the
  // first): Deno's legacy request.signal warning would print here.
  const streams = [];
  for (let n = 0; n < 3; n++) {
    const controller = new AbortController();
    const response = await fetch(`${server.baseUrl}/rpc/agent.stream`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...agent },
      body: JSON.stringify({ organizationId: "demo" }),
      signal: controller.signal,
    });
    assert.equal(response.status, 200);
    streams.push({ controller, response });
  }
  const first = await streams[0]!.response.text();
  assert.match(first, /event: closed\ndata: \{"reason":"stream\.replaced"\}/);
  for (const { controller, response } of streams.slice(1)) {
    controller.abort();
    await response.body?.cancel().catch(() => {});
  }
  await new Promise((wake) => setTimeout(wake, 300));
  const stderr = server.stderr();
  assert.doesNotMatch(stderr, /request\.signal/);
  assert.deepEqual(
    stderr.split("\n").filter((line) => line !== "" && !/^parley: /.test(line)),
    [],
    "only Parley's own lines",
  );
});

Deno.test("deno serve --parallel with no policy prints the demo's admin key, which every worker accepts and a restart keeps", async () => {
  const storeDir = await Deno.makeTempDir({ prefix: "parley-demo-store-" });
  using _removed = {
    [Symbol.dispose]: () => Deno.removeSync(storeDir, { recursive: true }),
  };
  const store = { PARLEY_STORE: `${storeDir}/kv.sqlite` };
  const key = await (async () => {
    await using first = await start("serve --parallel", store);
    return (await stderrMatching(first, /admin key (\S+)/))[1]!;
  })();
  await using server = await start("serve --parallel", store);
  const keys = new Set<string>();
  await stderrMatching(server, /admin key \S+/);
  for (const match of server.stderr().matchAll(/admin key (\S+)/g)) {
    keys.add(match[1]!);
  }
  assert.deepEqual([...keys], [key], "kept in the store, not made per worker");
  // Fresh connections land on either worker.
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  try {
    for (let n = 0; n < 8; n++) {
      const listed = await rpc(
        server.baseUrl,
        "agent.listConversations",
        {
          organizationId: "demo",
        },
        { Authorization: `Bearer ${key}` },
        client,
      );
      assert.equal(listed.status, 200);
    }
  } finally {
    client.close();
  }
});

Deno.test("a policy directory whose secrets are unset names them in one line, says who cannot sign in, and /healthz reads degraded (200) with no organization", async () => {
  const directory = new URL("examples/policy.d", ROOT).pathname;
  await using server = await start("run", { PARLEY_POLICY: directory });
  const stderr = server.stderr();
  const variables = stderr.split("\n").filter((line) =>
    line.startsWith("parley: the policy reads ")
  );
  assert.equal(variables.length, 1, stderr);
  for (
    const name of [
      "ACME_CHAT_JWT_SECRET_2026_12",
      "ACME_KEY_ADA",
      "GLOBEX_CHAT_JWT_SECRET",
    ]
  ) {
    assert.match(variables[0]!, new RegExp(`not set: .*${name}`));
  }
  assert.match(
    stderr,
    /^parley: no organization has an admin key whose variable is set, so nobody can sign in at \/agent: set ACME_KEY_ADA, ACME_KEY_GRACE /m,
  );
  const health = await fetch(`${server.baseUrl}/healthz`);
  assert.equal(health.status, 200);
  const body = await health.json();
  assert.equal(body.status, "degraded");
  assert.equal(body.organizations, 0);
});

Deno.test("a policy with its variables set says they are, and one without admin keys says how to add one", async () => {
  const withKeys = await start("run", {
    PARLEY_POLICY: "policy.yaml",
    ...SECRETS,
  }, { "policy.yaml": testPolicy() });
  try {
    assert.match(
      withKeys.stderr(),
      /^parley: the policy reads .*\(all set\)$/m,
    );
    assert.doesNotMatch(withKeys.stderr(), /nobody can sign in/);
    const health = await (await fetch(`${withKeys.baseUrl}/healthz`)).json();
    assert.equal(health.status, "ok");
  } finally {
    await withKeys[Symbol.asyncDispose]();
  }
  await using example = await start("run", {
    PARLEY_POLICY: new URL("examples/demo.policy.yaml", ROOT).pathname,
  });
  assert.match(
    example.stderr(),
    /^parley: no organization has an admin key, so nobody can sign in at \/agent: add admin: .*ACME_ADMIN_KEY/m,
  );
  assert.doesNotMatch(example.stderr(), /admin key \S+$/m, "no demo key");
});
