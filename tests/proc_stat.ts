/**
 * Linux's `/proc/<pid>/stat`, read once for the harnesses and benchmarks that
 * watch processes from outside (CPU time, start time, parent, state).
 *
 * @module
 */

/**
 * The fields of a process's `stat` line after its parenthesised command name
 * (which may hold spaces): index 0 is field 3 (state), 1 the parent's pid,
 * 11 and 12 utime and stime, 19 the start time.
 *
 * @param pid The process, or `"self"`.
 * @returns The fields, or `undefined` when the process is gone or unreadable.
 */
export function statFields(pid: number | "self"): string[] | undefined {
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}
