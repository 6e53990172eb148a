/**
 * What hostile policy files cost to parse and validate, and what a wrong
 * admin key costs to refuse: this tree against another checkout
 * (`--compare DIR`, e.g. `git archive main | tar -x -C DIR`), each case in
 * a fresh process of its own so memory figures do not mix.
 *
 *   deno run -A bench/hostile_policy_files.ts [--compare DIR] [--only TEXT]
 *
 * (`--only` runs the cases whose name holds TEXT, e.g. `--only "admin keys"`.)
 *
 * Time is wall time of one `validatePolicy` (parse included); memory is the
 * growth of the process's resident set over it. Cases that the review
 * measured before (16,000 aliases, an 8 MB padded billion laughs) take tens
 * of seconds on the old tree.
 *
 * @module
 */

import { benchFlags } from "./bench_flags.ts";

interface Case {
  readonly name: string;
  /** The policy text. */
  readonly text: () => string;
  /** Environment for its secrets. */
  readonly env?: () => Record<string, string>;
  /** Wrong admin keys to refuse after compiling, timing each. */
  readonly wrongKeys?: number;
}

const CASES: readonly Case[] = [
  { name: "2,000 aliases", text: () => aliases(2_000) },
  { name: "16,000 aliases", text: () => aliases(16_000) },
  {
    name: "billion laughs + 1 MB comment",
    text: () => billionLaughs(1_000_000),
  },
  {
    name: "billion laughs + 8 MB comment",
    text: () => billionLaughs(8_000_000),
  },
  ...[1, 1_000, 50_000].map((count): Case => ({
    name: `${count.toLocaleString("en-US")} admin keys, wrong key`,
    text: () => adminKeys(count),
    env: () => adminKeyEnv(count),
    // The old tree compares every key: 50,000 take milliseconds each.
    wrongKeys: count > 1_000 ? 40 : 20_000,
  })),
];

function aliases(count: number): string {
  return `version: 1\norganizations:\n  beta:\n    name: &n Beta\n    appIds: [${
    Array(count).fill("*n").join(", ")
  }]\n`;
}

function billionLaughs(padding: number): string {
  const lines = ["version: 1", "a: &a [x, x, x, x, x, x, x, x, x, x]"];
  for (let level = 1; level < 9; level++) {
    const previous = String.fromCharCode(96 + level);
    const name = String.fromCharCode(97 + level);
    lines.push(
      `${name}: &${name} [${Array(10).fill(`*${previous}`).join(", ")}]`,
    );
  }
  lines.push(`# ${"x".repeat(padding)}`);
  return `${lines.join("\n")}\n`;
}

function adminKeys(count: number): string {
  return `version: 1\norganizations:\n  acme:\n    domains: { mode: "off" }\n    admin:\n      keys:\n${
    Array.from(
      { length: count },
      (_, i) => `        - { id: k${i}, secret: { env: KEY_${i} } }`,
    ).join("\n")
  }\n`;
}

function adminKeyEnv(count: number): Record<string, string> {
  return Object.fromEntries(
    Array.from(
      { length: count },
      (_, i) => [`KEY_${i}`, `admin-key-${i}-0123456789abcdef0123456789ab`],
    ),
  );
}

interface Measurement {
  readonly ms: number;
  readonly rssMb: number;
  readonly codes: string;
  /** Microseconds per wrong admin key, when the case has any. */
  readonly wrongKeyUs?: number;
}

/** Runs one case against one checkout's policy code, in this process. */
async function measure(root: string, item: Case): Promise<Measurement> {
  const { validatePolicy } = await import(`${root}/policy/validate.ts`);
  const { compileSpec } = await import(`${root}/policy/compile.ts`);
  const text = item.text();
  const env = item.env?.() ?? {};
  const rss = Deno.memoryUsage().rss;
  const started = performance.now();
  const { spec, problems } = validatePolicy(text, { env });
  const ms = performance.now() - started;
  const rssMb = (Deno.memoryUsage().rss - rss) / 1_048_576;
  const codes = [
    ...new Set(
      (problems as { code: string; severity: string }[])
        .filter((problem) => problem.severity === "error")
        .map((problem) => problem.code),
    ),
  ].join(",") || "ok";
  if (item.wrongKeys === undefined || spec === undefined) {
    return { ms, rssMb, codes };
  }
  const evaluator = compileSpec(spec);
  const wrong = "wrong-key-0123456789abcdef0123456789abcdef";
  const keyStarted = performance.now();
  for (let i = 0; i < item.wrongKeys; i++) {
    if (evaluator.verifyAdminKey("acme", wrong)) throw new Error("Accepted");
  }
  const wrongKeyUs = (performance.now() - keyStarted) * 1000 / item.wrongKeys;
  return { ms, rssMb, codes, wrongKeyUs };
}

/** Runs one case in a fresh process, so resident memory is its own. */
async function measureApart(root: string, name: string): Promise<Measurement> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--config",
      new URL("../deno.json", import.meta.url).pathname,
      new URL(import.meta.url).pathname,
      "--child",
      root,
      "--case",
      name,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error(`${name} failed in ${root}`);
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

const flags = benchFlags({
  compare: undefined,
  only: undefined,
  child: undefined,
  case: undefined,
});

if (flags.child !== undefined) {
  const item = CASES.find((candidate) => candidate.name === flags.case);
  if (item === undefined) throw new Error(`No case ${flags.case}`);
  console.log(JSON.stringify(await measure(flags.child, item)));
} else {
  const here = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const before = flags.compare === undefined
    ? undefined
    : Deno.realPathSync(flags.compare).replace(/\/$/, "");
  const only = flags.only;
  const rows: string[][] = [];
  const show = (measurement: Measurement) =>
    `${measurement.ms.toFixed(0)} ms, +${measurement.rssMb.toFixed(0)} MB${
      measurement.wrongKeyUs === undefined
        ? ""
        : `, ${measurement.wrongKeyUs.toFixed(1)} µs/key`
    } (${measurement.codes})`;
  for (const item of CASES) {
    if (only !== undefined && !item.name.includes(only)) continue;
    const now = await measureApart(here, item.name);
    const then = before === undefined
      ? undefined
      : await measureApart(before, item.name);
    rows.push([
      item.name,
      show(now),
      then === undefined ? "-" : show(then),
      then === undefined ? "-" : `${(now.ms / then.ms).toFixed(3)}×`,
    ]);
  }
  console.log("| case | this tree | before | validate time vs before |");
  console.log("| --- | --- | --- | ---: |");
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
}
