/**
 * A command's arguments, and what is wrong with them: a
 * {@linkcode UsageError}, which the command line prints with the command's
 * usage and exit code 2. Nothing else is bad usage: any other exception is a
 * bug, reported as one.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";

/** Bad command-line use: printed with the usage, exit code 2. */
export class UsageError extends Error {
  /** Stable code. */
  readonly code = "usage";

  /** @param message What is wrong, naming the argument or option. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The options a command takes, as `node:util`'s `parseArgs` describes them. */
export type CommandOptions = NonNullable<ParseArgsConfig["options"]>;

/** What `parseArgs` returns for these options and positionals. */
type Parsed<T extends CommandOptions> = ReturnType<
  typeof parseArgs<{ options: T; allowPositionals: true; strict: true }>
>;

/**
 * Reads a command's options and positionals, strictly: an unknown option,
 * a missing value or a value given to a flag is a {@linkcode UsageError}.
 *
 * @param args The arguments after the command's name.
 * @param options The options the command takes.
 * @returns The options' values and the positionals.
 * @throws {UsageError} When the arguments do not fit the options.
 */
export function parseArguments<T extends CommandOptions>(
  args: readonly string[],
  options: T,
): Parsed<T> {
  try {
    return parseArgs({
      args: [...args],
      options,
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    // parseArgs says what is wrong with a TypeError whose code names it.
    if (isParseArgsError(error)) throw new UsageError(error.message);
    throw error;
  }
}

function isParseArgsError(error: unknown): error is Error {
  return error instanceof Error && "code" in error &&
    typeof error.code === "string" && error.code.startsWith("ERR_PARSE_ARGS_");
}

/**
 * An option that must be given, and not empty.
 *
 * @param value The option's value.
 * @param flag The option's name, without dashes.
 * @returns The value.
 * @throws {UsageError} When it is missing or empty.
 */
export function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === "") {
    throw new UsageError(`Option "--${flag}" is required`);
  }
  return value;
}

/** The option every command about one organization takes. */
const ORGANIZATION_OPTION = { org: { type: "string" } } as const;

/** The arguments of a command about one organization of one policy. */
export interface OrganizationArguments<T extends CommandOptions> {
  /** The one policy file or directory. */
  readonly path: string;
  /** `--org`. */
  readonly organizationId: string;
  /** The options' values, `--org`'s among them. */
  readonly values: Parsed<T & typeof ORGANIZATION_OPTION>["values"];
}

/**
 * Reads the arguments of a command about one organization of one policy:
 * `POLICY --org ID`, then the command's own options.
 *
 * @param args The arguments after the command's name.
 * @param options The command's own options, besides `--org`.
 * @returns The policy's path, the organization and the options' values.
 * @throws {UsageError} When the arguments do not fit the options, there is
 *   not exactly one policy, or `--org` is missing.
 */
export function organizationArguments<T extends CommandOptions>(
  args: readonly string[],
  options: T,
): OrganizationArguments<T> {
  const { values, positionals } = parseArguments(args, {
    ...options,
    ...ORGANIZATION_OPTION,
  });
  if (positionals.length !== 1) {
    throw new UsageError("Give exactly one policy file or directory");
  }
  // parseArgs' type of the values stays unresolved for a generic T.
  const { org } = values as { readonly org?: string };
  return {
    path: positionals[0]!,
    organizationId: required(org, "org"),
    values,
  };
}
