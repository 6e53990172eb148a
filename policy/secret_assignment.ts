/**
 * Which environment variables each organization of a policy directory may
 * name as a secret: `_parley.yaml`'s `secrets:` map.
 *
 * In a directory, each organization's admins write their own file, but every
 * file reads the same process environment. Without an assignment, beta's
 * file could write `secret: { env: ACME_WEBHOOK_SECRET }` and receive
 * webhooks signed with acme's secret, and the problems it got back (missing,
 * too short, fine) would tell which variables are set. So an organization's
 * file sees only the variables assigned to it: any other name is
 * `secret-not-assigned` whether it is set or not, and its value is never
 * read. With no map, organization files may name no variable at all.
 *
 * ```yaml
 * secrets:
 *   acme: [ACME_*]                                  # a prefix ending in *
 *   beta: [BETA_WEBHOOK_SECRET, BETA_JWT_*]         # or exact names
 * ```
 *
 * An id with no file yet is not a problem: the operator may assign variables
 * before the organization's file arrives, and a misspelt id shows as that
 * organization's `secret-not-assigned`, whose hint names the line to add.
 *
 * @module
 */

import type { PolicyNode } from "./parse.ts";
import { ORGANIZATION_ID, schemaAt } from "./policy_schema.ts";
import type { PolicyProblem } from "./types.ts";
import type { SecretRefusal } from "./written_policy.ts";

/** Organization id → the variable names (exact, or a prefix ending in `*`) its file may name. */
export type SecretAssignment = ReadonlyMap<string, readonly string[]>;

/** The assignment of a directory whose `_parley.yaml` has no `secrets:`: nothing. */
export const NO_SECRETS: SecretAssignment = Object.freeze(
  new Map<string, readonly string[]>(),
);

/** A variable name, or a non-empty prefix of one followed by `*`: the schema's. */
const SECRET_PATTERN = new RegExp(
  schemaAt("#/$defs/settingsFile/properties/secrets/additionalProperties/items")
    .pattern ?? "^$",
);

/**
 * Whether a variable is one of an organization's.
 *
 * @param patterns The organization's entries of the map.
 * @param name A variable name.
 * @returns `true` when an exact entry is `name` or a prefix entry starts it.
 */
export function isSecretAssigned(
  patterns: readonly string[] | undefined,
  name: string,
): boolean {
  if (patterns === undefined) return false;
  for (const pattern of patterns) {
    if (
      pattern.endsWith("*")
        ? name.startsWith(pattern.slice(0, -1))
        : name === pattern
    ) {
      return true;
    }
  }
  return false;
}

/**
 * The environment an organization's file reads: only its own variables.
 *
 * @param env The whole environment.
 * @param assignment The directory's map.
 * @param organizationId The file's organization.
 * @returns A lookup that answers `undefined` for every other name, never asking `env`.
 */
export function assignedEnv(
  env: ((name: string) => string | undefined) | undefined,
  assignment: SecretAssignment,
  organizationId: string,
): (name: string) => string | undefined {
  const patterns = assignment.get(organizationId);
  return (name) =>
    env !== undefined && isSecretAssigned(patterns, name)
      ? env(name)
      : undefined;
}

/**
 * The variables of a snapshot of the environment that an organization may
 * read, for handing to code that must not see the others (a worker).
 *
 * @param env A snapshot of the environment.
 * @param assignment The directory's map.
 * @param organizationId The organization.
 * @returns A new record holding only the organization's variables.
 */
export function assignedVariables(
  env: Readonly<Record<string, string>>,
  assignment: SecretAssignment,
  organizationId: string,
): Record<string, string> {
  const patterns = assignment.get(organizationId);
  const own: Record<string, string> = {};
  for (const name of Object.keys(env)) {
    if (isSecretAssigned(patterns, name)) own[name] = env[name]!;
  }
  return own;
}

/**
 * Why an organization's file may not name a variable, or `undefined` when it may.
 *
 * @param assignment The directory's map.
 * @param organizationId The file's organization.
 * @param name The variable the file names.
 * @returns The refusal, whose hint is the `_parley.yaml` line to add.
 */
export function refuseUnassignedSecret(
  assignment: SecretAssignment,
  organizationId: string,
  name: string,
): SecretRefusal | undefined {
  const patterns = assignment.get(organizationId);
  if (isSecretAssigned(patterns, name)) return undefined;
  const line = `${organizationId}: [${[...patterns ?? [], name].join(", ")}]`;
  return {
    message:
      `Environment variable "${name}" is not assigned to organization "${organizationId}"`,
    hint: `${
      assignment.size === 0
        ? `Add to _parley.yaml "secrets:" with "  ${line}"`
        : `In _parley.yaml under "secrets:", write "  ${line}"`
    }; if the variable is another organization's, give "${organizationId}" one of its own`,
  };
}

