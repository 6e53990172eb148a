/**
 * The process environment as a policy's secret lookup (`{ env: NAME }`),
 * for the command line and the server's compile worker.
 *
 * @module
 */

/**
 * Reads one variable; a denied permission reads as a missing variable, so a
 * run without `--allow-env` reports `env-missing` rather than crashing.
 *
 * @param name The variable's name.
 * @returns Its value, or `undefined` when it is unset or may not be read.
 */
export function readProcessEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}
