/**
 * `deno task policy …`: the policy commands of `policy/cli.ts`, and
 * `report`, which asks a running server for an organization's security
 * report. `report` lives here, not in `policy/`, because it uses the
 * network and `policy/` stays pure.
 *
 * `deno task policy report --url URL --org ID [--hours N] [--json]` reads
 * the admin key from `PARLEY_ADMIN_KEY` (never a flag: flags end up in shell
 * history and process lists). Exit codes: 0 the report, 1 the server
 * refused (the key, the organization, a limit), 2 bad usage, no key, or no
 * Parley server answering at the URL. Never prints the key.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { main as policyMain } from "./policy/cli.ts";
import type { Reply, SecurityReport } from "./wire/mod.ts";
import { summarizeSecurityReport } from "./widget/security_summary.ts";

/** The environment variable the admin key is read from. */
export const ADMIN_KEY_ENV = "PARLEY_ADMIN_KEY";
/** How long the server may take to answer. */
const TIMEOUT_MS = 15_000;

const REPORT_USAGE =
  `Usage: ${ADMIN_KEY_ENV}=… deno task policy report --url URL --org ID [--hours 1-168] [--json]

Exit codes: 0 the report, 1 the server refused, 2 bad usage, no key, or no Parley server at URL`;

/** A failure of `report`, with its exit code. */
class ReportError extends Error {
  readonly exitCode: 1 | 2;
  /** Bad usage: the usage is printed after the message. */
  readonly showUsage: boolean;
  constructor(message: string, exitCode: 1 | 2, showUsage = false) {
    super(message);
    this.name = "ReportError";
    this.exitCode = exitCode;
    this.showUsage = showUsage;
  }
}

/**
 * `report`: fetches and prints the security report.
 *
 * @param args The arguments after `report`.
 * @param env Environment lookup (the admin key).
 * @returns The exit code.
 */
export async function reportCommand(
  args: readonly string[],
  env: (name: string) => string | undefined,
): Promise<number> {
  try {
    const options = reportOptions(args);
    const key = env(ADMIN_KEY_ENV)?.trim();
    if (key === undefined || key === "") {
      throw new ReportError(
        `${ADMIN_KEY_ENV} is not set: export the organization's admin key first (it is never taken as a flag)`,
        2,
      );
    }
    const report = await fetchReport({ ...options, key });
    if (options.json) {
      console.log(JSON.stringify(report, null, 2));
    } else {
      for (const line of reportLines(report, Date.now())) console.log(line);
    }
    return 0;
  } catch (error) {
    if (error instanceof ReportError) {
      console.error(
        error.showUsage ? `${error.message}\n\n${REPORT_USAGE}` : error.message,
      );
      return error.exitCode;
    }
    // node:util parseArgs reports unknown or malformed options as TypeErrors.
    if (error instanceof TypeError) {
      console.error(`${error.message}\n\n${REPORT_USAGE}`);
      return 2;
    }
    console.error(
      `Unexpected error: ${error instanceof Error ? error.message : error}`,
    );
    return 2;
  }
}

interface ReportOptions {
  readonly url: URL;
  readonly organizationId: string;
  readonly hours?: number;
  readonly json: boolean;
}

function reportOptions(args: readonly string[]): ReportOptions {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      url: { type: "string" },
      org: { type: "string" },
      hours: { type: "string" },
      json: { type: "boolean" },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) {
    throw usage(`Unexpected argument "${positionals[0]!.slice(0, 64)}"`);
  }
  if (values.url === undefined) throw usage(`Option "--url" is required`);
  if (values.org === undefined || values.org === "") {
    throw usage(`Option "--org" is required`);
  }
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw usage(`"${values.url.slice(0, 256)}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw usage(`"${values.url.slice(0, 256)}" is not an http(s) URL`);
  }
  let hours: number | undefined;
  if (values.hours !== undefined) {
    hours = Number(values.hours);
    if (!/^\d+$/.test(values.hours) || hours < 1 || hours > 168) {
      throw usage(
        `Option "--hours" must be a whole number from 1 to 168, got "${
          values.hours.slice(0, 32)
        }"`,
      );
    }
  }
  return {
    url,
    organizationId: values.org,
    ...(hours === undefined ? {} : { hours }),
    json: values.json ?? false,
  };
}

