/**
 * Reads a policy for the command line: one file, or a policy directory
 * compiled file by file (`policy_directory.ts`). Only the CLI reads files;
 * the server watches them with `rpc/policy_directory_source.ts`.
 *
 * @module
 */

import { compileSpec } from "./compile.ts";
import {
  classifyPolicyFile,
  PolicyDirectory,
  type PolicyFileChange,
} from "./policy_directory.ts";
import { readPolicyFile } from "./policy_file_reader.ts";
import type { Evaluator, OrganizationSpec, PolicyProblem } from "./types.ts";
import { type EnvLookup, validatePolicy } from "./validate.ts";

/** A file or directory that cannot be read: the CLI's exit code 2. */
export class UnreadableFileError extends Error {
  /** Stable code. */
  readonly code = "unreadable-file";

  /** @param message Names the file and why, never its content. */
  constructor(message: string) {
    super(message);
    this.name = "UnreadableFileError";
  }
}

/** One file of a loaded policy, with its problems. */
export interface LoadedFile {
  /** The path to print: the file, or `DIR/name` in a directory. */
  readonly file: string;
  /** Whether it compiled. */
  readonly ok: boolean;
  /** Every problem, errors and warnings, in file order. */
  readonly problems: readonly PolicyProblem[];
  /** The organizations it defines, when it compiled. */
  readonly organizations: readonly OrganizationSpec[];
}

/** A policy file or directory, compiled as far as it goes. */
export interface LoadedPolicy {
  /** The path as given, without a trailing slash. */
  readonly path: string;
  /** Whether the path is a policy directory. */
  readonly directory: boolean;
  /** Every file read, in name order. */
  readonly files: readonly LoadedFile[];
  /**
   * The evaluator: for one file, only when it has no error; for a
   * directory, of every file that compiled, unless `_parley.yaml` failed.
   */
  readonly evaluator?: Evaluator;
}

/** Options of {@linkcode loadPolicy}. */
export interface LoadPolicyOptions {
  /** Environment for `{ env: NAME }` secrets. */
  readonly env: EnvLookup;
  /** Clock for `until-past` warnings. */
  readonly now?: number;
  /** In a directory, read only `_parley.yaml` and this organization's file. */
  readonly organizationId?: string;
}

/**
 * Reads a file's text, turning every failure into an {@linkcode UnreadableFileError}.
 *
 * @param file The path.
 * @returns The text.
 * @throws {UnreadableFileError} When it cannot be read.
 */
export async function readPolicyText(file: string): Promise<string> {
  try {
    return await Deno.readTextFile(file);
  } catch (error) {
    throw new UnreadableFileError(`Cannot read "${file}": ${reasonOf(error)}`);
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Deno.errors.NotFound
    ? "no such file"
    : error instanceof Deno.errors.IsADirectory
    ? "is a directory"
    : error instanceof Deno.errors.PermissionDenied ||
        error instanceof Deno.errors.NotCapable
    ? "permission denied"
    : "cannot be read";
}

/**
 * Whether a path is a directory.
 *
 * @param path The path.
 * @returns `true` for a directory, `false` for anything else that exists.
 * @throws {UnreadableFileError} When it does not exist or cannot be read.
 */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (error) {
    throw new UnreadableFileError(`Cannot read "${path}": ${reasonOf(error)}`);
  }
}

/**
 * Reads and compiles a policy file or directory.
 *
 * @param path A policy file or a policy directory.
 * @param options Environment, clock, and for a directory the one organization to read.
 * @returns Every file with its problems, and the evaluator when there is one.
 * @throws {UnreadableFileError} When the path, or a file in the directory, cannot be read.
 */
export async function loadPolicy(
  path: string,
  options: LoadPolicyOptions,
): Promise<LoadedPolicy> {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, "") : path;
  if (!await isDirectory(trimmed)) return await loadFile(trimmed, options);
  const directory = new PolicyDirectory({
    env: options.env,
    ...(options.now === undefined ? {} : { now: () => options.now! }),
  });
  const names = (await policyFileNames(trimmed)).filter((name) =>
    options.organizationId === undefined ||
    classifyPolicyFile(name).kind === "settings" ||
    classifyPolicyFile(name).organizationId === options.organizationId
  );
  const within = await Deno.realPath(trimmed);
  const changes: [string, PolicyFileChange][] = [];
  for (const name of names) {
    const file = `${trimmed}/${name}`;
    const read = await readPolicyFile(file, { within });
    if (read.kind === "text") changes.push([name, read.text]);
    else if (read.kind === "refused") {
      changes.push([name, { refused: read.refused }]);
    } else if (read.kind === "unreadable") {
      throw new UnreadableFileError(`Cannot read "${file}": ${read.reason}`);
    }
  }
  await directory.apply(changes);
  const evaluator = directory.evaluator;
  const files = directory.reports().map((report): LoadedFile => {
    const id = classifyPolicyFile(report.file).organizationId;
    const organization = report.ok && id !== undefined
      ? evaluator.organization(id)?.spec
      : undefined;
    return {
      file: `${trimmed}/${report.file}`,
      ok: report.ok,
      problems: report.problems,
      organizations: organization === undefined ? [] : [organization],
    };
  });
  return {
    path: trimmed,
    directory: true,
    files,
    ...(directory.settingsUnusable ? {} : { evaluator }),
  };
}

async function loadFile(
  file: string,
  options: LoadPolicyOptions,
): Promise<LoadedPolicy> {
  const read = await readPolicyFile(file);
  if (read.kind === "refused") {
    return {
      path: file,
      directory: false,
      files: [{
        file,
        ok: false,
        problems: [{
          ...read.refused,
          severity: "error",
          path: "",
          line: 1,
          column: 1,
        }],
        organizations: [],
      }],
    };
  }
  const text = read.kind === "text" ? read.text : await readPolicyText(file); // Says why it cannot be read.
  const { spec, problems } = validatePolicy(text, {
    env: options.env,
    filename: file,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const warnings = problems.filter((problem) => problem.severity === "warning");
  return {
    path: file,
    directory: false,
    files: [{
      file,
      ok: spec !== undefined,
      problems,
      organizations: spec === undefined ? [] : [...spec.organizations.values()],
    }],
    ...(spec === undefined
      ? {}
      : { evaluator: compileSpec(spec, { warnings }) }),
  };
}

/**
 * The names of a directory's policy files: `_parley.yaml`, organization
 * files and badly named ones; not test files, hidden or other files.
 *
 * @param directory The policy directory.
 * @returns The names, sorted.
 * @throws {UnreadableFileError} When the directory cannot be listed.
 */
export async function policyFileNames(directory: string): Promise<string[]> {
  return (await entryNames(directory)).filter((name) => {
    const { kind } = classifyPolicyFile(name);
    return kind !== "ignored" && kind !== "test";
  });
}

/**
 * The test files of a policy directory, `<organizationId>.test.yaml`.
 *
 * @param directory The policy directory.
 * @returns The names, sorted.
 * @throws {UnreadableFileError} When the directory cannot be listed.
 */
export async function testFileNames(directory: string): Promise<string[]> {
  return (await entryNames(directory)).filter((name) =>
    classifyPolicyFile(name).kind === "test"
  );
}

async function entryNames(directory: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(directory)) {
      if (!entry.isDirectory) names.push(entry.name);
    }
  } catch (error) {
    throw new UnreadableFileError(
      `Cannot read "${directory}": ${reasonOf(error)}`,
    );
  }
  return names.sort();
}
