/**
 * Holds the policy language's problems to the golden corpus: every broken
 * policy, policy directory and policy test file under
 * `testdata/problems/` must report exactly the `(file, line, column, code,
 * severity)` recorded in `testdata/problems.expected.json` from the
 * validator before its rewrite. The entries are read with a fixed clock and
 * a fixed environment (`tests/problem_corpus.ts`).
 */

import { deepStrictEqual as deepEqual, ok } from "node:assert/strict";
import expected from "./testdata/problems.expected.json" with { type: "json" };
import {
  corpusEntries,
  problemsOf,
  type RecordedProblem,
} from "../tests/problem_corpus.ts";

/**
 * Every problem code the policy language reports, where it is written today.
 * Kept here by hand because no single table of codes exists yet: a code
 * missing from this list, or listed but reached by no corpus entry, fails
 * the last step.
 *
 * Not listed: `internal` (validate.ts reports it when the validator itself
 * throws, which no input should make it do), and the runner's `missing-key`
 * of `deno task policy test` for a case naming no organization of a policy
 * with several (cli/test.ts; the code itself is listed). Nor the codes of
 * reading and compiling files rather than of their text: `file-too-large`
 * (a fixture over 1 MiB; policy_budget_test.ts, parse_test.ts and
 * policy_io/policy_file_reader_test.ts hold it), `symlink-outside`
 * (policy_io/policy_file_reader.ts), `compile-timeout` and `compile-failed`
 * (policy_source/policy_worker.ts).
 */
const PROBLEM_CODES: readonly string[] = [
  // policy/parse.ts
  "syntax",
  "yaml-warning",
  "too-large",
  // policy/validate.ts (also shared by policy/policy_cases.ts)
  "bad-admin-key-id",
  "bad-color",
  "bad-domain-pattern",
  "bad-duration",
  "bad-enum",
  "bad-env-name",
  "bad-hours",
  "bad-locale",
  "bad-organization-id",
  "bad-rate",
  "bad-timezone",
  "bad-until",
  "bad-url",
  "duplicate-admin-secret",
  "duplicate-domain",
  "duplicate-key",
  "duplicate-key-id",
  "env-missing",
  "foreign-organization",
  "hours-day-twice",
  "inline-secret",
  "jwt-optional-without-keys",
  "jwt-required-without-keys",
  "low-contrast",
  "missing-key",
  "no-domains",
  "no-organizations",
  "out-of-range",
  "secret-too-short",
  "too-long",
  "too-many-admin-keys",
  "too-many-keys",
  "unknown-key",
  "unknown-version",
  "until-past",
  "wildcard-public-suffix",
  "wrong-type",
  // policy/secret_assignment.ts (through validate.ts)
  "bad-secret-pattern",
  "secret-assigned-twice",
  "secret-not-assigned",
  // policy/policy_directory.ts
  "duplicate-organization",
  "reserved-file-name",
  "unreadable-file",
  // policy/policy_cases.ts
  "bad-expect",
  "bad-method",
  "bad-time",
  "bad-token-secret",
  "token-not-sent",
];

const recorded = expected as unknown as Record<string, RecordedProblem[]>;
const entries = await corpusEntries();

Deno.test("the problem corpus reports what the validator reported when it was recorded", async (t) => {
  for (const entry of entries) {
    await t.step(`${entry.code}: ${entry.name}`, async () => {
      const problems = await problemsOf(entry);
      deepEqual(problems, recorded[entry.name]);
      ok(
        problems.some(([, , , code]) => code === entry.code),
        `${entry.name} is named for "${entry.code}" but does not report it`,
      );
    });
  }
});

Deno.test("the problem corpus has one recording per entry and no stale one", () => {
  deepEqual(
    Object.keys(recorded).sort(),
    entries.map((entry) => entry.name).sort(),
  );
});

Deno.test("the problem corpus reaches every problem code, and reports no unlisted one", () => {
  const reached = new Set(
    Object.values(recorded).flatMap((problems) =>
      problems.map(([, , , code]) => code)
    ),
  );
  deepEqual(
    PROBLEM_CODES.filter((code) => !reached.has(code)),
    [],
    "listed codes no corpus entry reaches",
  );
  deepEqual(
    [...reached].filter((code) => !PROBLEM_CODES.includes(code)).sort(),
    [],
    "reported codes missing from PROBLEM_CODES",
  );
  deepEqual(new Set(PROBLEM_CODES).size, PROBLEM_CODES.length);
});
