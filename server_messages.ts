/**
 * What the server tells its operator on stderr at start: why it cannot
 * start (one line per cause, naming the variable or the policy line), where
 * it listens and how to sign in to the inbox, and which variables its policy
 * reads. `server.ts` (`deno run`) and `serve.ts` (`deno serve`) print the
 * same lines.
 *
 * @module
 */

import { PolicyError } from "./policy/error.ts";
import type { Evaluator } from "./policy/types.ts";
import { problemLogLines } from "./policy_source/policy_log_lines.ts";
import { ServerSettingsError } from "./server_settings.ts";

/** The variables a policy names, as `EnvironmentReads` recorded them. */
export interface PolicyVariables {
  readonly named: readonly string[];
  readonly missing: readonly string[];
}

/**
 * Why the server did not start.
 *
 * @param error What setting up threw.
 * @param policyPath The policy file or directory, for problem locations.
 * @returns The lines to print, each prefixed `parley:` or a policy location.
 */
export function cannotStartLines(
  error: unknown,
  policyPath: string | null,
): string[] {
  if (error instanceof ServerSettingsError) {
    return error.problems.map((problem) =>
      `parley: cannot start: ${problem.message}`
    );
  }
  if (error instanceof PolicyError) {
    const path = (policyPath ?? "policy.yaml").replace(/\/+$/, "");
    const byFile = Map.groupBy(
      error.problems,
      (problem) =>
        problem.file === undefined ? path : `${path}/${problem.file}`,
    );
    return [
      "parley: the policy has errors, not starting:",
      // Escaped and folded, as the reload log prints them.
      ...[...byFile].flatMap(([file, problems]) =>
        problemLogLines(file, problems, error.omitted)
      ),
    ];
  }
  return [
    `parley: cannot start: ${reasonOf(error)}`,
  ];
}

/**
 * One line naming the variables the policy reads and which are unset, so
 * the operator knows what to export; none when it names no variable.
 *
 * @param variables What the policy looked up.
 * @returns The line, or `undefined`.
 */
export function policyVariablesLine(
  variables: PolicyVariables,
): string | undefined {
  const { named, missing } = variables;
  if (named.length === 0) return undefined;
  return missing.length === 0
    ? `parley: the policy reads ${named.join(", ")} (all set)`
    : `parley: the policy reads ${named.join(", ")}; not set: ${
      missing.join(", ")
    } (export ${
      missing.length === 1 ? "it" : "them"
    } and restart; an organization whose secrets are missing is not served)`;
}

/**
 * How to sign in to the agent inbox when no organization in force has an
 * admin key; none when one has.
 *
 * @param evaluator The policy in force.
 * @param variables What the policy looked up.
 * @param adminKeyVariables The variables the policy names for admin keys.
 * @returns The line, or `undefined`.
 */
export function signInLine(
  evaluator: Evaluator,
  variables: PolicyVariables,
  adminKeyVariables: readonly string[],
): string | undefined {
  for (const organization of evaluator.spec.organizations.values()) {
    if (organization.adminKeys.length > 0) return undefined;
  }
  const unset = adminKeyVariables.filter((name) =>
    variables.missing.includes(name)
  );
  return unset.length > 0
    ? `parley: no organization has an admin key whose variable is set, so nobody can sign in at /agent: set ${
      unset.join(", ")
    } (and the organization's other variables not set) and restart`
    : "parley: no organization has an admin key, so nobody can sign in at /agent: add admin: { keys: [{ name: …, secret: { env: ACME_ADMIN_KEY } }] } to an organization and set ACME_ADMIN_KEY (openssl rand -base64 48), or start without PARLEY_POLICY for the built-in demo, which prints its key";
}

/**
 * The lines printed once the policy is in force: the variables it reads,
 * and how to sign in to the inbox when nobody can.
 *
 * @param evaluator The policy in force.
 * @param variables What the policy looked up.
 * @param adminKeyVariables The variables the policy names for admin keys.
 * @returns The lines (often none).
 */
export function startLines(
  evaluator: Evaluator,
  variables: PolicyVariables,
  adminKeyVariables: readonly string[],
): string[] {
  return [
    policyVariablesLine(variables),
    signInLine(evaluator, variables, adminKeyVariables),
  ].filter((line) => line !== undefined);
}

/** Where the server listens, for {@linkcode listeningLines}. */
export interface ListeningFacts {
  readonly hostname: string;
  readonly port: number;
  /** The policy file or directory; `null` for the built-in demo. */
  readonly policyPath: string | null;
  readonly revision: string;
  readonly store: { readonly engine: string; readonly location: string };
  /** The built-in demo's admin key, when it runs. */
  readonly demoAdminKey?: string;
}

/**
 * The start-up lines: where it listens, and the demo's inbox with its key.
 *
 * @param facts Address, policy and store.
 * @returns The lines.
 */
export function listeningLines(facts: ListeningFacts): string[] {
  const host = facts.hostname.includes(":")
    ? `[${facts.hostname}]`
    : facts.hostname;
  const base = `http://${host}:${facts.port}`;
  const lines = [
    `parley: listening on ${base}/ · policy ${
      facts.policyPath ?? "built-in demo"
    } · revision ${facts.revision} · store ${facts.store.engine} ${facts.store.location}`,
  ];
  if (facts.demoAdminKey !== undefined) {
    lines.push(
      `parley: agent inbox ${base}/agent?org=demo · admin key ${facts.demoAdminKey}`,
    );
  }
  return lines;
}

/**
 * Why the widget, the inbox or a locale file could not be built: the
 * sources shipped with Parley are broken, so the server stops.
 *
 * @param error What the build threw.
 * @returns One line.
 */
export function cannotBuildLine(error: unknown): string {
  return `parley: cannot build the widget: ${reasonOf(error)}`;
}

/**
 * Why the listener could not bind, with the fix.
 *
 * @param hostname `HOSTNAME`.
 * @param port `PORT`.
 * @param error What binding threw.
 * @returns One line.
 */
export function cannotListenLine(
  hostname: string,
  port: number,
  error: unknown,
): string {
  const at = `parley: cannot listen on ${hostname}:${port}`;
  if (error instanceof Deno.errors.AddrInUse) {
    return `${at}: another process uses port ${port}: stop it, or set PORT to a free port (PORT=${
      port === 65535 ? 8787 : port + 1
    }, or PORT=0 for any)`;
  }
  if (
    error instanceof Deno.errors.PermissionDenied ||
    error instanceof Deno.errors.NotCapable
  ) {
    return `${at}: not permitted${
      port < 1024 ? ` (ports below 1024 need privileges): set PORT=8787` : ""
    }`;
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return `${at}: HOSTNAME=${hostname} is not an address of this machine: set HOSTNAME=127.0.0.1 (this machine only) or HOSTNAME=0.0.0.0 (every interface)`;
  }
  return `${at}: ${reasonOf(error)} (check HOSTNAME and PORT)`;
}

/** What went wrong, in the thrower's words. */
function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
