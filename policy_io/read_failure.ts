/**
 * Why a policy file or directory cannot be read, in the words the command
 * line and the server's log both use, and the error the command line stops
 * on (its exit code 2).
 *
 * The words never hold a path or any of the file's content: the server
 * writes them to its log and, as `unreadable-directory (…)`, to `/healthz`.
 *
 * @module
 */

/**
 * Why a file operation failed.
 *
 * @param error What the operation threw.
 * @returns `no such file`, `is a directory`, `permission denied` or `read error`.
 */
export function readFailure(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.IsADirectory) return "is a directory";
  if (
    error instanceof Deno.errors.PermissionDenied ||
    error instanceof Deno.errors.NotCapable
  ) {
    return "permission denied";
  }
  return "read error";
}

/** A policy file or directory that cannot be read: the command line's exit code 2. */
export class UnreadableFileError extends Error {
  /** Stable code. */
  readonly code = "unreadable-file";

  /** @param message Names the file and why, never its content. */
  constructor(message: string) {
    super(message);
    this.name = "UnreadableFileError";
  }

  /**
   * The error for a path that could not be read.
   *
   * @param path The file or directory.
   * @param reason Why, as {@linkcode readFailure} says it.
   * @returns `Cannot read "PATH": REASON`.
   */
  static of(path: string, reason: string): UnreadableFileError {
    return new UnreadableFileError(`Cannot read "${path}": ${reason}`);
  }
}
