/**
 * `deno task policy report` against the real server process: the report in
 * words and as JSON with the key from `PARLEY_ADMIN_KEY`, and clear exits
 * for a missing key, a refused key, an unknown organization, an unreachable
 * server and something that is not a Parley server.
 */

import assert from "node:assert/strict";
import { type Run, runDeno } from "./cli_process.ts";
import { reportLines } from "../cli/report.ts";
import { signWithJsonwebtoken } from "./jsonwebtoken_minter.ts";
import { startServer } from "./server_process.ts";

const SHOP_SECRET = "cli-report-shop-secret-0123456789abcdef01";
const ADMIN_KEY = "cli-report-admin-key-0123456789abcdef0123";
const SHOP = "https://shop.example";

const POLICY = `version: 1
organizations:
  shop:
    domains: { mode: report, allow: [shop.example] }
    jwt:
      mode: optional
      keys: [{ id: k1, secret: { env: SHOP_SECRET } }]
    admin:
      keys: [{ secret: { env: SHOP_ADMIN_KEY } }]
`;

/** Runs `deno task policy …` as an admin would, with exactly `env` set. */
function task(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<Run> {
  return runDeno(["task", "-q", "policy", ...args], env);
}

async function shopServer() {
  const server = await startServer({
    policy: POLICY,
    env: { SHOP_SECRET, SHOP_ADMIN_KEY: ADMIN_KEY },
  });
  const now = Math.floor(Date.now() / 1000);
  const token = signWithJsonwebtoken(
    {
      iss: SHOP,
      aud: "chat-widget",
      sub: "u1",
      exp: now + 300,
      org_id: "shop",
    },
    SHOP_SECRET,
    { keyid: "k1" },
  );
  for (
    const [origin, bearer] of [
      [SHOP, token],
      [SHOP, undefined],
      ["https://elsewhere.example", undefined],
      [SHOP, "not-a-jwt"],
    ] as const
  ) {
    await server.rpc("chat.boot", { organizationId: "shop" }, {
      origin,
      ...(bearer === undefined ? {} : { token: bearer }),
    });
  }
  return server;
}

Deno.test("policy report prints the report as JSON and in words, with the admin key from PARLEY_ADMIN_KEY", async () => {
  await using server = await shopServer();
  const json = await task(
    ["report", "--url", server.baseUrl, "--org", "shop", "--json"],
    { PARLEY_ADMIN_KEY: ADMIN_KEY },
  );
  assert.equal(json.code, 0, json.stderr);
  const printed = JSON.parse(json.stdout);
  const direct = (await server.rpc("agent.securityReport", {
    organizationId: "shop",
  }, { token: ADMIN_KEY })).body.data;
  assert.deepEqual({ ...printed, to: undefined }, { ...direct, to: undefined });
  assert.deepEqual(printed.boots, {
    total: 4,
    verified: 1,
    absent: 2,
    invalid: 1,
    admitted: 3,
  });

  const words = await task(
    [
      "report",
      "--url",
      `${server.baseUrl}/`,
      "--org",
      "shop",
      "--hours",
      "168",
    ],
    { PARLEY_ADMIN_KEY: ADMIN_KEY },
  );
  assert.equal(words.code, 0, words.stderr);
  const week = (await server.rpc("agent.securityReport", {
    organizationId: "shop",
    hours: 168,
  }, { token: ADMIN_KEY })).body.data;
  const expected = reportLines(week, Date.now()).slice(1);
  assert.deepEqual(words.stdout.trimEnd().split("\n").slice(1), expected);
  assert.ok(
    !words.stdout.includes(ADMIN_KEY) && !words.stderr.includes(ADMIN_KEY),
  );
});

Deno.test("policy report exits 2 without PARLEY_ADMIN_KEY, and takes no key flag", async () => {
  await using server = await shopServer();
  const args = ["report", "--url", server.baseUrl, "--org", "shop"];
  for (const env of [{}, { PARLEY_ADMIN_KEY: "  " }]) {
    const run = await task(args, env);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /PARLEY_ADMIN_KEY/);
  }
  const flagged = await task([...args, "--key", ADMIN_KEY]);
  assert.equal(flagged.code, 2);
  assert.ok(!flagged.stdout.includes("boots"));
});

Deno.test("policy report exits 1 when the server refuses the key or knows no such organization", async () => {
  await using server = await shopServer();
  const wrong = await task(
    ["report", "--url", server.baseUrl, "--org", "shop"],
    { PARLEY_ADMIN_KEY: "not-the-admin-key-0123456789abcdef01234" },
  );
  assert.equal(wrong.code, 1);
  assert.equal(wrong.stdout, "");
  assert.match(wrong.stderr, /SESSION_INVALID agent\.key_invalid/);
  assert.ok(!wrong.stderr.includes("not-the-admin-key"), "the key is echoed");
  const unknown = await task(
    ["report", "--url", server.baseUrl, "--org", "nope"],
    { PARLEY_ADMIN_KEY: ADMIN_KEY },
  );
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /ORGANIZATION_NOT_FOUND/);
});

Deno.test("policy report exits 2 for an unreachable server, something that is not Parley, and bad options", async () => {
  // A port that was just free: nothing listens on it.
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = (probe.addr as Deno.NetAddr).port;
  probe.close();
  await using notParley = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("<h1>Not found</h1>", { status: 404 }),
  );
  const env = { PARLEY_ADMIN_KEY: ADMIN_KEY };
  const rows: [string, string[]][] = [
    ["nothing listening", [
      "--url",
      `http://127.0.0.1:${closedPort}`,
      "--org",
      "shop",
    ]],
    ["not a Parley server", [
      "--url",
      `http://127.0.0.1:${notParley.addr.port}`,
      "--org",
      "shop",
    ]],
    ["no --url", ["--org", "shop"]],
    ["no --org", ["--url", "http://127.0.0.1:1"]],
    ["a URL that is not http", ["--url", "ftp://127.0.0.1/", "--org", "shop"]],
    ["hours 0", [
      "--url",
      "http://127.0.0.1:1",
      "--org",
      "shop",
      "--hours",
      "0",
    ]],
    ["hours 169", [
      "--url",
      "http://127.0.0.1:1",
      "--org",
      "shop",
      "--hours",
      "169",
    ]],
    ["hours 1.5", [
      "--url",
      "http://127.0.0.1:1",
      "--org",
      "shop",
      "--hours",
      "1.5",
    ]],
  ];
  for (const [name, args] of rows) {
    const run = await task(["report", ...args], env);
    assert.equal(run.code, 2, `${name}: ${run.stderr}`);
    assert.equal(run.stdout, "", name);
    assert.ok(!run.stderr.includes("    at "), `${name}: a stack trace`);
  }
});

Deno.test("deno task policy still runs the policy commands through its new entry", async () => {
  const check = await task(["check", "examples/demo.policy.yaml"]);
  assert.equal(check.code, 0, check.stderr);
  const broken = await task(["check", "no/such/policy.yaml"]);
  assert.equal(broken.code, 2);
});
