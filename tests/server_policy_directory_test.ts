/**
 * A policy directory against the real server process: one file per
 * organization, each reloaded and kept-last-good on its own; `_parley.yaml`
 * for the defaults and server settings; `/healthz` naming every failing file;
 * per-file reload metrics; a broken organization file at start skipped, a
 * broken `_parley.yaml` at start fatal.
 */

import assert from "node:assert/strict";
import { startServer, waitFor } from "./server_process.ts";

const SECRETS = {
  ACME_JWT_SECRET: "acme-dir-jwt-secret-0123456789abcdef012345",
  BETA_ADMIN_KEY: "beta-dir-admin-key-0123456789abcdef0123456",
};

const SETTINGS = `version: 1
defaults:
  limits: { organization: 1000/minute, ip: 1000/minute }
server:
  maxBodyBytes: 1024
secrets: { acme: [ACME_*], beta: [BETA_*] }
`;

const ACME = `version: 1
name: Acme Inc.
domains:
  allow: [acme.com]
jwt:
  mode: optional
  keys: [{ id: "2026-11", secret: { env: ACME_JWT_SECRET } }]
`;

const BETA = `version: 1
domains:
  allow: [beta.example]
admin:
  keys: [{ id: ada, name: Ada, secret: { env: BETA_ADMIN_KEY } }]
`;

const GAMMA = `version: 1
domains: { mode: "off" }
`;

async function health(baseUrl: string) {
  const response = await fetch(`${baseUrl}/healthz`);
  return { status: response.status, text: await response.text() };
}

async function healthBody(baseUrl: string) {
  return JSON.parse((await health(baseUrl)).text);
}

async function failingFiles(baseUrl: string): Promise<string[]> {
  const body = await healthBody(baseUrl);
  return body.policyErrors.map((error: { file: string }) => error.file);
}

Deno.test("a policy directory serves one organization per file and reloads each on its own", async (t) => {
  await using server = await startServer({
    policyFiles: {
      "_parley.yaml": SETTINGS,
      "acme.yaml": ACME,
      "beta.yaml": BETA,
      "acme.test.yaml": "cases: []\n",
      "README.md": "not a policy\n",
    },
    env: SECRETS,
  });
  const boot = (organizationId: string, origin: string) =>
    server.rpc("chat.boot", { organizationId }, { origin });

  await t.step(
    "every organization file is served, its id from the name",
    async () => {
      const first = await healthBody(server.baseUrl);
      assert.deepEqual(first.policyErrors, []);
      assert.equal(first.lastReloadError, null);
      assert.equal((await boot("acme", "https://acme.com")).status, 200);
      assert.equal((await boot("beta", "https://beta.example")).status, 200);
      const notAnOrganization = await boot("acme.test", "https://acme.com");
      assert.equal(notAnOrganization.status, 404);
      assert.equal(notAnOrganization.body.error.code, "ORGANIZATION_NOT_FOUND");
    },
  );

  await t.step(
    "a broken beta.yaml keeps beta's last good version while acme's edit takes effect",
    async () => {
      await Deno.writeTextFile(
        `${server.policyPath}/beta.yaml`,
        BETA.replace("domains:", "domains:\n  mode: strict"),
      );
      await Deno.writeTextFile(
        `${server.policyPath}/acme.yaml`,
        ACME.replace("[acme.com]", '[acme.com, "*.acme.com"]'),
      );
      await waitFor(async () =>
        (await failingFiles(server.baseUrl)).includes("beta.yaml") &&
        (await boot("acme", "https://shop.acme.com")).status === 200
      );
      const beta = await boot("beta", "https://beta.example");
      assert.equal(beta.status, 200, "beta still serves its last good version");
      const body = await healthBody(server.baseUrl);
      assert.deepEqual(body.policyErrors, [{
        file: "beta.yaml",
        line: 3,
        column: 9,
        code: "bad-enum",
      }]);
      assert.match(body.lastReloadError, /beta\.yaml:3:9/);
      const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
      assert.match(
        metrics,
        /parley_policy_reloads_total\{file="beta\.yaml",result="error"\} [1-9]/,
      );
      assert.match(
        metrics,
        /parley_policy_reloads_total\{file="acme\.yaml",result="ok"\} [1-9]/,
      );
      assert.match(server.stderr(), /policy\.d\/beta\.yaml:3:9 bad-enum/);
    },
  );

  await t.step(
    "a new file adds an organization and a deleted file removes one",
    async () => {
      await Deno.writeTextFile(`${server.policyPath}/gamma.yaml`, GAMMA);
      await waitFor(async () =>
        (await boot("gamma", "https://anywhere.example")).status === 200
      );
      await Deno.remove(`${server.policyPath}/acme.yaml`);
      await waitFor(async () =>
        (await boot("acme", "https://acme.com")).status === 404
      );
      const gone = await boot("acme", "https://acme.com");
      assert.equal(gone.body.error.code, "ORGANIZATION_NOT_FOUND");
      assert.equal(
        (await boot("gamma", "https://anywhere.example")).status,
        200,
      );
    },
  );

  await t.step(
    "a broken _parley.yaml keeps the last good server settings",
    async () => {
      const large = { organizationId: "gamma", padding: "x".repeat(2_000) };
      const before = await server.rpc("chat.getConfig", large);
      assert.equal(before.status, 413, "maxBodyBytes 1024 is in force");
      await Deno.writeTextFile(
        `${server.policyPath}/_parley.yaml`,
        "version: 1\nserver:\n  maxBodyBytes: 65536\norganizations: {}\n",
      );
      await waitFor(async () =>
        (await failingFiles(server.baseUrl)).includes("_parley.yaml")
      );
      const after = await server.rpc("chat.getConfig", large);
      assert.equal(after.status, 413, "the broken settings are not in force");
      const errors = (await healthBody(server.baseUrl)).policyErrors;
      assert.deepEqual(
        errors.map((error: { file: string; code: string; line: number }) => [
          error.file,
          error.code,
          error.line,
        ]),
        [["_parley.yaml", "foreign-organization", 4], [
          "beta.yaml",
          "bad-enum",
          3,
        ]],
      );
    },
  );

  await t.step("fixing the files clears their errors", async () => {
    await Deno.writeTextFile(`${server.policyPath}/beta.yaml`, BETA);
    await Deno.writeTextFile(`${server.policyPath}/_parley.yaml`, SETTINGS);
    await waitFor(async () =>
      (await failingFiles(server.baseUrl)).length === 0
    );
    assert.equal((await healthBody(server.baseUrl)).lastReloadError, null);
  });

  await t.step("no secret reaches /healthz, /metrics or the log", async () => {
    const text = (await health(server.baseUrl)).text +
      await (await fetch(`${server.baseUrl}/metrics`)).text() +
      server.stderr();
    for (const secret of Object.values(SECRETS)) {
      assert.ok(!text.includes(secret));
    }
  });
});

