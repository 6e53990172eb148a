/**
 * `deno task policy report --url URL --org ID [--hours N] [--json]`: asks a
 * running server for an organization's security report (the one command
 * that uses the network). The admin key is read from `PARLEY_ADMIN_KEY`,
 * never a flag: flags end up in shell history and process lists. Never
 * prints the key.
 *
 * Exit codes: 0 the report, 1 the server refused (the key, the
 * organization, a limit), 2 bad usage, no key, or no Parley server
 * answering at the URL.
 *
 * @module
 */

import { readProcessEnv } from "../policy_io/process_env.ts";
import type { Reply, SecurityReport } from "../wire/mod.ts";
import { summarizeSecurityReport } from "../widget/security_summary.ts";
import { parseArguments, UsageError } from "./arguments.ts";
import { printJson } from "./output.ts";

/** The environment variable the admin key is read from. */
const ADMIN_KEY_ENV = "PARLEY_ADMIN_KEY";
/** How long the server may take to answer. */
const TIMEOUT_MS = 15_000;

/** `report`'s own usage: printed after its bad-usage messages. */
export const REPORT_USAGE =
  `Usage: ${ADMIN_KEY_ENV}=… deno task policy report --url URL --org ID [--hours 1-168] [--json]

Exit codes: 0 the report, 1 the server refused, 2 bad usage, no key, or no Parley server at URL`;

/**
 * Runs `report`: fetches and prints the security report.
 *
 * @param args The arguments after `report`.
 * @returns The exit code.
 * @throws {UsageError} When an option is missing or malformed.
 */
export async function report(args: readonly string[]): Promise<number> {
  const options = reportOptions(args);
  const key = readProcessEnv(ADMIN_KEY_ENV)?.trim();
  if (key === undefined || key === "") {
    console.error(
      `${ADMIN_KEY_ENV} is not set: export the organization's admin key first (it is never taken as a flag)`,
    );
    return 2;
  }
  const fetched = await fetchReport({ ...options, key });
  if (!fetched.ok) {
    console.error(fetched.message);
    return fetched.exitCode;
  }
  if (options.json) printJson(fetched.report);
  else {
    for (const line of reportLines(fetched.report, Date.now())) {
      console.log(line);
    }
  }
  return 0;
}

interface ReportOptions {
  readonly url: URL;
  readonly organizationId: string;
  readonly hours?: number;
  readonly json: boolean;
}

function reportOptions(args: readonly string[]): ReportOptions {
  const { values, positionals } = parseArguments(args, {
    url: { type: "string" },
    org: { type: "string" },
    hours: { type: "string" },
    json: { type: "boolean" },
  });
  if (positionals.length > 0) {
    throw new UsageError(
      `Unexpected argument "${positionals[0]!.slice(0, 64)}"`,
    );
  }
  if (values.url === undefined) {
    throw new UsageError(`Option "--url" is required`);
  }
  if (values.org === undefined || values.org === "") {
    throw new UsageError(`Option "--org" is required`);
  }
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw new UsageError(`"${values.url.slice(0, 256)}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`"${values.url.slice(0, 256)}" is not an http(s) URL`);
  }
  let hours: number | undefined;
  if (values.hours !== undefined) {
    hours = Number(values.hours);
    if (!/^\d+$/.test(values.hours) || hours < 1 || hours > 168) {
      throw new UsageError(
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

/** The report, or why there is none and the exit code that says so. */
type Fetched =
  | { readonly ok: true; readonly report: SecurityReport }
  | { readonly ok: false; readonly message: string; readonly exitCode: 1 | 2 };

/** `POST <url>/rpc/agent.securityReport` with the key as its bearer. */
async function fetchReport(
  options: ReportOptions & { readonly key: string },
): Promise<Fetched> {
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
    return failure(`Cannot reach ${options.url.origin}: ${why}`, 2);
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
    return failure(
      `${endpoint.origin} did not answer as a Parley server (HTTP ${response.status})`,
      2,
    );
  }
  if (reply.ok) return { ok: true, report: reply.data };
  const { code, reason, retryAfter } = reply.error;
  const detail = `${code}${reason === undefined ? "" : ` ${reason}`}`;
  switch (code) {
    case "SESSION_INVALID":
      return failure(
        `The server refused the admin key for "${options.organizationId}" (${detail}): check ${ADMIN_KEY_ENV}`,
        1,
      );
    case "ORGANIZATION_NOT_FOUND":
      return failure(
        `The server has no organization "${options.organizationId}" (${detail})`,
        1,
      );
    case "RATE_LIMITED":
      return failure(
        `The server refused: too many requests (${detail}); try again in ${
          retryAfter ?? 60
        } s`,
        1,
      );
    case "METHOD_NOT_FOUND":
      return failure(
        `The server has no agent.securityReport (${detail}): it is older than this CLI`,
        2,
      );
    default:
      return failure(`The server refused (${detail})`, 1);
  }
}

function failure(message: string, exitCode: 1 | 2): Fetched {
  return { ok: false, message, exitCode };
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
