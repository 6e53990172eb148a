/**
 * Which policy a policy test file tests: `X.test.yaml` (or `.test.yml`)
 * tests `X.yaml` (or `.yml`, `.json`) beside it, and a policy directory's
 * `<organizationId>.test.yaml` tests that organization of the directory.
 * `deno task policy test` takes any of them: a test file, a policy file or a
 * directory.
 *
 * @module
 */

import { classifyPolicyFile } from "../policy/policy_directory.ts";
import { directoryPath, testFileNames } from "./policy_directory_reader.ts";
import { isDirectory } from "./load_policy.ts";
import { readFailure, UnreadableFileError } from "./read_failure.ts";

/** One test file, and the policy its cases run against. */
export interface TestFilePair {
  /** The test file. */
  readonly file: string;
  /** The policy file or directory it tests. */
  readonly policy: string;
  /** A directory's test file tests one organization, named by the file. */
  readonly organizationId?: string;
}

/**
 * The test files a path names, each with its policy.
 *
 * @param path A test file, a policy file, or a policy directory.
 * @returns One pair per test file: a directory's every test file, in name order.
 * @throws {UnreadableFileError} When the path cannot be read, or its test file or policy is not beside it.
 */
export async function pairTestFiles(path: string): Promise<TestFilePair[]> {
  if (await isDirectory(path)) {
    const directory = directoryPath(path);
    let names: string[];
    try {
      names = await testFileNames(directory);
    } catch (error) {
      throw UnreadableFileError.of(directory, readFailure(error));
    }
    return names.map((name) => ({
      file: `${directory}/${name}`,
      policy: directory,
      organizationId: classifyPolicyFile(name).organizationId!,
    }));
  }
  const test = /\.test\.ya?ml$/.exec(path);
  if (test !== null) {
    const stem = path.slice(0, test.index);
    for (const extension of [".yaml", ".yml", ".json"]) {
      if (await isFile(stem + extension)) {
        return [{ file: path, policy: stem + extension }];
      }
    }
    throw new UnreadableFileError(
      `Cannot read the policy of "${path}": no ${stem}.yaml beside it`,
    );
  }
  const policy = /\.(?:ya?ml|json)$/.exec(path);
  const stem = policy === null ? path : path.slice(0, policy.index);
  for (const extension of [".test.yaml", ".test.yml"]) {
    if (await isFile(stem + extension)) {
      return [{ file: stem + extension, policy: path }];
    }
  }
  throw new UnreadableFileError(
    `Cannot read the tests of "${path}": no ${stem}.test.yaml beside it`,
  );
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}
