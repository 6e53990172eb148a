/**
 * `deno task policy check --allow-missing-env`: for CI jobs that hold no
 * secrets, an unset variable counts as set, so the shipped examples check
 * clean with an empty environment; everything else is still checked.
 */

import assert from "node:assert/strict";
import { type Run, runDeno } from "../tests/cli_process.ts";

function check(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<Run> {
  return runDeno(
    ["task", "-q", "policy", "check", ...args],
    env,
  );
}

Deno.test("policy check examples/policy.d fails without its secrets, and passes with --allow-missing-env, naming what it assumed", async () => {
  const strict = await check(["examples/policy.d"]);
  assert.equal(strict.code, 1, strict.stdout);
  assert.match(strict.stdout, /env-missing/);

  const run = await check(["examples/policy.d", "--allow-missing-env"]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(
    run.stdout,
    /^examples\/policy\.d: ok, 2 organizations, 0 warnings$/m,
  );
  assert.match(
    run.stdout,
    /^--allow-missing-env: checked as if set: .*ACME_KEY_ADA.*GLOBEX_CHAT_JWT_SECRET/m,
  );
  assert.doesNotMatch(run.stdout, /env-missing/);
});

Deno.test("policy check --allow-missing-env --json lists the variables it assumed set", async () => {
  const run = await check([
    "--allow-missing-env",
    "--json",
    "examples/policy.d",
  ]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const report = JSON.parse(run.stdout);
  assert.equal(report.ok, true);
  assert.ok(report.assumedSet.includes("ACME_KEY_GRACE"), run.stdout);
});

Deno.test("policy check --allow-missing-env still checks the shape, and a variable that is set but too short", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley_cli_env_" });
  try {
    const file = `${dir}/policy.yaml`;
    await Deno.writeTextFile(
      file,
      `version: 1
organizations:
  acme:
    domain: { allow: [acme.com] }
    admin: { keys: [{ secret: { env: ACME_ADMIN_KEY } }, { secret: { env: SHORT_KEY } }] }
`,
    );
    const run = await check([file, "--allow-missing-env"], {
      SHORT_KEY: "short",
    });
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stdout, /unknown-key/);
    assert.match(run.stdout, /secret-too-short/);
    assert.doesNotMatch(run.stdout, /env-missing/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
