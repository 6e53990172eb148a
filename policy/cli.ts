/**
 * The policy command line: `deno task policy check|explain|token …`.
 *
 * Exit codes: 0 success (for `explain`: the request is allowed), 1 the policy
 * has errors (for `explain`: the request is refused), 2 bad usage or an
 * unreadable file. Never prints a stack trace, a secret or a token's key.
 *
 * @module
 */

import { SignJWT } from "jose";
import { parseArgs } from "node:util";
import { compilePolicy } from "./compile.ts";
import { PolicyError } from "./error.ts";
import { parseOrigin } from "./host.ts";
import { parseDuration } from "./rate.ts";
import type {
  Explanation,
  Facts,
  OrganizationSpec,
  PolicyProblem,
  PolicySpec,
} from "./types.ts";
import { validatePolicy } from "./validate.ts";
import { AUDIENCE } from "./verify_user_token.ts";

const USAGE = `Usage:
  deno task policy check FILE... [--json]
  deno task policy explain FILE --org ID [--origin URL] [--token JWT]
                           [--user-id U] [--app-id A] [--method M] [--json]
  deno task policy token FILE --org ID --sub U --origin URL [--kid K]
                         [--ttl 10m] [--user-data JSON]

Exit codes: 0 ok or allowed, 1 policy errors or refused, 2 bad usage or unreadable file`;

/** Bad command-line use: printed with the usage, exit code 2. */
class UsageError extends TypeError {
  readonly code = "usage";
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A file that cannot be read: exit code 2. */
class UnreadableFileError extends Error {
  readonly code = "unreadable-file";
  constructor(message: string) {
    super(message);
    this.name = "UnreadableFileError";
  }
}

/** Environment lookup that reads a missing permission as a missing variable. */
function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

async function readPolicyFile(file: string): Promise<string> {
  try {
    return await Deno.readTextFile(file);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.IsADirectory
      ? "is a directory"
      : error instanceof Deno.errors.PermissionDenied ||
          error instanceof Deno.errors.NotCapable
      ? "permission denied"
      : "cannot be read";
    throw new UnreadableFileError(`Cannot read "${file}": ${reason}`);
  }
}

/** `FILE:LINE:COL CODE message (hint)`, the format editors and CI understand. */
export function formatProblem(file: string, problem: PolicyProblem): string {
  const severity = problem.severity === "warning" ? "warning: " : "";
  const hint = problem.hint ? ` (${problem.hint})` : "";
  return `${file}:${problem.line}:${problem.column} ${problem.code} ${severity}${problem.message}${hint}`;
}

function summarizeOrganization(organization: OrganizationSpec) {
  return {
    id: organization.id,
    name: organization.name,
    appIds: organization.appIds,
    domains: {
      mode: organization.domains.mode,
      allow: organization.domains.allow.map((pattern) => pattern.source),
    },
    jwt: {
      mode: organization.jwt.mode,
      keys: organization.jwt.keys.map((key) => ({
        id: key.id,
        ...(key.until === undefined
          ? {}
          : { until: new Date(key.until).toISOString() }),
      })),
      maxLifetimeMs: organization.jwt.maxLifetimeMs,
      clockToleranceMs: organization.jwt.clockToleranceMs,
    },
    limits: {
      organization: organization.limits.organization.text,
      ip: organization.limits.ip.text,
    },
    adminKeys: organization.adminKeys.length,
    webhook: organization.webhook !== undefined,
  };
}

function summaryLines(file: string, spec: PolicySpec, warnings: number) {
  const organizations = [...spec.organizations.values()];
  const lines = [
    `${file}: ok, ${organizations.length} organization${
      organizations.length === 1 ? "" : "s"
    }, ${warnings} warning${warnings === 1 ? "" : "s"}`,
  ];
  for (const organization of organizations) {
    const summary = summarizeOrganization(organization);
    lines.push(`  ${summary.id} (${JSON.stringify(summary.name)})`);
    lines.push(
      `    domains  ${summary.domains.mode}${
        summary.domains.allow.length
          ? `: ${summary.domains.allow.join(", ")}`
          : ""
      }`,
    );
    lines.push(
      `    jwt      ${summary.jwt.mode}${
        summary.jwt.keys.length
          ? `, keys: ${
            summary.jwt.keys.map((key) =>
              key.until ? `${key.id} (until ${key.until})` : key.id
            ).join(", ")
          }`
          : ""
      }`,
    );
    lines.push(
      `    limits   organization ${summary.limits.organization}, ip ${summary.limits.ip}`,
    );
    if (summary.appIds.length) {
      lines.push(`    appIds   ${summary.appIds.join(", ")}`);
    }
  }
  return lines;
}

async function check(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { json: { type: "boolean" } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length === 0) throw new UsageError("No policy file given");
  let exitCode = 0;
  const results = [];
  for (const file of positionals) {
    let text: string;
    try {
      text = await readPolicyFile(file);
    } catch (error) {
      if (!(error instanceof UnreadableFileError)) throw error;
      exitCode = 2;
      results.push({ file, ok: false, error: error.message, problems: [] });
      if (!values.json) console.error(error.message);
      continue;
    }
    const { spec, problems } = validatePolicy(text, {
      env: readEnv,
      filename: file,
    });
    const warnings = problems.filter((problem) =>
      problem.severity === "warning"
    );
    if (!spec) exitCode = Math.max(exitCode, 1);
    results.push({
      file,
      ok: spec !== undefined,
      problems,
      ...(spec
        ? {
          organizations: [...spec.organizations.values()].map(
            summarizeOrganization,
          ),
        }
        : {}),
    });
    if (values.json) continue;
    if (spec) {
      for (const line of summaryLines(file, spec, warnings.length)) {
        console.log(line);
      }
      for (const warning of warnings) console.log(formatProblem(file, warning));
    } else {
      for (const problem of problems) console.log(formatProblem(file, problem));
      const errors = problems.length - warnings.length;
      console.log(
        `${file}: ${errors} error${
          errors === 1 ? "" : "s"
        }, ${warnings.length} warning${warnings.length === 1 ? "" : "s"}`,
      );
    }
  }
  if (values.json) {
    console.log(
      JSON.stringify({ ok: exitCode === 0, files: results }, null, 2),
    );
  }
  return exitCode;
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === "") {
    throw new UsageError(`Option "--${flag}" is required`);
  }
  return value;
}

