/**
 * `deno task policy check POLICY... [--allow-missing-env] [--json]`: every
 * problem of every file at once as `FILE:LINE:COL CODE message (hint)`, or
 * a summary of each organization when a policy has no error.
 *
 * Exit codes: 0 no errors, 1 a policy has errors, 2 a path cannot be read
 * (the other paths are still checked).
 *
 * @module
 */

import { formatProblem } from "../policy/format_problem.ts";
import { throwawayEnv } from "../policy/policy_cases.ts";
import { type LoadedPolicy, loadPolicy } from "../policy_io/load_policy.ts";
import { readProcessEnv } from "../policy_io/process_env.ts";
import { UnreadableFileError } from "../policy_io/read_failure.ts";
import { parseArguments, UsageError } from "./arguments.ts";
import {
  organizationLines,
  summarizeOrganization,
} from "./organization_summary.ts";
import { plural, printJson } from "./output.ts";

/**
 * Runs `check`.
 *
 * @param args The arguments after `check`.
 * @returns The exit code.
 * @throws {UsageError} When no policy is given, or an option is unknown.
 */
export async function check(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseArguments(args, {
    json: { type: "boolean" },
    "allow-missing-env": { type: "boolean" },
  });
  if (positionals.length === 0) throw new UsageError("No policy file given");
  // For CI jobs that hold no secrets: an unset variable counts as set (to a
  // throwaway secret), so only the policy's shape is checked.
  const assumed = values["allow-missing-env"]
    ? throwawayEnv(readProcessEnv)
    : undefined;
  const env = assumed?.lookup ?? readProcessEnv;
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
    printJson({
      ok: exitCode === 0,
      ...(assumed === undefined ? {} : { assumedSet: assumed.substituted }),
      files: results,
    });
  } else if (assumed !== undefined && assumed.substituted.length > 0) {
    console.log(
      `--allow-missing-env: checked as if set: ${
        assumed.substituted.join(", ")
      }`,
    );
  }
  return exitCode;
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
