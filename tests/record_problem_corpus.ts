/**
 * Records `policy/testdata/problems.expected.json` from the validator as
 * it is now.
 *
 * Run by hand, and only when a change to the expectations is intended (a new
 * corpus entry, a new problem code): the point of the corpus is that a
 * rewrite of the validator reports what the validator reported before it.
 * Review the diff of the JSON file before committing it.
 *
 *     deno run --allow-read=policy/testdata --allow-env=LOG_TOKENS,LOG_STREAM \
 *       --allow-write=policy/testdata/problems.expected.json \
 *       tests/record_problem_corpus.ts
 *     deno fmt policy/testdata/problems.expected.json
 *
 * It writes only that file, under policy/testdata/. The corpus test never
 * writes.
 *
 * @module
 */

import { corpusEntries, problemsOf } from "./problem_corpus.ts";

const target = new URL(
  "../policy/testdata/problems.expected.json",
  import.meta.url,
);
const entries = await corpusEntries();
const lines: string[] = [];
for (const entry of entries) {
  // One problem a line, so a changed expectation reads as a one-line diff.
  const problems = (await problemsOf(entry)).map((problem) =>
    `    [${problem.map((value) => JSON.stringify(value)).join(", ")}]`
  );
  lines.push(
    problems.length === 0
      ? `  ${JSON.stringify(entry.name)}: []`
      : `  ${JSON.stringify(entry.name)}: [\n${problems.join(",\n")}\n  ]`,
  );
}
await Deno.writeTextFile(target, `{\n${lines.join(",\n")}\n}\n`);
console.log(`Recorded ${entries.length} entries in ${target}`);
