/**
 * A policy directory on disk, for the command line and the server alike:
 * which of its names are policy files and which are tests (the names mean
 * what `classifyPolicyFile` says), and each file read through
 * `readPolicyFile`, bounded and confined to the directory's real path.
 *
 * Subdirectories are never listed; hidden files, other extensions and test
 * files are not policy files. Errors of the directory itself (gone,
 * unreadable) are thrown as the runtime throws them: the command line turns
 * them into its exit code, the server into a kept revision.
 *
 * @module
 */

import { classifyPolicyFile } from "../policy/policy_directory.ts";
import { type PolicyFileRead, readPolicyFile } from "./policy_file_reader.ts";
import { readFailure } from "./read_failure.ts";

/** What a file looked like when it was last seen: to tell whether it changed. */
export interface FileStamp {
  /** Modification time, epoch milliseconds; `null` when the system has none. */
  readonly mtime: number | null;
  readonly size: number;
}

/**
 * Whether a name of a policy directory is compiled as part of it: the
 * settings, organization files, and names the directory refuses (reserved,
 * not an organization id), but not tests, hidden files or other extensions.
 *
 * @param name A file name in the directory.
 * @returns `true` for a file the policy is made of.
 */
export function isPolicyFileName(name: string): boolean {
  const { kind } = classifyPolicyFile(name);
  return kind !== "ignored" && kind !== "test";
}

/**
 * A directory path as policies name it: without trailing slashes.
 *
 * @param path A directory path.
 * @returns The path without trailing slashes; `/` stays `/`.
 */
export function directoryPath(path: string): string {
  return path.replace(/\/+$/, "") || "/";
}

/**
 * The names of a directory's policy files ({@linkcode isPolicyFileName}).
 *
 * @param directory The policy directory.
 * @returns The names, sorted.
 * @throws {Deno.errors.NotFound} When the directory does not exist; any other listing error as thrown.
 */
export async function policyFileNames(directory: string): Promise<string[]> {
  return (await fileNames(directory)).filter(isPolicyFileName);
}

/**
 * The test files of a policy directory, `<organizationId>.test.yaml`.
 *
 * @param directory The policy directory.
 * @returns The names, sorted.
 * @throws {Deno.errors.NotFound} When the directory does not exist; any other listing error as thrown.
 */
export async function testFileNames(directory: string): Promise<string[]> {
  return (await fileNames(directory)).filter((name) =>
    classifyPolicyFile(name).kind === "test"
  );
}

async function fileNames(directory: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(directory)) {
    if (!entry.isDirectory) names.push(entry.name);
  }
  return names.sort();
}

/** A policy directory whose files are read confined to it. */
export class PolicyDirectoryReader {
  /** The directory as given, without trailing slashes. */
  readonly path: string;
  /** Its real path: every file read must resolve inside it. */
  readonly #within: string;

  private constructor(path: string, within: string) {
    this.path = path;
    this.#within = within;
  }

  /**
   * Resolves the directory's real path, which its files must stay in.
   *
   * @param path The policy directory.
   * @returns The reader.
   * @throws {Deno.errors.NotFound} When the directory does not exist.
   */
  static async open(path: string): Promise<PolicyDirectoryReader> {
    const trimmed = directoryPath(path);
    return new PolicyDirectoryReader(trimmed, await Deno.realPath(trimmed));
  }

  /**
   * The names of the directory's policy files, sorted.
   *
   * @returns The names.
   * @throws {Deno.errors.NotFound} When the directory is gone.
   */
  policyFileNames(): Promise<string[]> {
    return policyFileNames(this.path);
  }

  /**
   * Reads one file of the directory, bounded and confined to it.
   *
   * @param name The file's name in the directory.
   * @returns Its text, or why there is none.
   */
  read(name: string): Promise<PolicyFileRead> {
    return readPolicyFile(`${this.path}/${name}`, { within: this.#within });
  }

  /**
   * What a file looks like now, without reading it.
   *
   * @param name The file's name in the directory.
   * @returns Its stamp; `missing` for no file (or a directory, or a dangling link); why it cannot be looked at.
   */
  async stamp(
    name: string,
  ): Promise<FileStamp | "missing" | { readonly unreadable: string }> {
    try {
      const info = await Deno.stat(`${this.path}/${name}`);
      if (!info.isFile) return "missing";
      return { mtime: info.mtime?.getTime() ?? null, size: info.size };
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return "missing";
      return { unreadable: readFailure(error) };
    }
  }
}
