import assert from "node:assert/strict";
import { UnreadableFileError } from "../policy_io/read_failure.ts";
import { UsageError } from "./arguments.ts";
import { type Command, type CommandLine, runCommandLine } from "./dispatch.ts";

const USAGE = "Usage: probe run|fail";
const RUN_USAGE = "Usage: probe run [--json]";

/** A command line whose one command throws what a row gives it. */
function lineThrowing(error: unknown): CommandLine {
  const command: Command = {
    run: () => {
      throw error;
    },
    usage: RUN_USAGE,
  };
  return { usage: USAGE, commands: new Map([["run", command]]) };
}

Deno.test("runCommandLine() returns the command's own exit code and no message", async () => {
  const line: CommandLine = {
    usage: USAGE,
    commands: new Map([["run", { run: () => 1, usage: RUN_USAGE }]]),
  };
  assert.deepEqual(await runCommandLine(line, ["run"]), { code: 1 });
});

Deno.test("runCommandLine() hands the command the arguments after its name", async () => {
  let seen: readonly string[] = [];
  const line: CommandLine = {
    usage: USAGE,
    commands: new Map([["run", {
      run: (args) => {
        seen = args;
        return Promise.resolve(0);
      },
      usage: RUN_USAGE,
    }]]),
  };
  await runCommandLine(line, ["run", "a.yaml", "--json"]);
  assert.deepEqual(seen, ["a.yaml", "--json"]);
});

const EXITS: ReadonlyArray<
  readonly [string, readonly string[], unknown, number, RegExp]
> = [
  [
    "answers no command with the whole usage",
    [],
    undefined,
    2,
    /^No command given\n\nUsage: probe run\|fail$/,
  ],
  [
    "answers an unknown command with the whole usage",
    ["lint"],
    undefined,
    2,
    /^Unknown command "lint"\n\nUsage: probe run\|fail$/,
  ],
  [
    "takes no prototype key for a command",
    ["constructor"],
    undefined,
    2,
    /^Unknown command "constructor"/,
  ],
  [
    "prints a usage error with the command's usage",
    ["run"],
    new UsageError("No policy file given"),
    2,
    /^No policy file given\n\nUsage: probe run \[--json\]$/,
  ],
  [
    "prints an unreadable file's message alone",
    ["run"],
    new UnreadableFileError('Cannot read "x.yaml": no such file'),
    2,
    /^Cannot read "x\.yaml": no such file$/,
  ],
  [
    "reports a TypeError as a bug, not as bad usage",
    ["run"],
    new TypeError("Cannot read properties of undefined (reading 'id')"),
    2,
    /^Unexpected error: Cannot read properties of undefined \(reading 'id'\)$/,
  ],
  [
    "reports a bug in one line",
    ["run"],
    new Error("first\n    at line two"),
    2,
    /^Unexpected error: first at line two$/,
  ],
  [
    "reports a thrown non-error as a bug too",
    ["run"],
    "a string",
    2,
    /^Unexpected error: a string$/,
  ],
];

for (const [name, args, thrown, code, message] of EXITS) {
  Deno.test(`runCommandLine() ${name}, exit ${code}`, async () => {
    const exit = await runCommandLine(lineThrowing(thrown), args);
    assert.equal(exit.code, code);
    assert.match(exit.message ?? "", message);
  });
}

Deno.test("runCommandLine() never prints the usage for a bug", async () => {
  const exit = await runCommandLine(lineThrowing(new TypeError("x")), ["run"]);
  assert.ok(!exit.message?.includes("Usage"), exit.message);
});
