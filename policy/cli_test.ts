import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { decodeProtectedHeader, jwtVerify } from "jose";

const ROOT = new URL("..", import.meta.url);
const SECRET = "n".repeat(40);
const PREVIOUS_SECRET = "p".repeat(44);
const MIGRATION_ENV = {
  ACME_CHAT_JWT_SECRET: SECRET,
  ACME_CHAT_JWT_SECRET_PREV: PREVIOUS_SECRET,
};

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI the way `deno task policy` does, with exactly `env` set. */
async function cli(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<Run> {
  // Keep what Deno needs to find its cache; nothing else leaks in.
  const passThrough: Record<string, string> = {};
  for (const name of ["HOME", "PATH", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) passThrough[name] = value;
  }
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", "policy/cli.ts", ...args],
    cwd: ROOT,
    clearEnv: true,
    env: { ...passThrough, NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** The `FILE:LINE:COL CODE` prefixes of the problem lines of an output. */
function problemLines(output: string): string[] {
  return output.split("\n")
    .map((line) => /^(\S+:\d+:\d+ [a-z-]+) /.exec(line)?.[1])
    .filter((line): line is string => line !== undefined);
}

async function withTempPolicy(
  text: string,
  test: (file: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "parley_cli_" });
  try {
    const file = `${dir}/policy.yaml`;
    await Deno.writeTextFile(file, text);
    await test(file);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("policy check passes every file directly in examples/ with no secrets set", async () => {
  const files: string[] = [];
  for await (const entry of Deno.readDir(new URL("examples/", ROOT))) {
    if (entry.isFile && /\.ya?ml$/.test(entry.name)) {
      files.push(`examples/${entry.name}`);
    }
  }
  ok(files.includes("examples/demo.policy.yaml"));
  const run = await cli(["check", ...files]);
  strictEqual(run.code, 0, run.stdout + run.stderr);
  ok(run.stdout.includes("http://localhost:8787"));
  deepStrictEqual(problemLines(run.stdout), []);
});

const MIGRATION_STEPS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ["examples/migration/1-legacy.yaml", []],
  ["examples/migration/2-domains.yaml", []],
  ["examples/migration/3-jwt-optional.yaml", ["ACME_CHAT_JWT_SECRET"]],
  ["examples/migration/4-jwt-required.yaml", [
    "ACME_CHAT_JWT_SECRET",
    "ACME_CHAT_JWT_SECRET_PREV",
  ]],
];

for (const [file, variables] of MIGRATION_STEPS) {
  Deno.test(`policy check passes ${file} with its secrets set`, async () => {
    const run = await cli(["check", file], MIGRATION_ENV);
    strictEqual(run.code, 0, run.stdout + run.stderr);
    deepStrictEqual(problemLines(run.stdout), []);
  });

  Deno.test(`policy check of ${file} without secrets names ${variables.length} missing variables`, async () => {
    const run = await cli(["check", file]);
    strictEqual(run.code, variables.length === 0 ? 0 : 1);
    const lines = problemLines(run.stdout);
    strictEqual(lines.length, variables.length);
    for (const line of lines) {
      ok(line.startsWith(`${file}:`) && line.endsWith(" env-missing"));
    }
    for (const variable of variables) ok(run.stdout.includes(`"${variable}"`));
  });
}

const BROKEN = `version: 1
organizations:
  acme:
    domains:
      mode: enforce
      allow: ["*.com", "shop.acme.com/path"]
    jwt:
      mode: required
      keys:
        - id: a
          secret: { env: MISSING_SECRET }
        - id: a
          secret: tooshortsecret
    widget: { colour: "#fff" }
`;

Deno.test("policy check prints every problem as FILE:LINE:COL CODE and exits 1", async () => {
  await withTempPolicy(BROKEN, async (file) => {
    const run = await cli(["check", file]);
    strictEqual(run.code, 1);
    deepStrictEqual(problemLines(run.stdout), [
      `${file}:6:15 wildcard-public-suffix`,
      `${file}:6:24 bad-domain-pattern`,
      `${file}:11:26 env-missing`,
      `${file}:12:15 duplicate-key-id`,
      `${file}:13:19 inline-secret`,
      `${file}:13:19 secret-too-short`,
      `${file}:14:15 unknown-key`,
    ]);
    ok(!run.stdout.includes("tooshortsecret"));
  });
});

Deno.test("policy check --json reports machine-readable problems", async () => {
  await withTempPolicy(BROKEN, async (file) => {
    const run = await cli([
      "check",
      "--json",
      file,
      "examples/demo.policy.yaml",
    ]);
    strictEqual(run.code, 1);
    const report = JSON.parse(run.stdout);
    strictEqual(report.ok, false);
    strictEqual(report.files[0].ok, false);
    deepStrictEqual(
      report.files[0].problems.map((problem: { code: string }) => problem.code),
      [
        "wildcard-public-suffix",
        "bad-domain-pattern",
        "env-missing",
        "duplicate-key-id",
        "inline-secret",
        "secret-too-short",
        "unknown-key",
      ],
    );
    strictEqual(report.files[1].ok, true);
    deepStrictEqual(report.files[1].organizations[0].domains, {
      mode: "enforce",
      allow: ["http://localhost:8787", "http://127.0.0.1:8787"],
    });
  });
});

const USAGE_ERRORS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ["no command", []],
  ["unknown command", ["lint", "examples/demo.policy.yaml"]],
  ["check without files", ["check"]],
  ["unknown option", ["check", "--bogus", "examples/demo.policy.yaml"]],
  ["missing file", ["check", "does/not/exist.yaml"]],
  ["directory instead of file", ["check", "examples"]],
  ["explain without --org", ["explain", "examples/demo.policy.yaml"]],
  ["explain of a missing file", [
    "explain",
    "nope.yaml",
    "--org",
    "demo",
  ]],
  ["token with a bad origin", [
    "token",
    "examples/migration/3-jwt-optional.yaml",
    "--org",
    "acme",
    "--sub",
    "u",
    "--origin",
    "https://acme.com/path",
  ]],
  ["token with bad user data", [
    "token",
    "examples/migration/3-jwt-optional.yaml",
    "--org",
    "acme",
    "--sub",
    "u",
    "--origin",
    "https://acme.com",
    "--user-data",
    "[1]",
  ]],
];

for (const [name, args] of USAGE_ERRORS) {
  Deno.test(`policy CLI exits 2 without a stack trace on ${name}`, async () => {
    const run = await cli(args, MIGRATION_ENV);
    strictEqual(run.code, 2);
    ok(run.stderr.trim().length > 0);
    ok(!/^\s+at /m.test(run.stderr), run.stderr);
  });
}

Deno.test("policy token mints an HS256 token that verifies with the first active key", async () => {
  const run = await cli([
    "token",
    "examples/migration/4-jwt-required.yaml",
    "--org",
    "acme",
    "--sub",
    "user_123",
    "--origin",
    "https://Shop.Acme.com:443",
    "--ttl",
    "5m",
    "--user-data",
    '{"name":"Ada"}',
  ], MIGRATION_ENV);
  strictEqual(run.code, 0, run.stderr);
  const token = run.stdout.trim();
  deepStrictEqual(decodeProtectedHeader(token), {
    alg: "HS256",
    typ: "JWT",
    kid: "2027-02",
  });
  const { payload } = await jwtVerify(token, new TextEncoder().encode(SECRET), {
    algorithms: ["HS256"],
    audience: "chat-widget",
    issuer: "https://shop.acme.com",
    subject: "user_123",
  });
  strictEqual(payload.org_id, "acme");
  deepStrictEqual(payload.user_data, { name: "Ada" });
  strictEqual((payload.exp ?? 0) - (payload.iat ?? 0), 300);
});

Deno.test("policy token --kid signs with the named key", async () => {
  const run = await cli([
    "token",
    "examples/migration/4-jwt-required.yaml",
    "--org=acme",
    "--sub=u",
    "--origin=http://localhost:3000",
    "--kid=2026-11",
  ], MIGRATION_ENV);
  strictEqual(run.code, 0, run.stderr);
  const token = run.stdout.trim();
  strictEqual(decodeProtectedHeader(token).kid, "2026-11");
  await jwtVerify(token, new TextEncoder().encode(PREVIOUS_SECRET), {
    issuer: "http://localhost:3000",
  });
});

Deno.test("policy token exits 1 for an organization without keys", async () => {
  const run = await cli([
    "token",
    "examples/demo.policy.yaml",
    "--org",
    "demo",
    "--sub",
    "u",
    "--origin",
    "http://localhost:8787",
  ]);
  strictEqual(run.code, 1);
  strictEqual(run.stdout, "");
});

Deno.test("policy explain shows a verified token's decision and trace", async () => {
  const minted = await cli([
    "token",
    "examples/migration/4-jwt-required.yaml",
    "--org",
    "acme",
    "--sub",
    "user_123",
    "--origin",
    "https://shop.acme.com",
  ], MIGRATION_ENV);
  strictEqual(minted.code, 0, minted.stderr);
  const run = await cli([
    "explain",
    "examples/migration/4-jwt-required.yaml",
    "--org",
    "acme",
    "--origin",
    "https://shop.acme.com",
    "--token",
    minted.stdout.trim(),
    "--user-id",
    "user_123",
    "--json",
  ], MIGRATION_ENV);
  strictEqual(run.code, 0, run.stderr);
  const explanation = JSON.parse(run.stdout);
  strictEqual(explanation.allowed, true);
  strictEqual(explanation.identity.verified, true);
  strictEqual(explanation.identity.subject, "user_123");
  strictEqual(explanation.rule, "*.acme.com");
  ok(explanation.trace.length > 0);
  ok(!run.stdout.includes(SECRET));
});

const EXPLAIN_REFUSALS: ReadonlyArray<
  readonly [string, readonly string[], string]
> = [
  ["an origin not on the list", [
    "--org",
    "acme",
    "--origin",
    "https://evil.example",
  ], "DOMAIN_NOT_ALLOWED"],
  ["a missing token under required", [
    "--org",
    "acme",
    "--origin",
    "https://acme.com",
  ], "JWT_REQUIRED"],
  ["a forged token", [
    "--org",
    "acme",
    "--origin",
    "https://acme.com",
    "--token",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.AAAA",
  ], "JWT_INVALID"],
  ["an unknown organization", [
    "--org",
    "globex",
    "--origin",
    "https://acme.com",
  ], "ORGANIZATION_NOT_FOUND"],
];

for (const [name, args, code] of EXPLAIN_REFUSALS) {
  Deno.test(`policy explain refuses ${name} with ${code} and exits 1`, async () => {
    const run = await cli([
      "explain",
      "examples/migration/4-jwt-required.yaml",
      ...args,
    ], MIGRATION_ENV);
    strictEqual(run.code, 1, run.stderr);
    const verdict = run.stdout.split("\n")[0] ?? "";
    ok(verdict.startsWith(`REFUSED ${code} `), verdict);
  });
}

Deno.test("policy explain exits 1 with problems when the policy does not compile", async () => {
  const run = await cli([
    "explain",
    "examples/migration/4-jwt-required.yaml",
    "--org",
    "acme",
    "--origin",
    "https://acme.com",
  ]);
  strictEqual(run.code, 1);
  deepStrictEqual(problemLines(run.stderr), [
    "examples/migration/4-jwt-required.yaml:30:26 env-missing",
    "examples/migration/4-jwt-required.yaml:32:26 env-missing",
  ]);
});
