import assert from "node:assert/strict";
import { readServerSettings, ServerSettingsError } from "./server_settings.ts";

/** Reads settings from `env` in a fresh directory (with `.parley/` absent and a `data/` folder). */
async function settingsOf(env: Record<string, string>) {
  const cwd = await Deno.makeTempDir({ prefix: "parley-settings-" });
  await Deno.mkdir(`${cwd}/data`);
  try {
    return {
      cwd,
      result: await readServerSettings((name) => env[name], cwd).then(
        (settings) => ({ settings }),
        (error: unknown) => ({ error }),
      ),
    };
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
}

Deno.test("readServerSettings() defaults: port 8787 on 127.0.0.1, the built-in demo, .parley/kv.sqlite resolved, nothing configured", async () => {
  const { cwd, result } = await settingsOf({});
  assert.ok("settings" in result);
  assert.deepEqual(result.settings, {
    port: 8787,
    hostname: "127.0.0.1",
    policyPath: null,
    store: `${cwd}/.parley/kv.sqlite`,
    sessionSecret: null,
    sessionLifetimeMs: null,
    decisionLogPath: null,
    demoAdminKey: null,
  });
});

const ACCEPTED: [string, Record<string, string>, string, unknown][] = [
  ["PORT=0 picks a free port", { PORT: "0" }, "port", 0],
  ["HOSTNAME=0.0.0.0", { HOSTNAME: "0.0.0.0" }, "hostname", "0.0.0.0"],
  ["HOSTNAME=::", { HOSTNAME: "::" }, "hostname", "::"],
  [
    "a host name",
    { HOSTNAME: "parley.internal" },
    "hostname",
    "parley.internal",
  ],
  ["an empty variable counts as unset", { PORT: "" }, "port", 8787],
  ["PARLEY_STORE=:memory:", { PARLEY_STORE: ":memory:" }, "store", ":memory:"],
  [
    "a postgres URL is left to openStore",
    { PARLEY_STORE: "postgres://u:p@db:5432/parley" },
    "store",
    "postgres://u:p@db:5432/parley",
  ],
  [
    "the session lifetime",
    { PARLEY_SESSION_LIFETIME: "1h" },
    "sessionLifetimeMs",
    3_600_000,
  ],
];

for (const [name, env, key, value] of ACCEPTED) {
  Deno.test(`readServerSettings() accepts ${name}`, async () => {
    const { result } = await settingsOf(env);
    assert.ok(
      "settings" in result,
      String((result as { error?: unknown }).error),
    );
    assert.equal(result.settings[key as keyof typeof result.settings], value);
  });
}

Deno.test("readServerSettings() resolves a KV file in an existing directory, or beside the code with an extension", async () => {
  const inData = await settingsOf({ PARLEY_STORE: "data/kv.sqlite" });
  assert.ok("settings" in inData.result);
  assert.equal(inData.result.settings.store, `${inData.cwd}/data/kv.sqlite`);
  const here = await settingsOf({ PARLEY_KV: "kv.sqlite" });
  assert.ok("settings" in here.result);
  assert.equal(here.result.settings.store, `${here.cwd}/kv.sqlite`);
});

const REFUSED: [string, Record<string, string>, string][] = [
  ["PORT=abc", { PORT: "abc" }, "PORT"],
  ["PORT=-1", { PORT: "-1" }, "PORT"],
  ["PORT=65536", { PORT: "65536" }, "PORT"],
  ["PORT=80.5", { PORT: "80.5" }, "PORT"],
  ["HOSTNAME with a space", { HOSTNAME: "my host" }, "HOSTNAME"],
  ["HOSTNAME as a URL", { HOSTNAME: "http://127.0.0.1" }, "HOSTNAME"],
  [
    "a session secret of 31 bytes",
    { PARLEY_SESSION_SECRET: "x".repeat(31) },
    "PARLEY_SESSION_SECRET",
  ],
  [
    "a demo admin key of 8 bytes",
    { PARLEY_DEMO_ADMIN_KEY: "12345678" },
    "PARLEY_DEMO_ADMIN_KEY",
  ],
  [
    "the session lifetime 0s",
    { PARLEY_SESSION_LIFETIME: "0s" },
    "PARLEY_SESSION_LIFETIME",
  ],
  ["PARLEY_STORE=memory", { PARLEY_STORE: "memory" }, "PARLEY_STORE"],
  [
    "PARLEY_STORE=:memory (one colon)",
    { PARLEY_STORE: ":memory" },
    "PARLEY_STORE",
  ],
  ["PARLEY_KV=kv", { PARLEY_KV: "kv" }, "PARLEY_KV"],
  [
    "a KV file in a missing directory",
    { PARLEY_STORE: "nope/kv.sqlite" },
    "PARLEY_STORE",
  ],
  ["a KV path that is a directory", { PARLEY_STORE: "data" }, "PARLEY_STORE"],
  [
    "a policy that does not exist",
    { PARLEY_POLICY: "policy.yml" },
    "PARLEY_POLICY",
  ],
  ["a decision log in a missing directory", {
    PARLEY_DECISION_LOG: "logs/d.jsonl",
  }, "PARLEY_DECISION_LOG"],
];

for (const [name, env, variable] of REFUSED) {
  Deno.test(`readServerSettings() refuses ${name}, naming ${variable}`, async () => {
    const { result } = await settingsOf(env);
    assert.ok("error" in result);
    assert.ok(result.error instanceof ServerSettingsError);
    assert.equal(result.error.code, "settings-invalid");
    assert.deepEqual(
      result.error.problems.map((problem) => problem.variable),
      [variable],
    );
    assert.ok(result.error.problems[0]!.message.startsWith(variable));
  });
}

Deno.test("readServerSettings() never echoes a secret it refuses", async () => {
  const { result } = await settingsOf({ PARLEY_SESSION_SECRET: "tooShort!" });
  assert.ok("error" in result);
  assert.ok(!String((result.error as Error).message).includes("tooShort!"));
});
