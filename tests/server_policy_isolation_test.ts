/**
 * A policy directory's organizations stay apart against the real server
 * process, one test per finding of the second security review: beta's file
 * cannot use acme's secrets, nor learn which are set from `/healthz`; no
 * file, however hostile, holds up acme's requests or floods the log;
 * symlinks out of the directory are not followed; an editor's swap file
 * cannot hold acme's edits back; file names cannot write escapes to the
 * operator's terminal.
 */

import assert from "node:assert/strict";
import { verifyWebhookSignature } from "../chat/webhook.ts";
import { type ServerProcess, startServer, waitFor } from "./server_process.ts";

const SECRETS = {
  ACME_WEBHOOK_SECRET: "acme-webhook-secret-0123456789abcdef01234567",
  ACME_KEY_ADA: "acme-key-ada-0123456789abcdef0123456789abcd",
  ACME_KEY_GRACE: "acme-key-grace-0123456789abcdef0123456789ab",
  BETA_WEBHOOK_SECRET: "beta-webhook-secret-0123456789abcdef01234567",
};

const SETTINGS = `version: 1
defaults:
  limits: { organization: 100000/minute, ip: 100000/minute, agent: 100000/minute }
secrets: { acme: [ACME_*], beta: [BETA_*] }
# The webhook receivers listen on loopback over http.
server: { allowWebhookHosts: [127.0.0.1] }
`;

const ACME = `version: 1
domains: { allow: [acme.com] }
admin:
  keys:
    - { id: ada, secret: { env: ACME_KEY_ADA } }
    - { id: grace, secret: { env: ACME_KEY_GRACE } }
`;

function beta(webhookUrl: string, variable = "BETA_WEBHOOK_SECRET"): string {
  return `version: 1
domains: { allow: [beta.example] }
webhook:
  url: ${webhookUrl}
  secret: { env: ${variable} }
`;
}

async function healthBody(server: ServerProcess) {
  return await (await fetch(`${server.baseUrl}/healthz`)).json();
}

async function failures(
  server: ServerProcess,
): Promise<{ file: string; line: number; column: number; code: string }[]> {
  return (await healthBody(server)).policyErrors;
}

async function failureOf(server: ServerProcess, file: string) {
  return (await failures(server)).find((failure) => failure.file === file);
}

const boot = (server: ServerProcess, organizationId: string, origin: string) =>
  server.rpc("chat.boot", { organizationId }, { origin });

Deno.test("beta's file binding acme's variable gets secret-not-assigned at its position; beta keeps its own secret and a new file binding it is not loaded", async () => {
  const received: { body: string; signature: string | null }[] = [];
  const receiver = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      received.push({
        body: await request.text(),
        signature: request.headers.get("parley-signature"),
      });
      return new Response("ok");
    },
  );
  try {
    const hook = `http://127.0.0.1:${receiver.addr.port}/hook`;
    await using server = await startServer({
      policyFiles: {
        "_parley.yaml": SETTINGS,
        "acme.yaml": ACME,
        "beta.yaml": beta(hook),
        // A new organization whose file binds acme's admin key.
        "delta.yaml":
          "version: 1\ndomains: { mode: off }\nadmin:\n  keys: [{ secret: { env: ACME_KEY_ADA } }]\n",
      },
      env: SECRETS,
    });
    assert.deepEqual(await failureOf(server, "delta.yaml"), {
      file: "delta.yaml",
      line: 4,
      column: 27,
      code: "secret-not-assigned",
    });
    const delta = await server.rpc("agent.listConversations", {
      organizationId: "delta",
    }, { token: SECRETS.ACME_KEY_ADA });
    assert.equal(delta.status, 404, "delta is not served");

    await Deno.writeTextFile(
      `${server.policyPath}/beta.yaml`,
      beta(hook, "ACME_WEBHOOK_SECRET"),
    );
    await waitFor(async () =>
      (await failureOf(server, "beta.yaml"))?.code === "secret-not-assigned"
    );
    assert.deepEqual(await failureOf(server, "beta.yaml"), {
      file: "beta.yaml",
      line: 5,
      column: 18,
      code: "secret-not-assigned",
    });
    assert.match(
      server.stderr(),
      /policy\.d\/beta\.yaml:5:18 secret-not-assigned Environment variable "ACME_WEBHOOK_SECRET" is not assigned to organization "beta"/,
    );

    const visitor = await boot(server, "beta", "https://beta.example");
    assert.equal(visitor.status, 200, "beta keeps its last good version");
    const sent = await server.rpc("chat.sendMessage", { text: "hello" }, {
      origin: "https://beta.example",
      token: visitor.body.data.session.token,
    });
    assert.equal(sent.status, 200);
    await waitFor(() => Promise.resolve(received.length > 0), 20_000);
    const delivery = received[0]!;
    assert.ok(
      await verifyWebhookSignature(
        SECRETS.BETA_WEBHOOK_SECRET,
        delivery.signature,
        delivery.body,
      ),
      "signed with beta's own secret",
    );
    assert.ok(
      !await verifyWebhookSignature(
        SECRETS.ACME_WEBHOOK_SECRET,
        delivery.signature,
        delivery.body,
      ),
      "never with acme's",
    );
    assert.equal(
      (await boot(server, "acme", "https://acme.com")).status,
      200,
      "acme is unaffected",
    );
  } finally {
    await receiver.shutdown();
  }
});

