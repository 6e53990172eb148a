/**
 * `deno task policy …`: the policy command line. Each command is one file
 * beside this one, named in the table below; `policy/` does the work and
 * `policy_io/` reads the files.
 *
 * Exit codes: 0 success (for `explain`: the request is allowed), 1 a verdict
 * against (the policy has errors; `explain`: the request is refused; `test`:
 * a case failed; `report`: the server refused), 2 the command could not run
 * (bad usage, an unreadable file, no server, or a bug). Never prints a stack
 * trace, a secret (but the one `secret` makes) or a token's key.
 *
 * @module
 */

import { check } from "./check.ts";
import { type Command, type CommandLine, runCommandLine } from "./dispatch.ts";
import { explain } from "./explain.ts";
import { report, REPORT_USAGE } from "./report.ts";
import { secret } from "./secret.ts";
import { test } from "./test.ts";
import { token } from "./token.ts";

const USAGE = `Usage (POLICY is a policy file or a policy directory):
  deno task policy check POLICY... [--allow-missing-env] [--json]
  deno task policy explain POLICY --org ID [--origin URL] [--token JWT]
                           [--user-id U] [--app-id A] [--method M]
                           [--language TAG] [--json]
  deno task policy token POLICY --org ID --sub U --origin URL [--kid K]
                         [--ttl 10m] [--user-data JSON]
  deno task policy test FILE...|DIR [--json]
  deno task policy secret [--org ID] [--id 2026-12] [--env NAME]
  PARLEY_ADMIN_KEY=… deno task policy report --url URL --org ID [--hours N] [--json]

Exit codes: 0 ok or allowed, 1 policy errors, refused or failed cases, 2 bad usage or unreadable file`;

const HELP: Command = {
  run: () => {
    console.log(USAGE);
    return 0;
  },
  usage: USAGE,
};

/** The commands, by name. */
const POLICY_COMMAND_LINE: CommandLine = {
  usage: USAGE,
  commands: new Map<string, Command>([
    ["check", { run: check, usage: USAGE }],
    ["explain", { run: explain, usage: USAGE }],
    ["token", { run: token, usage: USAGE }],
    ["test", { run: test, usage: USAGE }],
    ["secret", { run: secret, usage: USAGE }],
    ["report", { run: report, usage: REPORT_USAGE }],
    ["help", HELP],
    ["--help", HELP],
    ["-h", HELP],
  ]),
};

/**
 * Runs the policy command line.
 *
 * @param args The arguments after the script name.
 * @returns The process exit code.
 */
export async function main(args: readonly string[]): Promise<number> {
  const exit = await runCommandLine(POLICY_COMMAND_LINE, args);
  if (exit.message !== undefined) console.error(exit.message);
  return exit.code;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
