/**
 * Reads one policy file from disk for the command line and the server,
 * refusing what no policy file may be before reading it whole:
 *
 * - larger than 1 MiB (`file-too-large`): its size is checked before the
 *   first byte is read, and at most one byte more than the bound is read, so
 *   a file that grows meanwhile is refused too;
 * - in a policy directory, a symlink (or a path through one) that leads out
 *   of the directory (`symlink-outside`): an organization's admins may write
 *   their file, and must not make the server read `/etc/…` or another
 *   directory's files as theirs. Links within the directory are followed.
 *   The file read is the resolved path, so a link swapped after the check
 *   is not followed out either.
 *
 * @module
 */

import { MAX_POLICY_FILE_BYTES } from "../policy/policy_budget.ts";
import type { PolicyFileRefusal } from "../policy/policy_directory.ts";
import type { PolicyProblem } from "../policy/types.ts";
import { readFailure } from "./read_failure.ts";

/** What reading a policy file found. */
export type PolicyFileRead =
  | {
    readonly kind: "text";
    readonly text: string;
    /** Modification time (epoch ms, `null` when unknown) and size when read. */
    readonly mtime: number | null;
    readonly size: number;
  }
  /** No such file, or not a file (a directory, a dangling link). */
  | { readonly kind: "missing" }
  | { readonly kind: "refused"; readonly refused: PolicyFileRefusal }
  /** Why it cannot be read, e.g. `permission denied`; never its content. */
  | { readonly kind: "unreadable"; readonly reason: string };

/** Options of {@linkcode readPolicyFile}. */
export interface ReadPolicyFileOptions {
  /**
   * The real path (`Deno.realPath`) of the policy directory the file must
   * stay in; absent for a single policy file, which its operator names.
   */
  readonly within?: string;
}

/**
 * Reads a policy file, bounded in size and, in a directory, confined to it.
 *
 * @param path The file.
 * @param options The directory it must stay in.
 * @returns Its text, or why there is none.
 */
export async function readPolicyFile(
  path: string,
  options: ReadPolicyFileOptions = {},
): Promise<PolicyFileRead> {
  let target = path;
  try {
    if (options.within !== undefined) {
      target = await Deno.realPath(path);
      if (!target.startsWith(`${options.within}/`)) {
        return {
          kind: "refused",
          refused: {
            code: "symlink-outside",
            message:
              "File is a symbolic link to a place outside the policy directory, which is not followed",
            hint:
              "Put the file itself in the policy directory, or link to a file inside it",
          },
        };
      }
    }
    using file = await Deno.open(target, { read: true });
    const info = await file.stat();
    if (!info.isFile) return { kind: "missing" };
    const tooLarge = {
      kind: "refused",
      refused: {
        code: "file-too-large",
        message:
          `File is larger than ${MAX_POLICY_FILE_BYTES} bytes (1 MiB), so it is not read`,
        hint:
          "Keep each policy file under 1 MiB; split many organizations into a policy directory",
      },
    } as const;
    if (info.size > MAX_POLICY_FILE_BYTES) return tooLarge;
    const bytes = await readAtMost(file, MAX_POLICY_FILE_BYTES + 1);
    if (bytes.length > MAX_POLICY_FILE_BYTES) return tooLarge;
    return {
      kind: "text",
      text: new TextDecoder().decode(bytes),
      mtime: info.mtime?.getTime() ?? null,
      size: info.size,
    };
  } catch (error) {
    if (
      error instanceof Deno.errors.NotFound ||
      error instanceof Deno.errors.NotADirectory
    ) {
      return { kind: "missing" };
    }
    return { kind: "unreadable", reason: readFailure(error) };
  }
}

/** Reads up to `limit` bytes, fewer at the end of the file. */
async function readAtMost(
  file: Deno.FsFile,
  limit: number,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  while (length < limit) {
    const chunk = new Uint8Array(Math.min(65_536, limit - length));
    const read = await file.read(chunk);
    if (read === null) break;
    chunks.push(chunk.subarray(0, read));
    length += read;
  }
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

/**
 * The problem a refused file gets when it is read alone (a directory's
 * `PolicyDirectory` makes its own, naming the file).
 *
 * @param refused Why the reader refused the file.
 * @returns An error at the top of the file.
 */
export function refusalProblem(refused: PolicyFileRefusal): PolicyProblem {
  return { ...refused, severity: "error", path: "", line: 1, column: 1 };
}
