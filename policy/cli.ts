/**
 * The policy command line: `deno task policy check|explain|token|test|secret …`.
 * Every command that reads a policy takes a file or a policy directory.
 *
 * Exit codes: 0 success (for `explain`: the request is allowed), 1 the policy
 * has errors (for `explain`: the request is refused; for `test`: a case
 * failed), 2 bad usage or an unreadable file. Never prints a stack trace, a
 * secret (but the one `secret` makes) or a token's key.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parseOrigin } from "./host.ts";
import { mintUserToken } from "./mint_user_token.ts";
import {
  type CaseOutcome,
  describeDecision,
  describeExpectation,
  parseCaseFile,
  type PolicyCase,
  runPolicyCase,
  throwawayEnv,
} from "./policy_cases.ts";
import { formatProblem } from "./format_problem.ts";
import { classifyPolicyFile } from "./policy_directory.ts";
import {
  isDirectory,
  type LoadedPolicy,
  loadPolicy,
  readPolicyText,
  testFileNames,
  UnreadableFileError,
} from "./policy_files.ts";
import {
  datedKeyId,
  isEnvName,
  isKeyId,
  newSecret,
  secretInstructions,
  suggestedEnvName,
} from "./policy_secret.ts";
import { parseDuration } from "./rate.ts";
import type {
  Evaluator,
  Explanation,
  Facts,
  OrganizationSpec,
  PolicyProblem,
} from "./types.ts";
import { activeKey } from "./user_token.ts";

const USAGE = `Usage (POLICY is a policy file or a policy directory):
  deno task policy check POLICY... [--allow-missing-env] [--json]
  deno task policy explain POLICY --org ID [--origin URL] [--token JWT]
                           [--user-id U] [--app-id A] [--method M] [--json]
  deno task policy token POLICY --org ID --sub U --origin URL [--kid K]
                         [--ttl 10m] [--user-data JSON]
  deno task policy test FILE...|DIR [--json]
  deno task policy secret [--org ID] [--id 2026-12] [--env NAME]
  PARLEY_ADMIN_KEY=… deno task policy report --url URL --org ID [--hours N] [--json]

Exit codes: 0 ok or allowed, 1 policy errors, refused or failed cases, 2 bad usage or unreadable file`;

/** Bad command-line use: printed with the usage, exit code 2. */
class UsageError extends TypeError {
  readonly code = "usage";
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Environment lookup that reads a missing permission as a missing variable. */
function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

function summarizeOrganization(organization: OrganizationSpec) {
  return {
    id: organization.id,
    name: organization.name,
    appIds: organization.appIds,
    domains: {
      mode: organization.domains.mode,
      allow: organization.domains.allow.map((pattern) => pattern.source),
    },
    jwt: {
      mode: organization.jwt.mode,
      keys: organization.jwt.keys.map((key) => ({
        id: key.id,
        ...(key.until === undefined
          ? {}
          : { until: new Date(key.until).toISOString() }),
      })),
      maxLifetimeMs: organization.jwt.maxLifetimeMs,
      clockToleranceMs: organization.jwt.clockToleranceMs,
    },
    limits: {
      organization: organization.limits.organization.text,
      ip: organization.limits.ip.text,
      session: organization.limits.session.text,
      agent: organization.limits.agent.text,
      authFailures: organization.limits.authFailures.text,
    },
    adminKeys: organization.adminKeys.map((key) => ({
      id: key.id,
      name: key.name,
    })),
    webhook: organization.webhook !== undefined,
  };
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function organizationLines(
  organizations: readonly OrganizationSpec[],
): string[] {
  const lines: string[] = [];
  for (const organization of organizations) {
    const summary = summarizeOrganization(organization);
    lines.push(`  ${summary.id} (${JSON.stringify(summary.name)})`);
    lines.push(
      `    domains  ${summary.domains.mode}${
        summary.domains.allow.length
          ? `: ${summary.domains.allow.join(", ")}`
          : ""
      }`,
    );
    lines.push(
      `    jwt      ${summary.jwt.mode}${
        summary.jwt.keys.length
          ? `, keys: ${
            summary.jwt.keys.map((key) =>
              key.until ? `${key.id} (until ${key.until})` : key.id
            ).join(", ")
          }`
          : ""
      }`,
    );
    lines.push(
      `    limits   organization ${summary.limits.organization}, ip ${summary.limits.ip}, session ${summary.limits.session}, agent ${summary.limits.agent}, authFailures ${summary.limits.authFailures}`,
    );
    if (summary.appIds.length) {
      lines.push(`    appIds   ${summary.appIds.join(", ")}`);
    }
    if (summary.adminKeys.length) {
      lines.push(
        `    agents   ${
          summary.adminKeys.map((key) =>
            `${key.id} (${JSON.stringify(key.name)})`
          ).join(", ")
        }`,
      );
    }
  }
  return lines;
}

/** Prints one policy's check: the summary, or every problem of every file. */
function printCheck(policy: LoadedPolicy): void {
  const problems = policy.files.flatMap((file) =>
    file.problems.map((problem) => ({ file: file.file, problem }))
  );
  const warnings =
    problems.filter(({ problem }) => problem.severity === "warning").length;
  const failedFiles = policy.files.filter((file) => !file.ok).length;
  const organizations = policy.files.flatMap((file) => file.organizations);
  if (failedFiles === 0) {
    console.log(
      `${policy.path}: ok, ${plural(organizations.length, "organization")}, ${
        plural(warnings, "warning")
      }`,
    );
    for (const line of organizationLines(organizations)) console.log(line);
    for (const { file, problem } of problems) {
      console.log(formatProblem(file, problem));
    }
    return;
  }
  for (const { file, problem } of problems) {
    console.log(formatProblem(file, problem));
  }
  const errors = problems.length - warnings;
  console.log(
    `${policy.path}: ${plural(errors, "error")}${
      policy.directory ? ` in ${plural(failedFiles, "file")}` : ""
    }, ${plural(warnings, "warning")}`,
  );
}

async function check(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      json: { type: "boolean" },
      "allow-missing-env": { type: "boolean" },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length === 0) throw new UsageError("No policy file given");
  // For CI jobs that hold no secrets: an unset variable counts as set (to a
  // throwaway secret), so only the policy's shape is checked.
  const assumed = values["allow-missing-env"]
    ? throwawayEnv(readEnv)
    : undefined;
  const env = assumed?.lookup ?? readEnv;
  let exitCode = 0;
  const results = [];
  for (const path of positionals) {
    let policy: LoadedPolicy;
    try {
      policy = await loadPolicy(path, { env });
    } catch (error) {
      if (!(error instanceof UnreadableFileError)) throw error;
      exitCode = 2;
      results.push({
        file: path,
        ok: false,
        error: error.message,
        problems: [],
      });
      if (!values.json) console.error(error.message);
      continue;
    }
    if (policy.files.some((file) => !file.ok)) {
      exitCode = Math.max(exitCode, 1);
    }
    for (const file of policy.files) {
      results.push({
        file: file.file,
        ok: file.ok,
        problems: file.problems,
        ...(file.ok
          ? { organizations: file.organizations.map(summarizeOrganization) }
          : {}),
      });
    }
    if (!values.json) printCheck(policy);
  }
  if (values.json) {
    console.log(
      JSON.stringify(
        {
          ok: exitCode === 0,
          ...(assumed === undefined ? {} : { assumedSet: assumed.substituted }),
          files: results,
        },
        null,
        2,
      ),
    );
  } else if (assumed !== undefined && assumed.substituted.length > 0) {
    console.log(
      `--allow-missing-env: checked as if set: ${
        assumed.substituted.join(", ")
      }`,
    );
  }
  return exitCode;
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === "") {
    throw new UsageError(`Option "--${flag}" is required`);
  }
  return value;
}