function oneFile(positionals: string[]): string {
  if (positionals.length !== 1) {
    throw new UsageError("Give exactly one policy file");
  }
  return positionals[0] as string;
}

function printProblems(file: string, problems: readonly PolicyProblem[]): void {
  for (const problem of problems) console.error(formatProblem(file, problem));
}

function explanationLines(explanation: Explanation): string[] {
  const lines = [
    explanation.allowed
      ? `ALLOWED ${explanation.reason}`
      : `REFUSED ${explanation.code ?? ""} ${explanation.reason}`,
  ];
  if (explanation.origin) lines.push(`origin    ${explanation.origin}`);
  if (explanation.rule) lines.push(`rule      ${explanation.rule}`);
  const identity = explanation.identity;
  lines.push(
    `identity  ${
      identity.verified
        ? `verified, sub ${JSON.stringify(identity.subject ?? "")}${
          identity.keyId ? `, key ${JSON.stringify(identity.keyId)}` : ""
        }`
        : "anonymous"
    }`,
  );
  if (explanation.reportOnly) {
    lines.push(
      `report    enforcement would refuse: ${explanation.reportOnly.code} ${explanation.reportOnly.reason}`,
    );
  }
  lines.push("trace");
  for (const step of explanation.trace) {
    lines.push(
      `  ${step.outcome.padEnd(6)} ${step.check.padEnd(20)} ${step.reason}${
        step.detail ? `  ${step.detail}` : ""
      }`,
    );
  }
  return lines;
}

