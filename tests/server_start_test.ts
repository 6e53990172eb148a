/**
 * A server that cannot start says why in one line and exits 1: a store it
 * cannot use, a setting out of range, each naming its variable and the fix
 * (`server_settings.ts` checks them all before anything starts). Never a
 * stack trace, never a password or secret.
 */

import assert from "node:assert/strict";
import { SECRETS, testPolicy } from "./test_policy.ts";

const SERVER = new URL("../server.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

async function startFailing(
  env: Record<string, string>,
  policy = testPolicy(),
): Promise<{ code: number; stderr: string; files: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: "parley-start-" });
  try {
    await Deno.writeTextFile(`${dir}/policy.yaml`, policy);
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", CONFIG, SERVER],
      cwd: dir,
      env: {
        PORT: "0",
        PARLEY_POLICY: `${dir}/policy.yaml`,
        PARLEY_DECISION_LOG: `${dir}/decisions.jsonl`,
        NO_COLOR: "1",
        ...SECRETS,
        ...env,
      },
      stdout: "null",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const files: string[] = [];
    for await (const entry of Deno.readDir(dir)) files.push(entry.name);
    return { code, stderr: new TextDecoder().decode(stderr), files };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const ROWS: {
  name: string;
  env: Record<string, string>;
  says: RegExp;
  /** A value that must not be echoed. */
  secret?: string;
}[] = [
  {
    name:
      "a KV Connect URL (denokv cannot keep limits exact nor serve many hosts)",
    env: { PARLEY_STORE: "https://kv.example/db" },
    says: /KV Connect URLs are not supported/,
  },
  {
    name: "a URL of another scheme",
    env: { PARLEY_STORE: "redis://cache:6379" },
    says: /unsupported URL scheme "redis"/,
  },
  {
    name: "an unreachable PostgreSQL, without repeating its password",
    env: {
      PARLEY_STORE: "postgres://parley:hunter2-secret@127.0.0.1:9/parley",
    },
    says: /postgres:\/\/127\.0\.0\.1:9\/parley/,
  },
  {
    name: "a session lifetime out of range",
    env: { PARLEY_SESSION_LIFETIME: "2d" },
    says: /PARLEY_SESSION_LIFETIME must be a duration from 1s to 24h/,
  },
  {
    name:
      "a session secret under 32 bytes (it would fail every boot with 503 store.unavailable)",
    env: { PARLEY_SESSION_SECRET: "short-s3cret" },
    says:
      /PARLEY_SESSION_SECRET must be at least 32 bytes, got 12: .*openssl rand/,
    secret: "short-s3cret",
  },
  {
    name: "a port that is not a number",
    env: { PORT: "abc" },
    says: /PORT must be a port number from 0 to 65535 .*got "abc"/,
  },
  {
    name: "a port out of range",
    env: { PORT: "70000" },
    says: /PORT must be a port number from 0 to 65535 .*got "70000"/,
  },
  {
    name: "a hostname that is no address",
    env: { HOSTNAME: "local host" },
    says: /HOSTNAME must be an address to listen on, .*got "local host"/,
  },
  {
    name: "a KV path whose directory does not exist (no store created there)",
    env: { PARLEY_STORE: "/nonexistent-parley-dir/kv.sqlite" },
    says:
      /PARLEY_STORE: the directory "\/nonexistent-parley-dir" does not exist, .*mkdir -p/,
  },
  {
    name: "the bare word memory (meant :memory:), with no file created",
    env: { PARLEY_STORE: "memory" },
    says:
      /PARLEY_STORE="memory" is neither ":memory:" nor a file path: write ":memory:"/,
  },
  {
    name: "the older PARLEY_KV, named in its own message",
    env: { PARLEY_KV: "kv" },
    says: /PARLEY_KV="kv" is neither ":memory:" nor a file path/,
  },
  {
    name: "a policy path that does not exist",
    env: { PARLEY_POLICY: "polcy.yaml" },
    says: /PARLEY_POLICY names "polcy\.yaml", which does not exist/,
  },
  {
    name: "a decision log in a directory that does not exist",
    env: { PARLEY_DECISION_LOG: "/nonexistent-parley-dir/decisions.jsonl" },
    says:
      /PARLEY_DECISION_LOG: the directory "\/nonexistent-parley-dir" does not exist/,
  },
];

for (const row of ROWS) {
  Deno.test(`the server refuses to start on ${row.name}`, async () => {
    const { code, stderr, files } = await startFailing(row.env);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /^parley: cannot start: /m);
    assert.match(stderr, row.says);
    assert.doesNotMatch(stderr, /^\s+at /m, "a stack trace");
    assert.doesNotMatch(stderr, /hunter2/, "the password");
    if (row.secret !== undefined) {
      assert.ok(!stderr.includes(row.secret), "the secret");
    }
    assert.deepEqual(
      files.filter((name) => !["policy.yaml", "decisions.jsonl"].includes(name))
        .sort(),
      [],
      "nothing created beside the policy",
    );
  });
}

Deno.test("every unusable setting is named at once, one line each", async () => {
  const { code, stderr } = await startFailing({
    PORT: "abc",
    PARLEY_SESSION_SECRET: "short",
    PARLEY_STORE: "memory",
  });
  assert.equal(code, 1, stderr);
  const lines = stderr.split("\n").filter((line) =>
    line.startsWith("parley: cannot start: ")
  );
  assert.deepEqual(
    lines.map((line) => /^parley: cannot start: ([A-Z_]+)/.exec(line)?.[1]),
    ["PORT", "PARLEY_STORE", "PARLEY_SESSION_SECRET"],
  );
});

Deno.test("a port in use: one line naming PORT and a free choice", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    const { code, stderr } = await startFailing({ PORT: String(port) });
    assert.equal(code, 1, stderr);
    const lines = stderr.split("\n").filter((line) => line.includes("cannot"));
    assert.equal(lines.length, 1, stderr);
    assert.match(
      lines[0]!,
      new RegExp(
        `^parley: cannot listen on 127\\.0\\.0\\.1:${port}: another process uses port ${port}: .*PORT=${
          port + 1
        }, or PORT=0`,
      ),
    );
  } finally {
    taken.close();
  }
});

Deno.test("a policy that does not compile: its warnings carry the warning: label, as policy check prints them", async () => {
  const { code, stderr } = await startFailing(
    {},
    `version: 1
organizations:
  acme:
    domain: { allow: [acme.com] }
    admin: { keys: [{ secret: "an-inline-admin-key-0123456789abcdef" }] }
`,
  );
  assert.equal(code, 1, stderr);
  assert.match(stderr, /^parley: the policy has errors, not starting:$/m);
  assert.match(stderr, /policy\.yaml:4:5 unknown-key Unknown key "domain"/);
  assert.match(stderr, /policy\.yaml:5:\d+ inline-secret warning: /);
  assert.ok(!stderr.includes("an-inline-admin-key"), "the secret");
});
