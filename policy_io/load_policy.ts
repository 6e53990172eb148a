/**
 * Reads and compiles a whole policy in this thread, for the command line:
 * one file, or a policy directory compiled file by file
 * (`policy/policy_directory.ts`). The server reads the same files through
 * the same readers, but keeps them current and validates in a worker
 * (`policy_source/policy_directory_source.ts`, `policy_source/policy_file_source.ts`).
 *
 * Whatever cannot be read is an {@linkcode UnreadableFileError}; whatever
 * the readers refuse (`file-too-large`, `symlink-outside`) is a problem of
 * its file.
 *
 * @module
 */

import { compileSpec } from "../policy/compile.ts";
import {
  classifyPolicyFile,
  PolicyDirectory,
  type PolicyFileChange,
} from "../policy/policy_directory.ts";
import type {
  Evaluator,
  OrganizationSpec,
  PolicyProblem,
} from "../policy/types.ts";
import { type EnvLookup, validatePolicy } from "../policy/validate.ts";
import {
  directoryPath,
  PolicyDirectoryReader,
} from "./policy_directory_reader.ts";
import { readPolicyFile, refusalProblem } from "./policy_file_reader.ts";
import { readFailure, UnreadableFileError } from "./read_failure.ts";

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
 * Reads a file's whole text (a policy test file), turning every failure
 * into an {@linkcode UnreadableFileError}.
 *
 * @param file The path.
 * @returns The text.
 * @throws {UnreadableFileError} When it cannot be read.
 */
export async function readPolicyText(file: string): Promise<string> {
  try {
    return await Deno.readTextFile(file);
  } catch (error) {
    throw UnreadableFileError.of(file, readFailure(error));
  }
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
    throw UnreadableFileError.of(path, readFailure(error));
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
  const trimmed = directoryPath(path);
  if (!await isDirectory(trimmed)) return await loadFile(trimmed, options);
  const { reader, names: listed } = await openDirectory(trimmed);
  const directory = new PolicyDirectory({
    env: options.env,
    ...(options.now === undefined ? {} : { now: () => options.now! }),
  });
  const names = listed.filter((name) =>
    options.organizationId === undefined ||
    classifyPolicyFile(name).kind === "settings" ||
    classifyPolicyFile(name).organizationId === options.organizationId
  );
  const changes: [string, PolicyFileChange][] = [];
  for (const name of names) {
    const read = await reader.read(name);
    if (read.kind === "text") changes.push([name, read.text]);
    else if (read.kind === "refused") {
      changes.push([name, { refused: read.refused }]);
    } else if (read.kind === "unreadable") {
      throw UnreadableFileError.of(`${trimmed}/${name}`, read.reason);
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

/** The directory's reader and its policy files' names. */
async function openDirectory(
  path: string,
): Promise<{ reader: PolicyDirectoryReader; names: string[] }> {
  try {
    const reader = await PolicyDirectoryReader.open(path);
    return { reader, names: await reader.policyFileNames() };
  } catch (error) {
    throw UnreadableFileError.of(path, readFailure(error));
  }
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
        problems: [refusalProblem(read.refused)],
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