async function explain(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      org: { type: "string" },
      origin: { type: "string" },
      token: { type: "string" },
      "user-id": { type: "string" },
      "app-id": { type: "string" },
      method: { type: "string" },
      json: { type: "boolean" },
    },
    allowPositionals: true,
    strict: true,
  });
  const file = oneFile(positionals);
  const organizationId = required(values.org, "org");
  const text = await readPolicyFile(file);
  let evaluator;
  try {
    evaluator = compilePolicy(text, { env: readEnv, filename: file });
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    printProblems(file, error.problems);
    return 1;
  }
  const facts: Facts = {
    organizationId,
    origin: values.origin ?? null,
    ...(values.token === undefined ? {} : { token: values.token }),
    ...(values["user-id"] === undefined ? {} : { userId: values["user-id"] }),
    ...(values["app-id"] === undefined ? {} : { appId: values["app-id"] }),
    method: values.method ?? "chat.boot",
  };
  const explanation = await evaluator.explain(facts);
  if (values.json) {
    console.log(JSON.stringify(explanation, null, 2));
  } else {
    for (const line of explanationLines(explanation)) console.log(line);
  }
  return explanation.allowed ? 0 : 1;
}

async function token(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      org: { type: "string" },
      sub: { type: "string" },
      origin: { type: "string" },
      kid: { type: "string" },
      ttl: { type: "string" },
      "user-data": { type: "string" },
    },
    allowPositionals: true,
    strict: true,
  });
  const file = oneFile(positionals);
  const organizationId = required(values.org, "org");
  const subject = required(values.sub, "sub");
  const origin = parseOrigin(required(values.origin, "origin"));
  if (!origin) {
    throw new UsageError(
      `Origin "${values.origin}" is not scheme://host[:port]`,
    );
  }
  const ttlMs = parseDuration(values.ttl ?? "10m");
  if (ttlMs === undefined || ttlMs < 1_000) {
    throw new UsageError(`TTL "${values.ttl}" is not a duration such as "10m"`);
  }
  let userData: Record<string, unknown> | undefined;
  if (values["user-data"] !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(values["user-data"]);
    } catch {
      parsed = undefined;
    }
    if (
      typeof parsed !== "object" || parsed === null || Array.isArray(parsed)
    ) {
      throw new UsageError(`Option "--user-data" must be a JSON object`);
    }
    userData = parsed as Record<string, unknown>;
  }
  const text = await readPolicyFile(file);
  const now = Date.now();
  const { spec, problems } = validatePolicy(text, {
    env: readEnv,
    filename: file,
    now,
  });
  if (!spec) {
    printProblems(file, problems);
    return 1;
  }
  const organization = spec.organizations.get(organizationId);
  if (!organization) {
    console.error(`Organization "${organizationId}" is not in "${file}"`);
    return 1;
  }
  const keys = organization.jwt.keys;
  const key = values.kid === undefined
    ? keys.find((candidate) =>
      candidate.until === undefined || candidate.until > now
    )
    : keys.find((candidate) => candidate.id === values.kid);
  if (!key) {
    console.error(
      values.kid === undefined
        ? `Organization "${organizationId}" has no active JWT key`
        : `Organization "${organizationId}" has no JWT key "${values.kid}"`,
    );
    return 1;
  }
  if (ttlMs > organization.jwt.maxLifetimeMs) {
    console.error(
      `Warning: TTL is longer than the organization's maxLifetime; the token will be refused`,
    );
  }
  const issuedAt = Math.floor(now / 1000);
  const jwt = await new SignJWT({
    org_id: organizationId,
    ...(userData === undefined ? {} : { user_data: userData }),
  })
    .setProtectedHeader({ alg: "HS256", typ: "JWT", kid: key.id })
    .setIssuer(origin.origin)
    .setAudience(AUDIENCE)
    .setSubject(subject)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + Math.floor(ttlMs / 1000))
    .sign(key.secret);
  console.log(jwt);
  return 0;
}

/**
 * Runs the policy command line.
 *
 * @param args The arguments after the script name.
 * @returns The process exit code.
 */
export async function main(args: readonly string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case "check":
        return await check(rest);
      case "explain":
        return await explain(rest);
      case "token":
        return await token(rest);
      case "help":
      case "--help":
      case "-h":
        console.log(USAGE);
        return 0;
      case undefined:
        throw new UsageError("No command given");
      default:
        throw new UsageError(`Unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UnreadableFileError) {
      console.error(error.message);
      return 2;
    }
    // node:util parseArgs reports unknown or malformed options as TypeErrors.
    if (error instanceof UsageError || error instanceof TypeError) {
      console.error(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    console.error(
      `Unexpected error: ${error instanceof Error ? error.message : error}`,
    );
    return 2;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