Deno.test("/healthz names no variable and no message, and reads the same whether another organization's variable is set, unset or short", async () => {
  const bodies: string[] = [];
  for (
    const value of [SECRETS.ACME_WEBHOOK_SECRET, undefined, "short"] as const
  ) {
    await using server = await startServer({
      policyFiles: {
        "_parley.yaml": SETTINGS,
        "beta.yaml": beta("https://beta.example/hook", "ACME_WEBHOOK_SECRET"),
      },
      env: value === undefined ? {} : { ACME_WEBHOOK_SECRET: value },
    });
    const body = await healthBody(server);
    assert.deepEqual(body.policyErrors, [
      { file: "beta.yaml", line: 5, column: 18, code: "secret-not-assigned" },
    ]);
    const text = JSON.stringify({
      policyErrors: body.policyErrors,
      lastReloadError: body.lastReloadError,
    });
    for (
      const leak of [
        "ACME_WEBHOOK_SECRET",
        "not assigned",
        "Environment variable",
        "is not set",
        "shorter than",
        "_parley.yaml",
      ]
    ) {
      assert.ok(!text.includes(leak), `/healthz shows "${leak}": ${text}`);
    }
    bodies.push(text);
  }
  assert.equal(new Set(bodies).size, 1, bodies.join("\n"));
});

/** beta.yaml texts no server should stall on, with the code each gets. */
const HOSTILE_FILES: ReadonlyArray<readonly [string, () => string, string]> = [
  [
    "16,000 aliases (24.7 s of compile before)",
    () =>
      `version: 1\nname: &n Beta\nx: [${
        Array(16_000).fill("*n").join(", ")
      }]\n`,
    "unknown-key",
  ],
  [
    "2 MiB of unknown keys",
    () => unknownKeys(210_000),
    "file-too-large",
  ],
  [
    "20,000 unknown keys (each a problem)",
    () => unknownKeys(20_000),
    "unknown-key",
  ],
  [
    "a billion laughs padded with a 0.9 MB comment",
    () => billionLaughs(900_000),
    "too-large",
  ],
  [
    "1,001 admin keys",
    () =>
      `version: 1\nadmin:\n  keys:\n${
        Array.from(
          { length: 1_001 },
          (_, i) => `    - { id: k${i}, secret: { env: BETA_K${i} } }`,
        ).join("\n")
      }\n`,
    "too-many-admin-keys",
  ],
  [
    "50,000 nested lists",
    () => `${"[".repeat(50_000)}${"]".repeat(50_000)}\n`,
    // The parser gives up on the depth; after a syntax error only it is reported.
    "syntax",
  ],
];

function unknownKeys(count: number): string {
  return `version: 1\n${
    Array.from({ length: count }, (_, i) => `key${i}: 1`).join("\n")
  }\n`;
}

function billionLaughs(padding: number): string {
  const lines = ["version: 1", "a: &a [x, x, x, x, x, x, x, x, x, x]"];
  for (let level = 1; level < 9; level++) {
    const previous = String.fromCharCode(96 + level);
    const name = String.fromCharCode(97 + level);
    lines.push(
      `${name}: &${name} [${Array(10).fill(`*${previous}`).join(", ")}]`,
    );
  }
  lines.push(`# ${"x".repeat(padding)}`);
  return `${lines.join("\n")}\n`;
}

