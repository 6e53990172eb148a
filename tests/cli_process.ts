/**
 * A Deno command run from the project root as an admin's shell would run
 * it: with exactly the environment a test gives, plus what Deno needs to
 * find its cache — so a test of "no secrets set" really has none.
 *
 * @module
 */

const ROOT = new URL("..", import.meta.url);

/** What a command printed and how it exited. */
export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `deno <args>` in the project root.
 *
 * @param args Deno's arguments, e.g. `["task", "-q", "policy", "check", …]`.
 * @param env The only environment variables set (besides Deno's cache paths).
 * @returns Its exit code and output.
 */
export async function runDeno(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<Run> {
  const passThrough: Record<string, string> = {};
  for (const name of ["HOME", "PATH", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) passThrough[name] = value;
  }
  const output = await new Deno.Command(Deno.execPath(), {
    args: [...args],
    cwd: ROOT,
    clearEnv: true,
    env: { ...passThrough, NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