function onePolicy(positionals: string[]): string {
  if (positionals.length !== 1) {
    throw new UsageError("Give exactly one policy file or directory");
  }
  return positionals[0] as string;
}

/**
 * One organization's policy for `explain` and `token`: in a directory only
 * `_parley.yaml` and the organization's file are read. Prints the problems
 * and returns `undefined` when what is needed does not compile.
 */
async function organizationPolicy(
  path: string,
  organizationId: string,
  now?: number,
): Promise<Evaluator | undefined> {
  const policy = await loadPolicy(path, {
    env: readEnv,
    organizationId,
    ...(now === undefined ? {} : { now }),
  });
  // Only what the organization needs was read, so any error stops it.
  if (
    policy.files.some((file) => !file.ok) || policy.evaluator === undefined
  ) {
    for (const file of policy.files) printProblems(file.file, file.problems);
    return undefined;
  }
  return policy.evaluator;
}

function printProblems(file: string, problems: readonly PolicyProblem[]): void {
  for (const problem of problems) console.error(formatProblem(file, problem));
}

function explanationLines(explanation: Explanation): string[] {
  const lines = [
    explanation.allowed
      ? `ALLOWED ${explanation.reason}`
      : `REFUSED ${explanation.code ?? ""} ${explanation.reason}`,
  ];
  if (explanation.origin) lines.push(`origin    ${explanation.origin}`);
  if (explanation.rule) lines.push(`rule      ${explanation.rule}`);
  const identity = explanation.identity;
  lines.push(
    `identity  ${
      identity.verified
        ? `verified, sub ${JSON.stringify(identity.subject ?? "")}${
          identity.keyId ? `, key ${JSON.stringify(identity.keyId)}` : ""
        }`
        : "anonymous"
    }`,
  );
  if (explanation.reportOnly) {
    lines.push(
      `report    enforcement would refuse: ${explanation.reportOnly.code} ${explanation.reportOnly.reason}`,
    );
  }
  lines.push("trace");
  for (const step of explanation.trace) {
    lines.push(
      `  ${step.outcome.padEnd(6)} ${step.check.padEnd(20)} ${step.reason}${
        step.detail ? `  ${step.detail}` : ""
      }`,
    );
  }
  return lines;
}