/** Times acme's `chat.getConfig`, one call after another, until `done`. */
async function timeAcme(
  server: ServerProcess,
  done: Promise<unknown>,
): Promise<number[]> {
  let finished = false;
  void done.finally(() => finished = true);
  const latencies: number[] = [];
  for (let i = 0; !finished && i < 10_000; i++) {
    const started = performance.now();
    const reply = await server.rpc("chat.getConfig", {
      organizationId: "acme",
    }, { origin: "https://acme.com" });
    latencies.push(performance.now() - started);
    assert.equal(reply.status, 200);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return latencies;
}

Deno.test("no beta.yaml, however hostile, holds up acme's requests or floods the log", async (t) => {
  await using server = await startServer({
    policyFiles: {
      "_parley.yaml": SETTINGS,
      "acme.yaml": ACME,
      "beta.yaml": beta("https://beta.example/hook"),
    },
    env: SECRETS,
  });
  const betaPath = `${server.policyPath}/beta.yaml`;
  for (const [name, make, code] of HOSTILE_FILES) {
    await t.step(`${name}: ${code}`, async () => {
      const text = make();
      const linesBefore = server.stderr().split("\n").length;
      const started = performance.now();
      const applied = (async () => {
        await Deno.writeTextFile(betaPath, text);
        await waitFor(
          async () => (await failureOf(server, "beta.yaml"))?.code === code,
          30_000,
        );
      })();
      const latencies = await timeAcme(server, applied);
      await applied;
      const appliedMs = performance.now() - started;
      const slowest = Math.max(...latencies);
      console.log(
        `${name}: ${code} after ${
          appliedMs.toFixed(0)
        } ms; acme answered ${latencies.length} calls meanwhile, the slowest in ${
          slowest.toFixed(0)
        } ms`,
      );
      assert.ok(slowest < 1_000, `acme waited ${slowest.toFixed(0)} ms`);
      assert.equal(
        (await boot(server, "beta", "https://beta.example")).status,
        200,
        "beta keeps its last good version",
      );
      const linesAdded = server.stderr().split("\n").length - linesBefore;
      assert.ok(linesAdded < 40, `${linesAdded} log lines for one file`);

      await Deno.writeTextFile(betaPath, beta("https://beta.example/hook"));
      await waitFor(async () => (await failures(server)).length === 0);
    });
  }
  assert.match(server.stderr(), /… and 19,995 more unknown-key problems/);
});

Deno.test("symlinks out of the policy directory are not followed (symlink-outside)", async () => {
  const outside = await Deno.makeTempDir({ prefix: "parley-outside-" });
  try {
    await using server = await startServer({
      policyFiles: { "_parley.yaml": SETTINGS, "acme.yaml": ACME },
      env: SECRETS,
    });
    await Deno.writeTextFile(
      `${outside}/beta.yaml`,
      "version: 1\ndomains: { mode: off }\n",
    );
    await Deno.writeTextFile(
      `${outside}/acme.yaml`,
      "version: 1\ndomains: { mode: off }\n",
    );
    await Deno.symlink(
      `${outside}/beta.yaml`,
      `${server.policyPath}/beta.yaml`,
    );
    await Deno.remove(`${server.policyPath}/acme.yaml`);
    await Deno.symlink(
      `${outside}/acme.yaml`,
      `${server.policyPath}/acme.yaml`,
    );
    Deno.kill(server.pid, "SIGHUP");
    await waitFor(async () =>
      (await failures(server)).filter((failure) =>
        failure.code === "symlink-outside"
      ).length === 2
    );
    assert.equal(
      (await boot(server, "beta", "https://anywhere.example")).status,
      404,
      "beta is not loaded",
    );
    assert.equal(
      (await boot(server, "acme", "https://anywhere.example")).status,
      403,
      "acme keeps its last good version, not the outside file's",
    );
  } finally {
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("an editor's swap file rewritten every 50 ms does not hold back acme's key revocation (in force within 1 s)", async () => {
  await using server = await startServer({
    policyFiles: { "_parley.yaml": SETTINGS, "acme.yaml": ACME },
    env: SECRETS,
  });
  const asGrace = () =>
    server.rpc("agent.listConversations", { organizationId: "acme" }, {
      token: SECRETS.ACME_KEY_GRACE,
    });
  assert.equal((await asGrace()).status, 200);
  let churning = true;
  const churn = (async () => {
    for (let i = 0; churning && i < 200; i++) {
      await Deno.writeTextFile(
        `${server.policyPath}/.acme.yaml.swp`,
        `swap ${i}\n`,
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  try {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await Deno.writeTextFile(
      `${server.policyPath}/acme.yaml`,
      ACME.replace(/ {4}- \{ id: grace.*\n/, ""),
    );
    const revoked = performance.now();
    let status = 200;
    for (let i = 0; status === 200 && i < 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      status = (await asGrace()).status;
    }
    const tookMs = performance.now() - revoked;
    console.log(`grace's key refused ${tookMs.toFixed(0)} ms after the edit`);
    assert.equal(status, 401);
    assert.ok(tookMs < 1_000, `the revocation took ${tookMs.toFixed(0)} ms`);
  } finally {
    churning = false;
    await churn;
  }
});

Deno.test("file names and file contents with terminal escapes reach the log escaped", async () => {
  await using server = await startServer({
    policyFiles: { "_parley.yaml": SETTINGS, "acme.yaml": ACME },
    env: SECRETS,
  });
  const name = "\x1b]0;owned\x07\x1b[2J.yaml";
  await Deno.writeTextFile(`${server.policyPath}/${name}`, "version: 1\n");
  await Deno.writeTextFile(
    `${server.policyPath}/beta.yaml`,
    'version: 1\n"\\e[31mred\\u202e": 1\n',
  );
  await waitFor(async () => (await failures(server)).length === 2);
  const log = server.stderr();
  assert.ok(!log.includes("\x1b"), "no raw escape reached the log");
  assert.ok(!log.includes("\u202e"), "no raw bidirectional override either");
  assert.match(log, /policy\.d\/\\x1b\]0;owned\\x07\\x1b\[2J\.yaml/);
  assert.match(
    log,
    /beta\.yaml:2:1 unknown-key Unknown key "\\x1b\[31mred\\u202e"/,
  );
});
