/**
 * How a command line runs: the first argument names the command, the rest
 * are its arguments, and what it throws decides the exit:
 *
 * - a {@linkcode UsageError}: its message and the command's usage, exit 2;
 * - an {@linkcode UnreadableFileError}: its message, exit 2;
 * - anything else is a bug: one line, `Unexpected error: …`, exit 2 — never
 *   the usage (the user did nothing wrong) and never exit 1, which means a
 *   verdict (policy errors, a refused request, a failed case).
 *
 * @module
 */

import { UnreadableFileError } from "../policy_io/read_failure.ts";
import { UsageError } from "./arguments.ts";

/** One command. */
export interface Command {
  /** Runs it with the arguments after its name; returns the exit code. */
  readonly run: (args: readonly string[]) => number | Promise<number>;
  /** Printed after its bad-usage messages. */
  readonly usage: string;
}

/** A command line: its commands by name, and the usage of the whole. */
export interface CommandLine {
  readonly commands: ReadonlyMap<string, Command>;
  /** Printed when no command, or an unknown one, is given. */
  readonly usage: string;
}

/** How a run ended: its exit code, and the message for stderr, if any. */
export interface Exit {
  readonly code: number;
  readonly message?: string;
}

/** The exit code of bad usage, an unreadable file, and a bug. */
const CANNOT_RUN = 2;

/**
 * Runs the command the arguments name.
 *
 * @param line The commands.
 * @param args The process's arguments: the command's name, then its own.
 * @returns How it ended; the command printed its own output meanwhile.
 */
export async function runCommandLine(
  line: CommandLine,
  args: readonly string[],
): Promise<Exit> {
  const [name, ...rest] = args;
  const command = name === undefined ? undefined : line.commands.get(name);
  if (command === undefined) {
    const why = name === undefined
      ? "No command given"
      : `Unknown command "${name}"`;
    return { code: CANNOT_RUN, message: `${why}\n\n${line.usage}` };
  }
  try {
    return { code: await command.run(rest) };
  } catch (error) {
    if (error instanceof UsageError) {
      return {
        code: CANNOT_RUN,
        message: `${error.message}\n\n${command.usage}`,
      };
    }
    if (error instanceof UnreadableFileError) {
      return { code: CANNOT_RUN, message: error.message };
    }
    return { code: CANNOT_RUN, message: `Unexpected error: ${oneLine(error)}` };
  }
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s*\n\s*/g, " ").trim();
}
