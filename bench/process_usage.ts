/**
 * What a running process uses, read from Linux's `/proc/<pid>/`: the CPU
 * time it has spent and the memory it holds, for benchmarks that measure a
 * real server process from outside.
 *
 * @module
 */

import { statFields } from "../tests/proc_stat.ts";

/** Linux's USER_HZ: `/proc/<pid>/stat` counts CPU time in these. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * @param pid The process.
 * @returns The CPU seconds (user and system) it has spent so far.
 */
export function cpuSeconds(pid: number): Promise<number> {
  const fields = statFields(pid);
  if (fields === undefined) {
    return Promise.reject(new Error(`No process ${pid}`));
  }
  // utime and stime.
  return Promise.resolve(
    (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND,
  );
}

/**
 * @param pid The process.
 * @returns Its resident set size now, in bytes.
 */
export async function residentBytes(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? NaN) * 1024;
}
