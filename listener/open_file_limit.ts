/**
 * The process's soft open-file limit (`RLIMIT_NOFILE`), read from
 * `/proc/self/limits`, and the start-up warning when it is low: every
 * connection takes a descriptor, so a low limit is the first thing a flood
 * of idle connections exhausts. Deno lifts its soft limit to the hard one at
 * start, so the value read here is the limit in force, and raising it means
 * raising the hard limit (which `ulimit -n` and `LimitNOFILE=` both do).
 *
 * @module
 */

/** Below this soft limit the server warns at start. */
export const MIN_OPEN_FILES = 8_192;

/** The limit the warning recommends. */
const RECOMMENDED_OPEN_FILES = 65_536;

/**
 * The soft "Max open files" of a `/proc/<pid>/limits` text.
 *
 * @param limits The file's text.
 * @returns The soft limit, or `undefined` when it is `unlimited` or the line
 * is missing.
 */
export function parseSoftOpenFileLimit(limits: string): number | undefined {
  const line = limits.split("\n").find((row) =>
    row.startsWith("Max open files ")
  );
  const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
  return soft !== undefined && /^\d+$/.test(soft) ? Number(soft) : undefined;
}

/**
 * Reads this process's soft open-file limit.
 *
 * @param path The limits file (`/proc/self/limits`).
 * @returns The soft limit; `undefined` without `/proc` (macOS), without read
 * permission, or when unlimited.
 */
export async function readSoftOpenFileLimit(
  path = "/proc/self/limits",
): Promise<number | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (
      error instanceof Deno.errors.NotFound ||
      error instanceof Deno.errors.NotCapable ||
      error instanceof Deno.errors.PermissionDenied
    ) return undefined;
    throw error;
  }
  return parseSoftOpenFileLimit(text);
}

/**
 * The start-up warning for a soft open-file limit, with the fix.
 *
 * @param softLimit The soft limit, `undefined` when unknown or unlimited.
 * @returns One stderr line, or `undefined` when the limit is high enough or
 * unknown.
 */
export function openFileLimitWarning(
  softLimit: number | undefined,
): string | undefined {
  if (softLimit === undefined || softLimit >= MIN_OPEN_FILES) return undefined;
  return `parley: warning: the open-file limit (soft RLIMIT_NOFILE) is ${softLimit}, below ${MIN_OPEN_FILES}; ` +
    `every open connection holds a descriptor, so idle clients can exhaust it. ` +
    `Raise it: \`ulimit -n ${RECOMMENDED_OPEN_FILES}\` before starting, or ` +
    `\`LimitNOFILE=${RECOMMENDED_OPEN_FILES}\` in the systemd unit`;
}
