/**
 * `deno task policy explain POLICY --org ID [--origin URL] [--token JWT]
 * [--user-id U] [--app-id A] [--method M] [--json]`: the decision the
 * evaluator makes for one request, with the trace that led to it.
 *
 * Exit codes: 0 the request is allowed, 1 it is refused (or the policy does
 * not compile), 2 bad usage or an unreadable policy.
 *
 * @module
 */

import type { Explanation, Facts } from "../policy/types.ts";
import { onePolicy, parseArguments, required } from "./arguments.ts";
import { organizationPolicy } from "./organization_policy.ts";
import { printJson } from "./output.ts";

/**
 * Runs `explain`.
 *
 * @param args The arguments after `explain`.
 * @returns The exit code.
 * @throws {UsageError} When the policy or `--org` is missing, or an option is unknown.
 */
export async function explain(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseArguments(args, {
    org: { type: "string" },
    origin: { type: "string" },
    token: { type: "string" },
    "user-id": { type: "string" },
    "app-id": { type: "string" },
    method: { type: "string" },
    json: { type: "boolean" },
  });
  const path = onePolicy(positionals);
  const organizationId = required(values.org, "org");
  const evaluator = await organizationPolicy(path, organizationId);
  if (evaluator === undefined) return 1;
  const facts: Facts = {
    organizationId,
    origin: values.origin ?? null,
    ...(values.token === undefined ? {} : { token: values.token }),
    ...(values["user-id"] === undefined ? {} : { userId: values["user-id"] }),
    ...(values["app-id"] === undefined ? {} : { appId: values["app-id"] }),
    method: values.method ?? "chat.boot",
  };
  const explanation = await evaluator.explain(facts);
  if (values.json) printJson(explanation);
  else for (const line of explanationLines(explanation)) console.log(line);
  return explanation.allowed ? 0 : 1;
}

/**
 * An explanation as text: the verdict, the origin and rule, the identity,
 * what enforcement would do in report mode, and the trace.
 *
 * @param explanation The evaluator's explanation.
 * @returns The lines to print.
 */
export function explanationLines(explanation: Explanation): string[] {
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
