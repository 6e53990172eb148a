/**
 * The server's settings, read from the environment and checked before
 * anything starts: one row per setting, each naming its variable, so a typo
 * stops the server with one line naming the variable and the fix instead of
 * surfacing later as a visitor's `503` or a store created in the wrong place.
 * `server.ts` and `serve.ts` both start from {@linkcode readServerSettings}.
 *
 * @module
 */

import { dirname, extname, isAbsolute, resolve } from "node:path";
import { parseDuration } from "./policy/rate.ts";
import { DEFAULT_STORE_PATH } from "./store/open_store.ts";

/** Where variables are read from (`Deno.env.get` in the server). */
export type EnvLookup = (name: string) => string | undefined;

/** What the server runs with. */
export interface ServerSettings {
  /** `PORT`: 0 to 65535; 0 picks a free port. */
  readonly port: number;
  /** `HOSTNAME`: the address to listen on. */
  readonly hostname: string;
  /** `PARLEY_POLICY`, else `policy.yaml` when present; `null` runs the built-in demo. */
  readonly policyPath: string | null;
  /** `PARLEY_STORE` (or `PARLEY_KV`): an absolute KV path, `:memory:`, or a URL for `openStore`. */
  readonly store: string;
  /** `PARLEY_SESSION_SECRET` (≥ 32 bytes); `null` keeps a generated one in the store. */
  readonly sessionSecret: string | null;
  /** `PARLEY_SESSION_LIFETIME` in milliseconds; `null` for the default. */
  readonly sessionLifetimeMs: number | null;
  /** `PARLEY_DECISION_LOG`, a file; `null` writes to stdout. */
  readonly decisionLogPath: string | null;
  /** `PARLEY_DEMO_ADMIN_KEY` (≥ 32 bytes); `null` keeps a generated one in the store. */
  readonly demoAdminKey: string | null;
}

/** One setting that cannot be used: its variable and what to do. */
export class SettingProblem extends RangeError {
  /** Stable code. */
  readonly code = "setting-invalid";
  /** The environment variable at fault. */
  readonly variable: string;

  /**
   * @param variable The variable at fault.
   * @param message Starts with the variable's name and says the fix.
   */
  constructor(variable: string, message: string) {
    super(message);
    this.name = "SettingProblem";
    this.variable = variable;
  }
}

/** Every setting that cannot be used, found in one pass. */
export class ServerSettingsError extends Error {
  /** Stable code. */
  readonly code = "settings-invalid";
  /** One per variable at fault, in row order. */
  readonly problems: readonly SettingProblem[];

  /** @param problems At least one. */
  constructor(problems: readonly SettingProblem[]) {
    super(problems.map((problem) => problem.message).join("; "));
    this.name = "ServerSettingsError";
    this.problems = problems;
  }
}

/** The smallest secret accepted, as for the policy's secrets. */
export const MIN_SECRET_BYTES = 32;
const DEFAULT_PORT = 8787;
const DEFAULT_HOSTNAME = "127.0.0.1";

/** How a row reads its variables. */
interface Reading {
  readonly env: EnvLookup;
  /** Relative paths resolve against it. */
  readonly cwd: string;
  /** A variable's value, with an empty one counted as unset. */
  value(name: string): string | undefined;
}

type SettingRows = {
  readonly [K in keyof ServerSettings]: (
    reading: Reading,
  ) => ServerSettings[K] | Promise<ServerSettings[K]>;
};

/** One row per setting; a row throws a {@linkcode SettingProblem}. */
const ROWS: SettingRows = {
  port: ({ value }) => readPort(value("PORT")),
  hostname: ({ value }) => readHostname(value("HOSTNAME")),
  policyPath: ({ value, cwd }) => readPolicyPath(value("PARLEY_POLICY"), cwd),
  store: ({ value, cwd }) => {
    const named = value("PARLEY_STORE");
    // PARLEY_KV is the older name; PARLEY_STORE wins when both are set.
    return named !== undefined
      ? readStore("PARLEY_STORE", named, cwd)
      : readStore("PARLEY_KV", value("PARLEY_KV"), cwd);
  },
  sessionSecret: ({ value }) =>
    readSecret(
      "PARLEY_SESSION_SECRET",
      value("PARLEY_SESSION_SECRET"),
      "unset it to keep a generated one in the store",
    ),
  sessionLifetimeMs: ({ value }) =>
    readSessionLifetime(value("PARLEY_SESSION_LIFETIME")),
  decisionLogPath: ({ value, cwd }) =>
    readDecisionLog(value("PARLEY_DECISION_LOG"), cwd),
  demoAdminKey: ({ value }) =>
    readSecret(
      "PARLEY_DEMO_ADMIN_KEY",
      value("PARLEY_DEMO_ADMIN_KEY"),
      "unset it to keep a generated one in the store",
    ),
};

/**
 * Reads and checks every setting.
 *
 * @param env Variable lookup (`(name) => Deno.env.get(name)`).
 * @param cwd The directory relative paths resolve against.
 * @returns The settings.
 * @throws {ServerSettingsError} Naming every variable that cannot be used.
 */
export async function readServerSettings(
  env: EnvLookup,
  cwd: string = Deno.cwd(),
): Promise<ServerSettings> {
  const reading: Reading = {
    env,
    cwd,
    value: (name) => {
      const text = env(name);
      return text === "" ? undefined : text;
    },
  };
  const problems: SettingProblem[] = [];
  const settings: Record<string, unknown> = {};
  for (const [key, read] of Object.entries(ROWS)) {
    try {
      settings[key] = await (read as (reading: Reading) => unknown)(reading);
    } catch (error) {
      if (!(error instanceof SettingProblem)) throw error;
      problems.push(error);
    }
  }
  if (problems.length > 0) throw new ServerSettingsError(problems);
  return Object.freeze(settings) as unknown as ServerSettings;
}