/**
 * Reads `_parley.yaml`'s `secrets:` section.
 *
 * @param node The section's value.
 * @returns The assignment (the valid entries) and every problem, each at its node.
 */
export function readSecretAssignment(node: PolicyNode): {
  readonly assignment: SecretAssignment;
  readonly problems: readonly PolicyProblem[];
} {
  const problems: PolicyProblem[] = [];
  const report = (
    code: string,
    path: string,
    at: { line: number; column: number },
    message: string,
    hint: string,
    severity: "error" | "warning" = "error",
  ) =>
    problems.push({
      code,
      severity,
      path,
      line: at.line,
      column: at.column,
      message,
      hint,
    });
  const assignment = new Map<string, readonly string[]>();
  if (node.kind !== "map") {
    report(
      "wrong-type",
      "secrets",
      node,
      `Expected a mapping at "secrets", found ${
        node.kind === "list" ? "a list" : "a value"
      }`,
      "Write secrets: { acme: [ACME_*], beta: [BETA_WEBHOOK_SECRET] }",
    );
    return { assignment: NO_SECRETS, problems };
  }
  const written: Written[] = [];
  for (const entry of node.entries) {
    const path = `secrets.${entry.key}`;
    if (!ORGANIZATION_ID.test(entry.key)) {
      report(
        "bad-organization-id",
        path,
        entry.at,
        `Organization id "${entry.key.slice(0, 64)}" is not allowed`,
        "Use 1 to 64 letters, digits, '_' or '-': the name of its file",
      );
      continue;
    }
    if (assignment.has(entry.key)) {
      report(
        "duplicate-key",
        path,
        entry.at,
        `Key "${entry.key}" is written twice`,
        "Keep one of the entries",
      );
      continue;
    }
    const list = entry.value;
    if (list.kind !== "list") {
      report(
        "wrong-type",
        path,
        list,
        `Expected a list of variable names at "${path}"`,
        `Write ${entry.key}: [NAME, PREFIX_*]`,
      );
      continue;
    }
    const patterns: string[] = [];
    list.items.forEach((item, index) => {
      const itemPath = `${path}[${index}]`;
      const pattern = item.kind === "scalar" && typeof item.value === "string"
        ? item.value
        : undefined;
      if (pattern === undefined || !SECRET_PATTERN.test(pattern)) {
        report(
          "bad-secret-pattern",
          itemPath,
          item,
          `Entry ${
            index + 1
          } of "${path}" is not a variable name or a prefix ending in "*"`,
          `Use letters, digits and '_', not starting with a digit, e.g. ${entry.key.toUpperCase()}_* (a lone "*" would assign every variable)`,
        );
        return;
      }
      written.push({ pattern, id: entry.key, path: itemPath, at: item });
      patterns.push(pattern);
    });
    assignment.set(entry.key, Object.freeze(patterns));
  }
  for (const [earlier, later] of overlaps(written)) {
    report(
      "secret-assigned-twice",
      later.path,
      later.at,
      `"${later.pattern}" of organization "${later.id}" overlaps "${earlier.pattern}" of "${earlier.id}": both may name the same variables`,
      "Give every organization variables of its own",
      "warning",
    );
  }
  return { assignment: Object.freeze(assignment), problems };
}

/** One entry of the map, where it is written. */
interface Written {
  readonly pattern: string;
  readonly id: string;
  readonly path: string;
  readonly at: { readonly line: number; readonly column: number };
}

/**
 * The pairs of entries of different organizations that can match one
 * variable, each as (earlier, later) in the file. Sorted by name, every
 * name a prefix covers follows it directly, so this costs n log n plus the
 * pairs found, not n² over a map of thousands of organizations.
 */
function overlaps(written: readonly Written[]): [Written, Written][] {
  const stem = (entry: Written) =>
    entry.pattern.endsWith("*") ? entry.pattern.slice(0, -1) : entry.pattern;
  const sorted = written.map((entry) => ({
    entry,
    stem: stem(entry),
    prefix: entry.pattern.endsWith("*"),
  })).sort((a, b) =>
    a.stem < b.stem
      ? -1
      : a.stem > b.stem
      ? 1
      : Number(b.prefix) - Number(a.prefix)
  );
  const pairs: [Written, Written][] = [];
  for (let i = 0; i < sorted.length; i++) {
    const first = sorted[i]!;
    for (let j = i + 1; j < sorted.length; j++) {
      const next = sorted[j]!;
      const covered = first.prefix
        ? next.stem.startsWith(first.stem)
        : next.stem === first.stem && !next.prefix;
      if (!covered) break;
      if (next.entry.id === first.entry.id) continue;
      const order = first.entry.at.line - next.entry.at.line ||
        first.entry.at.column - next.entry.at.column;
      pairs.push(
        order <= 0 ? [first.entry, next.entry] : [next.entry, first.entry],
      );
    }
  }
  return pairs;
}