async function explain(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      org: { type: "string" },
      origin: { type: "string" },
      token: { type: "string" },
      "user-id": { type: "string" },
      "app-id": { type: "string" },
      method: { type: "string" },
      json: { type: "boolean" },
    },
    allowPositionals: true,
    strict: true,
  });
  const path = onePolicy(positionals);
  const organizationId = required(values.org, "org");
  const evaluator = await organizationPolicy(path, organizationId);
  if (evaluator === undefined) return 1;
  const facts: Facts = {
    organizationId,
    origin: values.origin ?? null,
    ...(values.token === undefined ? {} : { token: values.token }),
    ...(values["user-id"] === undefined ? {} : { userId: values["user-id"] }),
    ...(values["app-id"] === undefined ? {} : { appId: values["app-id"] }),
    method: values.method ?? "chat.boot",
  };
  const explanation = await evaluator.explain(facts);
  if (values.json) {
    console.log(JSON.stringify(explanation, null, 2));
  } else {
    for (const line of explanationLines(explanation)) console.log(line);
  }
  return explanation.allowed ? 0 : 1;
}

async function token(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      org: { type: "string" },
      sub: { type: "string" },
      origin: { type: "string" },
      kid: { type: "string" },
      ttl: { type: "string" },
      "user-data": { type: "string" },
    },
    allowPositionals: true,
    strict: true,
  });
  const path = onePolicy(positionals);
  const organizationId = required(values.org, "org");
  const subject = required(values.sub, "sub");
  const origin = parseOrigin(required(values.origin, "origin"));
  if (!origin) {
    throw new UsageError(
      `Origin "${values.origin}" is not scheme://host[:port]`,
    );
  }
  const ttlMs = parseDuration(values.ttl ?? "10m");
  if (ttlMs === undefined || ttlMs < 1_000) {
    throw new UsageError(`TTL "${values.ttl}" is not a duration such as "10m"`);
  }
  let userData: Record<string, unknown> | undefined;
  if (values["user-data"] !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(values["user-data"]);
    } catch {
      parsed = undefined;
    }
    if (
      typeof parsed !== "object" || parsed === null || Array.isArray(parsed)
    ) {
      throw new UsageError(`Option "--user-data" must be a JSON object`);
    }
    userData = parsed as Record<string, unknown>;
  }
  const now = Date.now();
  const evaluator = await organizationPolicy(path, organizationId, now);
  if (evaluator === undefined) return 1;
  const organization = evaluator.organization(organizationId)?.spec;
  if (!organization) {
    console.error(`Organization "${organizationId}" is not in "${path}"`);
    return 1;
  }
  const keys = organization.jwt.keys;
  const key = activeKey(keys, now, values.kid);
  if (!key) {
    console.error(
      values.kid === undefined
        ? `Organization "${organizationId}" has no active JWT key`
        : `Organization "${organizationId}" has no JWT key "${values.kid}"`,
    );
    return 1;
  }
  if (ttlMs > organization.jwt.maxLifetimeMs) {
    console.error(
      `Warning: TTL is longer than the organization's maxLifetime; the token will be refused`,
    );
  }
  const jwt = await mintUserToken({
    secret: key.secret,
    kid: key.id,
    organizationId,
    subject,
    issuer: origin.origin,
    now,
    expiresInMs: ttlMs,
    ...(userData === undefined ? {} : { userData }),
  });
  console.log(jwt);
  return 0;
}

/** One test file, and the policy its cases run against. */
interface TestRun {
  /** The test file. */
  readonly file: string;
  /** The policy file or directory it tests. */
  readonly policy: string;
  /** A directory's test file tests one organization, named by the file. */
  readonly organizationId?: string;
}

