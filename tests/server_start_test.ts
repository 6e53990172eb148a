/**
 * A server that cannot start says why in one line and exits 1: a store it
 * cannot use, a session setting out of range. Never a stack trace, never a
 * password.
 */

import assert from "node:assert/strict";
import { SECRETS, testPolicy } from "./test_policy.ts";

const SERVER = new URL("../server.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

async function startFailing(
  env: Record<string, string>,
): Promise<{ code: number; stderr: string }> {
  const dir = await Deno.makeTempDir({ prefix: "parley-start-" });
  try {
    await Deno.writeTextFile(`${dir}/policy.yaml`, testPolicy());
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
    return { code, stderr: new TextDecoder().decode(stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const ROWS: { name: string; env: Record<string, string>; says: RegExp }[] = [
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
];

for (const row of ROWS) {
  Deno.test(`the server refuses to start on ${row.name}`, async () => {
    const { code, stderr } = await startFailing(row.env);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /^parley: cannot start: /m);
    assert.match(stderr, row.says);
    assert.doesNotMatch(stderr, /^\s+at /m, "a stack trace");
    assert.doesNotMatch(stderr, /hunter2/, "the password");
  });
}