function readPort(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PORT;
  const port = /^\d{1,5}$/.test(text.trim()) ? Number(text) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new SettingProblem(
      "PORT",
      `PORT must be a port number from 0 to 65535 (0 picks a free one), got "${
        shown(text)
      }"`,
    );
  }
  return port;
}

const IPV4 =
  /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;
const IPV6 = /^[0-9a-f:.]*:[0-9a-f:.]*$/i;
const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

function readHostname(text: string | undefined): string {
  if (text === undefined) return DEFAULT_HOSTNAME;
  if (IPV4.test(text) || IPV6.test(text) || HOST_NAME.test(text)) return text;
  throw new SettingProblem(
    "HOSTNAME",
    `HOSTNAME must be an address to listen on, such as 127.0.0.1 (this machine only) or 0.0.0.0 (every interface), got "${
      shown(text)
    }"`,
  );
}

async function readPolicyPath(
  text: string | undefined,
  cwd: string,
): Promise<string | null> {
  if (text === undefined) {
    return await kindOf(resolve(cwd, "policy.yaml")) === "file"
      ? "policy.yaml"
      : null;
  }
  if (await kindOf(resolve(cwd, text)) === "missing") {
    throw new SettingProblem(
      "PARLEY_POLICY",
      `PARLEY_POLICY names "${
        shown(text)
      }", which does not exist: give a policy file or directory, or unset it for the built-in demo`,
    );
  }
  return text;
}

/**
 * `PARLEY_STORE` as `openStore` takes it. A bare word (`memory`: no
 * directory, no extension) is refused rather than becoming a file of that
 * name beside the code, and a file whose directory does not exist is refused
 * rather than created, so a mistyped path never looks like lost data; only
 * the default `.parley/` is created.
 */
async function readStore(
  variable: string,
  text: string | undefined,
  cwd: string,
): Promise<string> {
  if (text === undefined) return resolve(cwd, DEFAULT_STORE_PATH);
  if (text === ":memory:") return text;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text; // openStore checks the scheme
  if (!text.includes("/") && extname(text) === "") {
    throw new SettingProblem(
      variable,
      `${variable}="${
        shown(text)
      }" is neither ":memory:" nor a file path: write ":memory:" for a store that lives in memory, or a path with a directory or extension (./${
        shown(text)
      }.sqlite) for a file`,
    );
  }
  const path = resolve(cwd, text);
  if (path === resolve(cwd, DEFAULT_STORE_PATH)) return path;
  const kind = await kindOf(path);
  if (kind === "directory") {
    throw new SettingProblem(
      variable,
      `${variable} names the directory "${
        shown(path)
      }": name a file in it, such as ${shown(path)}/kv.sqlite`,
    );
  }
  const directory = dirname(path);
  const parent = kind === "missing" ? await kindOf(directory) : "directory";
  if (parent === "missing" || parent === "file") {
    throw new SettingProblem(
      variable,
      `${variable}: the directory "${shown(directory)}" ${
        parent === "file" ? "is a file" : "does not exist"
      }, so the store "${shown(path)}" would start empty: create it (mkdir -p ${
        shown(directory)
      }) or correct the path`,
    );
  }
  return path;
}

function readSecret(
  variable: string,
  text: string | undefined,
  otherwise: string,
): string | null {
  if (text === undefined) return null;
  const bytes = new TextEncoder().encode(text).byteLength;
  if (bytes < MIN_SECRET_BYTES) {
    throw new SettingProblem(
      variable,
      `${variable} must be at least ${MIN_SECRET_BYTES} bytes, got ${bytes}: set it to a random secret (openssl rand -base64 48), or ${otherwise}`,
    );
  }
  return text;
}

function readSessionLifetime(text: string | undefined): number | null {
  if (text === undefined) return null;
  const ms = parseDuration(text);
  if (ms === undefined || ms < 1_000 || ms > 24 * 60 * 60 * 1000) {
    throw new SettingProblem(
      "PARLEY_SESSION_LIFETIME",
      `PARLEY_SESSION_LIFETIME must be a duration from 1s to 24h, got "${
        shown(text)
      }"`,
    );
  }
  return ms;
}

async function readDecisionLog(
  text: string | undefined,
  cwd: string,
): Promise<string | null> {
  if (text === undefined) return null;
  const path = resolve(cwd, text);
  if (await kindOf(path) === "directory") {
    throw new SettingProblem(
      "PARLEY_DECISION_LOG",
      `PARLEY_DECISION_LOG names the directory "${
        shown(path)
      }": name a file in it, such as ${shown(path)}/decisions.jsonl`,
    );
  }
  if (await kindOf(dirname(path)) === "missing") {
    throw new SettingProblem(
      "PARLEY_DECISION_LOG",
      `PARLEY_DECISION_LOG: the directory "${
        shown(dirname(path))
      }" does not exist: create it or correct the path`,
    );
  }
  return isAbsolute(text) ? text : path;
}

/** What a path is; `unknown` when it cannot be told (permissions): the open that follows says why. */
async function kindOf(
  path: string,
): Promise<"file" | "directory" | "missing" | "unknown"> {
  try {
    return (await Deno.stat(path)).isDirectory ? "directory" : "file";
  } catch (error) {
    return error instanceof Deno.errors.NotFound ? "missing" : "unknown";
  }
}

/** A value as echoed in a message: one line, bounded. */
function shown(text: string): string {
  // deno-lint-ignore no-control-regex -- control characters are what is removed
  const line = text.replace(/[\u0000-\u001f\u007f]/g, "?");
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
