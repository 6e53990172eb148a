import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { type Run, runDeno } from "../tests/cli_process.ts";
import { PRIVATE_WEBHOOK_URLS } from "../tests/private_webhook_urls.ts";
import { decodeProtectedHeader, jwtVerify } from "jose";

const ROOT = new URL("..", import.meta.url);
const SECRET = "n".repeat(40);
const PREVIOUS_SECRET = "p".repeat(44);
const MIGRATION_ENV = {
  ACME_CHAT_JWT_SECRET: SECRET,
  ACME_CHAT_JWT_SECRET_PREV: PREVIOUS_SECRET,
};

/** Runs the CLI the way `deno task policy` does, with exactly `env` set. */
function cli(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<Run> {
  return runDeno(
    ["run", "--allow-read", "--allow-env", "cli/main.ts", ...args],
    env,
  );
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
  ["test of a policy without tests", ["test", "examples/demo.policy.yaml"]],
  ["test of a test file without its policy", ["test", "nope.test.yaml"]],
  ["explain of two policies", [
    "explain",
    "examples/demo.policy.yaml",
    "examples/policy.d",
    "--org",
    "demo",
  ]],
  ["secret with a key id that is no id", ["secret", "--id", "not an id"]],
  ["secret with a variable name that is none", ["secret", "--env", "1X"]],
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

/** Writes files into a temp directory `policy.d` and runs `test` with its path. */
async function withTempDirectory(
  files: Record<string, string>,
  test: (dir: string) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "parley_cli_dir_" });
  const dir = `${root}/policy.d`;
  try {
    await Deno.mkdir(dir);
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    await test(dir);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

const BROKEN_DIRECTORY = {
  "_parley.yaml": "version: 1\ndefaults:\n  limits: { ip: 5/minute }\n",
  "acme.yaml": 'version: 1\ndomains:\n  mode: strict\n  allow: ["*.com"]\n',
  "beta.yaml": "version: 1\norganizations: {}\n",
  "gamma.yaml": "version: 1\ndomains: { mode: off }\n",
  "_notes.yaml": "version: 1\n",
  "gamma.test.yaml": "cases: oops\n",
  "README.md": "Not a policy\n",
};

Deno.test("policy check DIR reports every problem of every file, each naming its own file", async () => {
  await withTempDirectory(BROKEN_DIRECTORY, async (dir) => {
    const run = await cli(["check", dir]);
    strictEqual(run.code, 1);
    deepStrictEqual(problemLines(run.stdout), [
      `${dir}/_notes.yaml:1:1 reserved-file-name`,
      `${dir}/acme.yaml:3:9 bad-enum`,
      `${dir}/acme.yaml:4:11 wildcard-public-suffix`,
      `${dir}/beta.yaml:1:1 no-domains`,
      `${dir}/beta.yaml:2:1 foreign-organization`,
    ]);
    ok(run.stdout.includes(`${dir}: 4 errors in 3 files, 1 warning`));
  });
});

Deno.test("policy check --json DIR reports one entry per file", async () => {
  await withTempDirectory(BROKEN_DIRECTORY, async (dir) => {
    const run = await cli(["check", "--json", dir]);
    strictEqual(run.code, 1);
    const report = JSON.parse(run.stdout);
    strictEqual(report.ok, false);
    deepStrictEqual(
      report.files.map((file: { file: string; ok: boolean }) => [
        file.file,
        file.ok,
      ]),
      [
        [`${dir}/_notes.yaml`, false],
        [`${dir}/_parley.yaml`, true],
        [`${dir}/acme.yaml`, false],
        [`${dir}/beta.yaml`, false],
        [`${dir}/gamma.yaml`, true],
      ],
    );
    strictEqual(report.files[4].organizations[0].id, "gamma");
    strictEqual(report.files[4].organizations[0].limits.ip, "5/minute");
  });
});

Deno.test("policy check refuses every private webhook address with webhook-private-address at FILE:LINE:COL", async () => {
  const organizations = PRIVATE_WEBHOOK_URLS.map(([url], index) =>
    [
      `  org${index}:`,
      "    domains: { mode: off }",
      `    webhook: { url: "${url}", secret: { env: HOOK_SECRET } }`,
    ].join("\n")
  );
  const text = `version: 1\norganizations:\n${organizations.join("\n")}\n`;
  await withTempPolicy(text, async (file) => {
    const run = await cli(["check", file], { HOOK_SECRET: "h".repeat(40) });
    strictEqual(run.code, 1);
    deepStrictEqual(
      problemLines(run.stdout),
      PRIVATE_WEBHOOK_URLS.map((_, index) =>
        `${file}:${5 + index * 3}:21 webhook-private-address`
      ),
    );
  });
});

Deno.test("policy check DIR lets _parley.yaml's allowWebhookHosts use http and loopback, and refuses the rest", async () => {
  const hook = (id: string, url: string) =>
    `version: 1\ndomains: { mode: off }\nwebhook: { url: "${url}", secret: { env: ${id.toUpperCase()}_HOOK } }\n`;
  const ids = ["acme", "beta", "gamma", "delta"];
  await withTempDirectory({
    "_parley.yaml": `version: 1\nsecrets: { ${
      ids.map((id) => `${id}: [${id.toUpperCase()}_HOOK]`).join(", ")
    } }\nserver:\n  allowWebhookHosts: [127.0.0.1]\n`,
    "acme.yaml": hook("acme", "http://127.0.0.1:8080/hook"),
    "beta.yaml": hook("beta", "http://localhost:8080/hook"),
    "gamma.yaml": hook("gamma", "http://hooks.gamma.example/hook"),
    "delta.yaml": hook("delta", "https://hooks.delta.example/hook"),
  }, async (dir) => {
    const run = await cli(
      ["check", dir],
      Object.fromEntries(
        ids.map((id) => [`${id.toUpperCase()}_HOOK`, "h".repeat(40)]),
      ),
    );
    strictEqual(run.code, 1);
    deepStrictEqual(problemLines(run.stdout), [
      `${dir}/beta.yaml:3:17 webhook-private-address`,
      `${dir}/gamma.yaml:3:17 webhook-not-https`,
    ]);
  });
});

const DIRECTORY_ENV = {
  ACME_CHAT_JWT_SECRET_2026_12: "a".repeat(40),
  ACME_CHAT_JWT_SECRET_2026_08: "b".repeat(40),
  ACME_KEY_ADA: "c".repeat(40),
  ACME_KEY_GRACE: "d".repeat(40),
  GLOBEX_CHAT_JWT_SECRET: "e".repeat(40),
};

Deno.test("policy check passes examples/policy.d with its secrets set", async () => {
  const run = await cli(["check", "examples/policy.d"], DIRECTORY_ENV);
  strictEqual(run.code, 0, run.stdout + run.stderr);
  deepStrictEqual(problemLines(run.stdout), []);
  ok(run.stdout.startsWith("examples/policy.d: ok, 2 organizations"));
});

Deno.test("policy check of examples/policy.d without secrets names each missing variable in its file", async () => {
  const run = await cli(["check", "examples/policy.d"]);
  strictEqual(run.code, 1);
  const lines = problemLines(run.stdout);
  strictEqual(lines.length, 5);
  strictEqual(
    lines.filter((line) => line.startsWith("examples/policy.d/acme.yaml:"))
      .length,
    4,
  );
  ok(lines.every((line) => line.endsWith(" env-missing")));
});

Deno.test("policy check DIR refuses a file naming a variable not assigned to its organization, and a file over 1 MiB", async () => {
  await withTempDirectory({
    "_parley.yaml": "version: 1\nsecrets: { acme: [ACME_*] }\n",
    "acme.yaml":
      "version: 1\ndomains: { mode: off }\nadmin: { keys: [{ secret: { env: ACME_KEY } }] }\n",
    "beta.yaml":
      "version: 1\ndomains: { mode: off }\nadmin: { keys: [{ secret: { env: ACME_KEY } }] }\n",
    "gamma.yaml": `version: 1\n# ${"x".repeat(1_048_576)}\n`,
  }, async (dir) => {
    const run = await cli(["check", dir], { ACME_KEY: "k".repeat(40) });
    strictEqual(run.code, 1);
    deepStrictEqual(problemLines(run.stdout), [
      `${dir}/beta.yaml:3:34 secret-not-assigned`,
      `${dir}/gamma.yaml:1:1 file-too-large`,
    ]);
    ok(
      run.stdout.includes(
        'In _parley.yaml under "secrets:", write "  beta: [ACME_KEY]"',
      ),
      run.stdout,
    );
  });
});

Deno.test("policy explain DIR reads only the organization's file and _parley.yaml", async () => {
  await withTempDirectory(BROKEN_DIRECTORY, async (dir) => {
    const run = await cli([
      "explain",
      dir,
      "--org",
      "gamma",
      "--origin",
      "https://anywhere.example",
    ]);
    strictEqual(run.code, 0, run.stdout + run.stderr);
    ok(run.stdout.startsWith("ALLOWED jwt.off"));
    const broken = await cli(["explain", dir, "--org", "acme"]);
    strictEqual(broken.code, 1);
    deepStrictEqual(problemLines(broken.stderr), [
      `${dir}/acme.yaml:3:9 bad-enum`,
      `${dir}/acme.yaml:4:11 wildcard-public-suffix`,
    ]);
  });
});

Deno.test("policy token DIR mints a token that the organization's key verifies", async () => {
  const run = await cli([
    "token",
    "examples/policy.d",
    "--org",
    "acme",
    "--sub",
    "user_1",
    "--origin",
    "https://shop.acme.com",
  ], DIRECTORY_ENV);
  strictEqual(run.code, 0, run.stderr);
  const token = run.stdout.trim();
  strictEqual(decodeProtectedHeader(token).kid, "2026-12");
  const { payload } = await jwtVerify(
    token,
    new TextEncoder().encode(DIRECTORY_ENV.ACME_CHAT_JWT_SECRET_2026_12),
    { audience: "chat-widget", issuer: "https://shop.acme.com" },
  );
  strictEqual(payload.org_id, "acme");
});

const EXAMPLE_TESTS: ReadonlyArray<readonly [string, number]> = [
  ["examples/migration/1-legacy.yaml", 5],
  ["examples/migration/2-domains.yaml", 5],
  ["examples/migration/3-jwt-optional.yaml", 8],
  ["examples/migration/4-jwt-required.test.yaml", 8],
  ["examples/policy.d", 11],
];

for (const [path, cases] of EXAMPLE_TESTS) {
  Deno.test(`policy test ${path} passes all ${cases} cases with no secrets set`, async () => {
    const run = await cli(["test", path]);
    strictEqual(run.code, 0, run.stdout + run.stderr);
    const lines = run.stdout.trim().split("\n");
    strictEqual(lines.at(-1), `${cases} passed, 0 failed`);
    ok(!run.stdout.includes("FAIL"), run.stdout);
  });
}

Deno.test("policy test runs every migration step's tests at once", async () => {
  const files = [];
  for await (
    const entry of Deno.readDir(new URL("examples/migration/", ROOT))
  ) {
    if (entry.name.endsWith(".yaml")) {
      files.push(
        `examples/migration/${entry.name}`,
      );
    }
  }
  const run = await cli(["test", ...files.sort()]);
  strictEqual(run.code, 0, run.stdout);
  strictEqual(run.stdout.trim().split("\n").at(-1), "26 passed, 0 failed");
});

const FAILING_CASES = `cases:
  - name: the shop boots
    origin: https://shop.acme.com
    expect: allowed
  - name: an expired token is accepted
    origin: https://shop.acme.com
    token: { sub: user_1, expiresIn: -1m }
    expect: allowed
  - name: a typo
    origin: https://shop.acme.com
    expct: allowed
`;

Deno.test("policy test names each failing case with FILE:LINE, expected and decided, and exits 1", async () => {
  await withTempPolicy(
    await Deno.readTextFile(
      new URL("examples/migration/3-jwt-optional.yaml", ROOT),
    ),
    async (file) => {
      const tests = file.replace(/\.yaml$/, ".test.yaml");
      await Deno.writeTextFile(tests, FAILING_CASES);
      const run = await cli(["test", file]);
      strictEqual(run.code, 1);
      const lines = run.stdout.trim().split("\n");
      deepStrictEqual(problemLines(run.stdout), [
        `${tests}:9:5 missing-key`,
        `${tests}:11:5 unknown-key`,
      ]);
      const failure = lines.find((line) => line.includes(" FAIL "));
      ok(failure?.startsWith(`${tests}:5 FAIL "an expired token is accepted"`));
      ok(failure?.includes("expected allowed"));
      ok(failure?.includes("decided JWT_INVALID (reason jwt.expired"));
      strictEqual(lines.at(-1), "1 passed, 2 failed");

      const json = await cli(["test", "--json", file]);
      strictEqual(json.code, 1);
      const report = JSON.parse(json.stdout);
      strictEqual(report.ok, false);
      strictEqual(report.passed, 1);
      strictEqual(report.failed, 2);
      deepStrictEqual(report.throwawaySecrets, ["ACME_CHAT_JWT_SECRET"]);
      deepStrictEqual(
        report.files[0].cases.map((
          found: { line: number; passed: boolean },
        ) => [
          found.line,
          found.passed,
        ]),
        [[2, true], [5, false]],
      );
    },
  );
});

Deno.test("policy test uses a secret that is set without ever printing it", async () => {
  const run = await cli(
    ["test", "--json", "examples/migration/3-jwt-optional.yaml"],
    { ACME_CHAT_JWT_SECRET: SECRET },
  );
  strictEqual(run.code, 0, run.stdout);
  deepStrictEqual(JSON.parse(run.stdout).throwawaySecrets, []);
  ok(!run.stdout.includes(SECRET) && !run.stderr.includes(SECRET));
});

Deno.test("policy test DIR fails the cases of an organization whose file does not compile", async () => {
  await withTempDirectory({
    "acme.yaml": "version: 1\ndomains: { mode: strict }\n",
    "acme.test.yaml":
      "cases:\n  - { name: boots, origin: https://acme.com, expect: allowed }\n",
    "gamma.yaml": "version: 1\ndomains: { mode: off }\n",
    "gamma.test.yaml":
      "cases:\n  - { name: boots, origin: https://x.example, expect: allowed }\n",
  }, async (dir) => {
    const run = await cli(["test", dir]);
    strictEqual(run.code, 1);
    deepStrictEqual(problemLines(run.stdout), [
      `${dir}/acme.yaml:2:18 bad-enum`,
    ]);
    ok(run.stdout.includes(`${dir}/acme.test.yaml:2 FAIL "boots"`));
    strictEqual(run.stdout.trim().split("\n").at(-1), "1 passed, 1 failed");
  });
});

Deno.test("policy secret prints a new 48-byte base64url secret and the lines that add it as a key", async () => {
  const first = await cli(["secret", "--org", "acme", "--id", "2026-12"]);
  const second = await cli(["secret", "--org", "acme", "--id", "2026-12"]);
  strictEqual(first.code, 0, first.stderr);
  const exported = /export ACME_CHAT_JWT_SECRET_2026_12='([A-Za-z0-9_-]+)'/
    .exec(first.stdout);
  ok(exported, first.stdout);
  const secret = exported[1]!;
  strictEqual(secret.length, 64);
  strictEqual(
    Uint8Array.fromBase64(secret, { alphabet: "base64url" }).length,
    48,
  );
  ok(!second.stdout.includes(secret), "every run makes a new secret");
  // The printed policy lines, pasted under an organization, pass check.
  const keyLines = first.stdout.split("\n").filter((line) =>
    /^\s+(jwt:|keys:|- id:|secret:)/.test(line)
  );
  const indent = /^\s*/.exec(keyLines[0] ?? "")?.[0].length ?? 0;
  const policy =
    `version: 1\norganizations:\n  acme:\n    domains: { mode: off }\n${
      keyLines.map((line) => `    ${line.slice(indent)}`).join("\n")
    }\n`;
  await withTempPolicy(policy, async (file) => {
    const run = await cli(["check", "--json", file], {
      ACME_CHAT_JWT_SECRET_2026_12: secret,
    });
    strictEqual(run.code, 0, run.stdout);
    const report = JSON.parse(run.stdout);
    deepStrictEqual(report.files[0].problems, []);
    deepStrictEqual(report.files[0].organizations[0].jwt.keys, [{
      id: "2026-12",
    }]);
  });
});

Deno.test("policy secret suggests a dated key id and a variable without an organization", async () => {
  const run = await cli(["secret"]);
  strictEqual(run.code, 0, run.stderr);
  const id = new Date().toISOString().slice(0, 7);
  ok(run.stdout.includes(`- id: "${id}"`), run.stdout);
  ok(run.stdout.includes(`export PARLEY_JWT_SECRET_${id.replace("-", "_")}='`));
});

/** Each row: the visitor's language, the widget's locale, the greeting line. */
const LANGUAGE_ROWS: ReadonlyArray<readonly [string, string, string]> = [
  ["de-AT", "de (ltr)", 'greeting  "Hallo! Wie können wir helfen?" (from de)'],
  ["fr-CA", "fr (ltr)", "(from fr)"],
  // Japanese controls, and the greeting in the organization's language.
  ["ja", "ja (ltr)", 'greeting  "Hallo! Wie können wir helfen?" (from de)'],
  ["ar-EG", "ar (rtl)", "(from de)"],
  ["en-GB", "en (ltr)", 'greeting  "Hi! How can we help?" (from en)'],
];

for (const [language, locale, greeting] of LANGUAGE_ROWS) {
  Deno.test(`policy explain --language ${language} shows the widget speaking ${locale} and its greeting`, async () => {
    const run = await cli([
      "explain",
      "examples/policy.d",
      "--org",
      "globex",
      "--origin",
      "https://globex.example",
      "--language",
      language,
    ], DIRECTORY_ENV);
    strictEqual(run.code, 0, run.stderr);
    ok(
      run.stdout.includes(`language  ${language} → widget speaks ${locale}`),
      run.stdout,
    );
    ok(run.stdout.includes(greeting), run.stdout);
    ok(run.stdout.includes('title     "Globex Help"'), run.stdout);
    ok(run.stdout.includes("away      the widget's own"), run.stdout);
  });
}

Deno.test("policy explain --language --json carries the language and each text's entry", async () => {
  const run = await cli([
    "explain",
    "examples/policy.d",
    "--org",
    "globex",
    "--language",
    "ja-JP",
    "--json",
  ], DIRECTORY_ENV);
  const language = JSON.parse(run.stdout).language;
  deepStrictEqual(language, {
    asked: "ja-JP",
    locale: "ja",
    tag: "ja-JP",
    dir: "ltr",
    texts: {
      title: { text: "Globex Help" },
      greeting: { text: "Hallo! Wie können wir helfen?", from: "de" },
      awayMessage: "default",
    },
  });
});
