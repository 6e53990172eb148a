import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import type { PolicyProblem } from "../policy/types.ts";
import {
  escapeLogText,
  problemLogLines,
  PROBLEMS_SHOWN_PER_CODE,
} from "./policy_log_lines.ts";

const ESCAPES: ReadonlyArray<readonly [string, string, string]> = [
  ["a plain name", "policy.d/acme.yaml", "policy.d/acme.yaml"],
  ["a terminal colour", "\x1b[31macme.yaml", "\\x1b[31macme.yaml"],
  [
    "a window title (OSC … BEL)",
    "\x1b]0;owned\x07.yaml",
    "\\x1b]0;owned\\x07.yaml",
  ],
  [
    "a newline forging a line",
    "a.yaml\npolicy: reloaded",
    "a.yaml\\x0apolicy: reloaded",
  ],
  ["a carriage return", "a\r.yaml", "a\\x0d.yaml"],
  ["a C1 control (CSI)", "a\u009b31m.yaml", "a\\x9b31m.yaml"],
  ["a right-to-left override", "a\u202eylmay.yaml", "a\\u202eylmay.yaml"],
  ["a backslash", "a\\x1b.yaml", "a\\\\x1b.yaml"],
  ["DEL", "a\x7f.yaml", "a\\x7f.yaml"],
  ["letters of other scripts", "ünïcødé-組織.yaml", "ünïcødé-組織.yaml"],
];

for (const [name, text, expected] of ESCAPES) {
  Deno.test(`escapeLogText() writes ${name} as ${JSON.stringify(expected)}`, () => {
    strictEqual(escapeLogText(text), expected);
  });
}

function problem(code: string, line: number, message = "Bad"): PolicyProblem {
  return { code, severity: "error", path: "", line, column: 1, message };
}

Deno.test("problemLogLines() folds 200,000 unknown keys into a few lines", () => {
  const problems = [
    problem("unknown-version", 1),
    ...Array.from(
      { length: 200_000 },
      (_, i) => problem("unknown-key", i + 2, `Unknown key "k${i}"`),
    ),
  ];
  const lines = problemLogLines("policy.d/beta.yaml", problems);
  strictEqual(lines.length, 1 + PROBLEMS_SHOWN_PER_CODE + 1);
  strictEqual(lines[1], 'policy.d/beta.yaml:2:1 unknown-key Unknown key "k0"');
  strictEqual(
    lines.at(-1),
    "policy.d/beta.yaml: … and 199,995 more unknown-key problems",
  );
});

Deno.test("problemLogLines() prints a few problems of each code in full, with hints", () => {
  deepStrictEqual(
    problemLogLines("a.yaml", [
      { ...problem("bad-enum", 3), hint: "Allowed: a, b" },
      problem("unknown-key", 4),
    ]),
    ["a.yaml:3:1 bad-enum Bad (Allowed: a, b)", "a.yaml:4:1 unknown-key Bad"],
  );
});

Deno.test("problemLogLines() escapes the file name and what a message quotes from the file", () => {
  const lines = problemLogLines("policy.d/\x1b[2Jbeta.yaml", [
    problem("unknown-key", 2, 'Unknown key "\x1b]0;x\x07"'),
  ]);
  // deno-lint-ignore no-control-regex -- no control character may remain
  const control = /[\x00-\x1f\x7f-\x9f]/;
  ok(lines.every((line) => !control.test(line)), lines.join());
  strictEqual(
    lines[0],
    'policy.d/\\x1b[2Jbeta.yaml:2:1 unknown-key Unknown key "\\x1b]0;x\\x07"',
  );
});

Deno.test("problemLogLines() counts the problems a worker already left out", () => {
  deepStrictEqual(
    problemLogLines(
      "b.yaml",
      Array.from({ length: 100 }, (_, i) => problem("unknown-key", i + 2)),
      { "unknown-key": 79_900, "bad-enum": 1 },
    ).slice(PROBLEMS_SHOWN_PER_CODE),
    [
      "b.yaml: … and 79,995 more unknown-key problems",
      "b.yaml: … and 1 more bad-enum problems",
    ],
  );
});