function usage(message: string): ReportError {
  return new ReportError(message, 2, true);
}

/** `POST <url>/rpc/agent.securityReport` with the key as its bearer. */
async function fetchReport(
  options: ReportOptions & { readonly key: string },
): Promise<SecurityReport> {
  const endpoint = new URL(
    `${options.url.pathname.replace(/\/+$/, "")}/rpc/agent.securityReport`,
    options.url,
  );
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Authorization: `Bearer ${options.key}`,
      },
      body: JSON.stringify({
        organizationId: options.organizationId,
        ...(options.hours === undefined ? {} : { hours: options.hours }),
      }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    const why = error instanceof DOMException && error.name === "TimeoutError"
      ? `no answer in ${TIMEOUT_MS / 1000} s`
      : error instanceof Error
      ? error.message
      : String(error);
    throw new ReportError(`Cannot reach ${options.url.origin}: ${why}`, 2);
  }
  let reply: Reply<SecurityReport> | undefined;
  try {
    reply = await response.json() as Reply<SecurityReport>;
  } catch {
    reply = undefined;
  }
  if (
    typeof reply !== "object" || reply === null ||
    typeof reply.ok !== "boolean"
  ) {
    throw new ReportError(
      `${endpoint.origin} did not answer as a Parley server (HTTP ${response.status})`,
      2,
    );
  }
  if (reply.ok) return reply.data;
  const { code, reason, retryAfter } = reply.error;
  const detail = `${code}${reason === undefined ? "" : ` ${reason}`}`;
  switch (code) {
    case "SESSION_INVALID":
      throw new ReportError(
        `The server refused the admin key for "${options.organizationId}" (${detail}): check ${ADMIN_KEY_ENV}`,
        1,
      );
    case "ORGANIZATION_NOT_FOUND":
      throw new ReportError(
        `The server has no organization "${options.organizationId}" (${detail})`,
        1,
      );
    case "RATE_LIMITED":
      throw new ReportError(
        `The server refused: too many requests (${detail}); try again in ${
          retryAfter ?? 60
        } s`,
        1,
      );
    case "METHOD_NOT_FOUND":
      throw new ReportError(
        `The server has no agent.securityReport (${detail}): it is older than this CLI`,
        2,
      );
    default:
      throw new ReportError(`The server refused (${detail})`, 1);
  }
}

/**
 * The report as text: its sentences, keys and origins.
 *
 * @param report The report.
 * @param now Epoch milliseconds.
 * @returns The lines to print.
 */
export function reportLines(report: SecurityReport, now: number): string[] {
  const summary = summarizeSecurityReport(report, now);
  const lines = [
    `Security report of ${report.organizationId}, last ${summary.window} (${report.from} to ${report.to})`,
    `jwt.mode ${report.modes.jwt}, domains.mode ${report.modes.domains}`,
    "",
    summary.tokens,
    summary.required,
    summary.enforced,
    ...(summary.invalid === undefined ? [] : [summary.invalid]),
    summary.throttle,
    "",
    "Keys",
    ...(summary.keys.length === 0
      ? ["  no JWT keys are configured"]
      : summary.keys.map((key) => `  ${key.text}`)),
    "",
    "Origins (boots, refused)",
  ];
  if (report.origins.length === 0) lines.push("  no boots yet");
  const width = Math.max(0, ...report.origins.map((o) => o.origin.length));
  for (const origin of report.origins) {
    lines.push(
      `  ${origin.origin.padEnd(width)}  ${String(origin.boots).padStart(7)}  ${
        String(origin.refused).padStart(7)
      }`,
    );
  }
  return lines;
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

if (import.meta.main) {
  const [command, ...rest] = Deno.args;
  Deno.exit(
    command === "report"
      ? await reportCommand(rest, readEnv)
      : await policyMain(Deno.args),
  );
}
