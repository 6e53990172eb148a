/**
 * `deno task policy test FILE...|DIR [--json]`: runs policy test cases
 * (`X.test.yaml` beside `X.yaml`, or a directory's `<id>.test.yaml`) against
 * the real evaluator. A key whose variable is unset gets a throwaway secret
 * for the run, so CI needs no secrets; the secrets are never printed.
 *
 * Exit codes: 0 every case passed, 1 a case failed or a file has problems
 * (the cases of a policy that does not compile fail), 2 bad usage or an
 * unreadable file.
 *
 * @module
 */

import { formatProblem } from "../policy/format_problem.ts";
import {
  type CaseOutcome,
  describeDecision,
  describeExpectation,
  parseCaseFile,
  type PolicyCase,
  runPolicyCase,
  throwawayEnv,
} from "../policy/policy_cases.ts";
import { classifyPolicyFile } from "../policy/policy_directory.ts";
import type { PolicyProblem } from "../policy/types.ts";
import {
  type LoadedPolicy,
  loadPolicy,
  readPolicyText,
} from "../policy_io/load_policy.ts";
import { readProcessEnv } from "../policy_io/process_env.ts";
import {
  pairTestFiles,
  type TestFilePair,
} from "../policy_io/test_file_pairing.ts";
import { parseArguments, UsageError } from "./arguments.ts";
import { plural, printJson } from "./output.ts";

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

/**
 * Runs `test`.
 *
 * @param args The arguments after `test`.
 * @returns The exit code.
 * @throws {UsageError} When no path is given, or an option is unknown.
 * @throws {UnreadableFileError} When a test file or its policy cannot be read.
 */
export async function test(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseArguments(args, {
    json: { type: "boolean" },
  });
  if (positionals.length === 0) {
    throw new UsageError("No policy or test file given");
  }
  const pairs = new Map<string, TestFilePair>();
  for (const path of positionals) {
    for (const pair of await pairTestFiles(path)) pairs.set(pair.file, pair);
  }
  const env = throwawayEnv(readProcessEnv);
  const clock = Date.now();
  const policies = new Map<string, Promise<LoadedPolicy>>();
  const results: TestFileResult[] = [];
  for (const pair of pairs.values()) {
    results.push(await runTestFile(pair, policies, env.lookup, clock));
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
    printJson({
      ok: failed === 0 && !fileProblems,
      passed,
      failed,
      throwawaySecrets: env.substituted,
      files: results.map(resultJson),
    });
  } else {
    for (const result of results) {
      for (const line of resultLines(result)) console.log(line);
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

async function runTestFile(
  pair: TestFilePair,
  policies: Map<string, Promise<LoadedPolicy>>,
  env: (name: string) => string,
  clock: number,
): Promise<TestFileResult> {
  const caseFile = parseCaseFile(
    await readPolicyText(pair.file),
    pair.organizationId === undefined
      ? {}
      : { organizationId: pair.organizationId },
  );
  let loading = policies.get(pair.policy);
  if (loading === undefined) {
    loading = loadPolicy(pair.policy, { env, now: clock });
    policies.set(pair.policy, loading);
  }
  const policy = await loading;
  const problems = caseFile.problems.map((problem) => ({
    file: pair.file,
    problem,
  }));
  // The policy's own problems stop the cases that need it.
  const needed = policy.files.filter((file) =>
    !policy.directory || pair.organizationId === undefined ||
    file.file.endsWith("/_parley.yaml") ||
    classifyPolicyFile(file.file.slice(policy.path.length + 1))
        .organizationId === pair.organizationId
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
        file: pair.file,
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
    file: pair.file,
    policy: pair.policy,
    problems,
    outcomes,
    notRun,
    malformed: caseFile.malformed,
  };
}

/** One test file's `--json` entry: its problems, and its cases in line order. */
function resultJson(result: TestFileResult) {
  return {
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
  };
}

/** One test file's problems, then its failing cases in line order. */
function resultLines(result: TestFileResult): string[] {
  const failures = [
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
  return [
    ...result.problems.map(({ file, problem }) => formatProblem(file, problem)),
    ...failures.map(({ text }) => text),
  ];
}