/** `X.test.yaml` tests `X.yaml` (or `.yml`, `.json`) beside it; `X.yaml` is tested by `X.test.yaml`. */
async function testRunsOf(path: string): Promise<TestRun[]> {
  if (await isDirectory(path)) {
    const directory = path.length > 1 ? path.replace(/\/+$/, "") : path;
    return (await testFileNames(directory)).map((name) => ({
      file: `${directory}/${name}`,
      policy: directory,
      organizationId: classifyPolicyFile(name).organizationId!,
    }));
  }
  const test = /\.test\.ya?ml$/.exec(path);
  if (test !== null) {
    const stem = path.slice(0, test.index);
    for (const extension of [".yaml", ".yml", ".json"]) {
      if (await exists(stem + extension)) {
        return [{ file: path, policy: stem + extension }];
      }
    }
    throw new UnreadableFileError(
      `Cannot read the policy of "${path}": no ${stem}.yaml beside it`,
    );
  }
  const policy = /\.(?:ya?ml|json)$/.exec(path);
  const stem = policy === null ? path : path.slice(0, policy.index);
  for (const extension of [".test.yaml", ".test.yml"]) {
    if (await exists(stem + extension)) {
      return [{ file: stem + extension, policy: path }];
    }
  }
  throw new UnreadableFileError(
    `Cannot read the tests of "${path}": no ${stem}.test.yaml beside it`,
  );
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** The outcome of one test file, for the report. */
interface TestFileResult {
  readonly file: string;
  readonly policy: string;
  readonly problems: readonly { file: string; problem: PolicyProblem }[];
  readonly outcomes: readonly CaseOutcome[];
  /** Cases that could not run (the file or the policy has errors). */
  readonly notRun: readonly PolicyCase[];
  /** Lines of cases too malformed to run. */
  readonly malformed: readonly number[];
}

async function runTestFile(
  run: TestRun,
  policies: Map<string, Promise<LoadedPolicy>>,
  env: (name: string) => string,
  clock: number,
): Promise<TestFileResult> {
  const caseFile = parseCaseFile(
    await readPolicyText(run.file),
    run.organizationId === undefined
      ? {}
      : { organizationId: run.organizationId },
  );
  let loading = policies.get(run.policy);
  if (loading === undefined) {
    loading = loadPolicy(run.policy, { env, now: clock });
    policies.set(run.policy, loading);
  }
  const policy = await loading;
  const problems = caseFile.problems.map((problem) => ({
    file: run.file,
    problem,
  }));
  // The policy's own problems stop the cases that need it.
  const needed = policy.files.filter((file) =>
    !policy.directory || run.organizationId === undefined ||
    file.file.endsWith("/_parley.yaml") ||
    classifyPolicyFile(file.file.slice(policy.path.length + 1))
        .organizationId === run.organizationId
  );
  for (const file of needed) {
    for (const problem of file.problems) {
      if (problem.severity === "error") {
        problems.push({ file: file.file, problem });
      }
    }
  }
  const evaluator = policy.evaluator;
  const policyBroken = evaluator === undefined ||
    needed.some((file) => !file.ok);
  const single = policy.files.flatMap((file) => file.organizations);
  const defaultOrganization = caseFile.organizationId ??
    (single.length === 1 ? single[0]!.id : undefined);
  const outcomes: CaseOutcome[] = [];
  const notRun: PolicyCase[] = [];
  for (const testCase of caseFile.cases) {
    if (policyBroken) {
      notRun.push(testCase);
      continue;
    }
    if (
      testCase.organizationId === undefined &&
      defaultOrganization === undefined
    ) {
      problems.push({
        file: run.file,
        problem: {
          code: "missing-key",
          severity: "error",
          path: "organization",
          line: testCase.line,
          column: 1,
          message:
            `Case "${testCase.name}" names no organization, and the policy has ${
              plural(single.length, "organization")
            }`,
          hint: "Add organization: ID to the case or at the top of the file",
        },
      });
      notRun.push(testCase);
      continue;
    }
    outcomes.push(
      await runPolicyCase(evaluator!, testCase, {
        now: clock,
        ...(defaultOrganization === undefined
          ? {}
          : { organizationId: defaultOrganization }),
      }),
    );
  }
  return {
    file: run.file,
    policy: run.policy,
    problems,
    outcomes,
    notRun,
    malformed: caseFile.malformed,
  };
}

async function test(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { json: { type: "boolean" } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length === 0) {
    throw new UsageError("No policy or test file given");
  }
  const runs = new Map<string, TestRun>();
  for (const path of positionals) {
    for (const run of await testRunsOf(path)) runs.set(run.file, run);
  }
  const env = throwawayEnv(readEnv);
  const clock = Date.now();
  const policies = new Map<string, Promise<LoadedPolicy>>();
  const results: TestFileResult[] = [];
  for (const run of runs.values()) {
    results.push(await runTestFile(run, policies, env.lookup, clock));
  }
  const passed = results.reduce(
    (sum, result) =>
      sum + result.outcomes.filter((outcome) => outcome.passed).length,
    0,
  );
  const failed = results.reduce(
    (sum, result) =>
      sum + result.notRun.length + result.malformed.length +
      result.outcomes.filter((outcome) => !outcome.passed).length,
    0,
  );
  const fileProblems = results.some((result) => result.problems.length > 0);
  if (values.json) {
    console.log(JSON.stringify(
      {
        ok: failed === 0 && !fileProblems,
        passed,
        failed,
        throwawaySecrets: env.substituted,
        files: results.map((result) => ({
          file: result.file,
          policy: result.policy,
          problems: result.problems.map(({ file, problem }) => ({
            ...problem,
            file,
          })),
          cases: [
            ...result.outcomes.map((outcome) => ({
              name: outcome.case.name,
              line: outcome.case.line,
              passed: outcome.passed,
              expected: describeExpectation(outcome.case),
              decided: describeDecision(outcome.decision),
            })),
            ...result.notRun.map((testCase) => ({
              name: testCase.name,
              line: testCase.line,
              passed: false,
              expected: describeExpectation(testCase),
              decided: null,
            })),
          ].sort((a, b) => a.line - b.line),
        })),
      },
      null,
      2,
    ));
  } else {
    for (const result of results) {
      for (const { file, problem } of result.problems) {
        console.log(formatProblem(file, problem));
      }
      const lines = [
        ...result.outcomes.filter((outcome) => !outcome.passed).map((
          outcome,
        ) => ({
          line: outcome.case.line,
          text: `${result.file}:${outcome.case.line} FAIL ${
            JSON.stringify(outcome.case.name)
          }: expected ${describeExpectation(outcome.case)}, decided ${
            describeDecision(outcome.decision)
          }`,
        })),
        ...result.notRun.map((testCase) => ({
          line: testCase.line,
          text: `${result.file}:${testCase.line} FAIL ${
            JSON.stringify(testCase.name)
          }: not run, the policy or the case has errors`,
        })),
      ].sort((a, b) => a.line - b.line);
      for (const { text } of lines) console.log(text);
    }
    if (env.substituted.length > 0) {
      console.log(
        `Throwaway secrets for unset ${env.substituted.join(", ")}`,
      );
    }
    console.log(`${passed} passed, ${failed} failed`);
  }
  return failed === 0 && !fileProblems ? 0 : 1;
}

function secret(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    options: {
      org: { type: "string" },
      id: { type: "string" },
      env: { type: "string" },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) {
    throw new UsageError("secret takes no policy file");
  }
  const keyId = values.id ?? datedKeyId(Date.now());
  if (!isKeyId(keyId)) {
    throw new UsageError(
      `Key id "${
        keyId.slice(0, 64)
      }" is not 1 to 64 letters, digits, '.', '_' or '-'`,
    );
  }
  const envName = values.env ?? suggestedEnvName(keyId, values.org);
  if (!isEnvName(envName)) {
    throw new UsageError(
      `"${envName.slice(0, 64)}" is not an environment variable name`,
    );
  }
  for (
    const line of secretInstructions({
      secret: newSecret(),
      keyId,
      envName,
      ...(values.org === undefined ? {} : { organizationId: values.org }),
    })
  ) {
    console.log(line);
  }
  return 0;
}

/**
 * Runs the policy command line.
 *
 * @param args The arguments after the script name.
 * @returns The process exit code.
 */
export async function main(args: readonly string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case "check":
        return await check(rest);
      case "explain":
        return await explain(rest);
      case "token":
        return await token(rest);
      case "test":
        return await test(rest);
      case "secret":
        return secret(rest);
      case "report":
        // It asks a server over the network, which policy/ never does.
        throw new UsageError(
          "report runs through `deno task policy` (cli.ts at the project root)",
        );
      case "help":
      case "--help":
      case "-h":
        console.log(USAGE);
        return 0;
      case undefined:
        throw new UsageError("No command given");
      default:
        throw new UsageError(`Unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UnreadableFileError) {
      console.error(error.message);
      return 2;
    }
    // node:util parseArgs reports unknown or malformed options as TypeErrors.
    if (error instanceof UsageError || error instanceof TypeError) {
      console.error(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    console.error(
      `Unexpected error: ${error instanceof Error ? error.message : error}`,
    );
    return 2;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