Deno.test("SIGHUP rescans the directory and reads the changes the file watcher cannot see", async () => {
  await using server = await startServer({
    policyFiles: { "gamma.yaml": GAMMA },
  });
  {
    // A subdirectory is not watched, and links into it are followed (out of
    // the policy directory, they are not: see the symlink-outside test).
    const elsewhere = `${server.policyPath}/shared`;
    await Deno.mkdir(elsewhere);
    const acme = () =>
      server.rpc("chat.boot", { organizationId: "acme" }, {
        origin: "https://elsewhere.example",
      });
    // Deno's directory watcher reports neither a new symlink nor an edit of
    // its target elsewhere: SIGHUP brings them in.
    await Deno.writeTextFile(`${elsewhere}/acme.yaml`, GAMMA);
    await Deno.symlink(
      `${elsewhere}/acme.yaml`,
      `${server.policyPath}/acme.yaml`,
    );
    Deno.kill(server.pid, "SIGHUP");
    await waitFor(async () => (await acme()).status === 200);

    await Deno.writeTextFile(
      `${elsewhere}/acme.yaml`,
      "version: 1\ndomains: { allow: [acme.com] }\n",
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await acme()).status, 200, "the edit was not seen");
    Deno.kill(server.pid, "SIGHUP");
    await waitFor(async () => (await acme()).status === 403);
    assert.equal((await acme()).body.error.code, "DOMAIN_NOT_ALLOWED");
    assert.doesNotMatch(
      server.stderr(),
      /reloaded \S+\/gamma\.yaml/,
      "a rescan reads only the files whose time or size changed",
    );
  }
});

Deno.test("a broken organization file at start is skipped and named in /healthz, the others are served", async () => {
  await using server = await startServer({
    policyFiles: {
      "_parley.yaml": SETTINGS,
      "acme.yaml": ACME,
      "beta.yaml": "version: 1\ndomains: [beta.example]\n",
    },
    env: SECRETS,
  });
  const body = await healthBody(server.baseUrl);
  assert.equal(body.status, "ok");
  assert.deepEqual(
    body.policyErrors.map((error: { file: string; code: string }) => [
      error.file,
      error.code,
    ]),
    [["beta.yaml", "wrong-type"]],
  );
  assert.equal(
    (await server.rpc("chat.boot", { organizationId: "acme" }, {
      origin: "https://acme.com",
    })).status,
    200,
  );
  const beta = await server.rpc("chat.boot", { organizationId: "beta" }, {
    origin: "https://beta.example",
  });
  assert.equal(beta.status, 404);
  assert.equal(beta.body.error.code, "ORGANIZATION_NOT_FOUND");
  assert.match(server.stderr(), /policy\.d\/beta\.yaml:2:10 wrong-type/);
});

Deno.test("a broken _parley.yaml at start stops the server with every problem named", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-test-" });
  try {
    await Deno.mkdir(`${dir}/policy.d`);
    await Deno.writeTextFile(
      `${dir}/policy.d/_parley.yaml`,
      "version: 1\nsevrer: {}\ndefaults: { limits: { ip: lots } }\n",
    );
    await Deno.writeTextFile(`${dir}/policy.d/gamma.yaml`, GAMMA);
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../server.ts", import.meta.url).pathname],
      env: {
        PORT: "0",
        PARLEY_POLICY: `${dir}/policy.d`,
        PARLEY_KV: `${dir}/kv.sqlite`,
        NO_COLOR: "1",
      },
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 1, stderr);
    assert.match(stderr, /policy\.d\/_parley\.yaml:2:1 unknown-key/);
    assert.match(stderr, /policy\.d\/_parley\.yaml:3:\d+ bad-rate/);
    assert.doesNotMatch(stderr, /listening on/);
    assert.doesNotMatch(stderr, /at .*\.ts:\d+/, "no stack trace");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
