/**
 * The corpus of broken policies under `policy/testdata/problems/`, and how each entry is
 * read through the public entry points, with a fixed clock and a fixed
 * environment (never the real one):
 *
 * - `problems/<code>[.<variant>].yaml|json`: one policy file, through
 *   `validatePolicy` (what `deno task policy check <file>` prints);
 * - `problems/tests/<code>[.<variant>].test.yaml`: one policy test file,
 *   through `parseCaseFile`;
 * - `problems/dirs/<code>[.<variant>]/`: a policy directory, its files
 *   applied to a `PolicyDirectory` (what `deno task policy check <dir>`
 *   prints), and its `<id>.test.yaml` files through `parseCaseFile` for that
 *   organization.
 *
 * Each entry is named for the code it must produce, and yields its problems
 * as `[file, line, column, code, severity]` in the order reported. The
 * expectations in `problems.expected.json` were recorded from the validator
 * before its rewrite (`record_problem_corpus.ts`); `problem_corpus_test.ts` holds
 * every later version to them.
 *
 * @module
 */

import { parseCaseFile } from "../policy/policy_cases.ts";
import {
  classifyPolicyFile,
  PolicyDirectory,
  type PolicyFileChange,
} from "../policy/policy_directory.ts";
import type { PolicyProblem } from "../policy/types.ts";
import { validatePolicy } from "../policy/validate.ts";

/** One problem as recorded: where, which code, how severe. */
export type RecordedProblem = readonly [
  file: string,
  line: number,
  column: number,
  code: string,
  severity: "error" | "warning",
];

/** How an entry is read. */
export type CorpusEntryKind = "policy" | "tests" | "directory";

/** One entry of the corpus. */
export interface CorpusEntry {
  /** Its path under `problems/`, e.g. `bad-rate.yaml` or `dirs/duplicate-organization`. */
  readonly name: string;
  /** The code it is named for: the base name up to its first dot. */
  readonly code: string;
  readonly kind: CorpusEntryKind;
}

/** The corpus, beside `policy/problem_corpus_test.ts` that holds it. */
export const CORPUS_ROOT: URL = new URL(
  "../policy/testdata/problems/",
  import.meta.url,
);

/** The clock of every entry: `until-past` depends on it. */
export const CORPUS_NOW: number = Date.parse("2026-06-01T00:00:00Z");

const SECRET = "corpus-secret-0123456789abcdef-0123456789abcdef";

/**
 * The environment of every entry. Names the corpus leaves out are unset,
 * and `EMPTY_SECRET` is set but empty: both are `env-missing`.
 */
export const CORPUS_ENV: Readonly<Record<string, string>> = Object.freeze({
  ACME_JWT_SECRET: `${SECRET}-jwt`,
  ACME_KEY_ADA: `${SECRET}-ada`,
  // The same value as Ada's under another name: `duplicate-admin-secret`.
  ACME_KEY_ADA_COPY: `${SECRET}-ada`,
  ACME_KEY_GRACE: `${SECRET}-grace`,
  EMPTY_SECRET: "",
  SHORT_SECRET: "hunter2",
});

/**
 * Files of directory entries reported unreadable after a first, good read,
 * as the directory watcher reports a file it may no longer read.
 */
const UNREADABLE: Readonly<Record<string, readonly string[]>> = {
  "dirs/unreadable-file": ["globex.yaml"],
};

/**
 * Every entry of the corpus, in name order.
 *
 * @returns The entries.
 */
export async function corpusEntries(): Promise<CorpusEntry[]> {
  const entries: CorpusEntry[] = [];
  for (const name of await fileNames(CORPUS_ROOT)) {
    entries.push({ name, code: codeOf(name), kind: "policy" });
  }
  for (const name of await fileNames(new URL("tests/", CORPUS_ROOT))) {
    entries.push({ name: `tests/${name}`, code: codeOf(name), kind: "tests" });
  }
  for (const name of await directoryNames(new URL("dirs/", CORPUS_ROOT))) {
    entries.push({
      name: `dirs/${name}`,
      code: codeOf(name),
      kind: "directory",
    });
  }
  return entries;
}

/**
 * Reads one entry through the entry point of its kind.
 *
 * @param entry The entry.
 * @returns Its problems, in the order reported.
 */
export async function problemsOf(
  entry: CorpusEntry,
): Promise<RecordedProblem[]> {
  const url = new URL(entry.name, CORPUS_ROOT);
  const base = entry.name.slice(entry.name.lastIndexOf("/") + 1);
  switch (entry.kind) {
    case "policy": {
      const { problems } = validatePolicy(await Deno.readTextFile(url), {
        env: CORPUS_ENV,
        now: CORPUS_NOW,
        filename: base,
      });
      return problems.map((problem) => recorded(base, problem));
    }
    case "tests": {
      const { problems } = parseCaseFile(await Deno.readTextFile(url));
      return problems.map((problem) => recorded(base, problem));
    }
    case "directory":
      return await directoryProblems(entry.name, new URL(`${url.href}/`));
  }
}

async function directoryProblems(
  name: string,
  directory: URL,
): Promise<RecordedProblem[]> {
  const texts = new Map<string, string>();
  for (const file of await fileNames(directory)) {
    texts.set(file, await Deno.readTextFile(new URL(file, directory)));
  }
  const policy = new PolicyDirectory({
    env: CORPUS_ENV,
    now: () => CORPUS_NOW,
  });
  // `apply` sets aside test files and ignored names itself.
  await policy.apply(texts);
  const unreadable = UNREADABLE[name] ?? [];
  if (unreadable.length > 0) {
    await policy.apply(unreadable.map((file): [string, PolicyFileChange] => [
      file,
      { unreadable: "permission denied" },
    ]));
  }
  const problems: RecordedProblem[] = [];
  for (const report of policy.reports()) {
    for (const problem of report.problems) {
      // A directory's problems name their file themselves.
      problems.push(recorded(problem.file ?? "", problem));
    }
  }
  for (const [file, text] of texts) {
    const { kind, organizationId } = classifyPolicyFile(file);
    if (kind !== "test") continue;
    const cases = parseCaseFile(
      text,
      organizationId === undefined ? {} : { organizationId },
    );
    for (const problem of cases.problems) {
      problems.push(recorded(file, problem));
    }
  }
  return problems;
}

function recorded(file: string, problem: PolicyProblem): RecordedProblem {
  return [file, problem.line, problem.column, problem.code, problem.severity];
}

function codeOf(name: string): string {
  return name.slice(
    0,
    name.indexOf(".") === -1 ? undefined : name.indexOf("."),
  );
}

async function fileNames(directory: URL): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(directory)) {
    if (entry.isFile) names.push(entry.name);
  }
  return names.sort();
}

async function directoryNames(directory: URL): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(directory)) {
    if (entry.isDirectory) names.push(entry.name);
  }
  return names.sort();
}
