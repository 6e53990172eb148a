/**
 * What `check` says of each organization that compiled: its `--json`
 * summary, and the same as indented lines. Key ids and names only, never a
 * secret.
 *
 * @module
 */

import type { OrganizationSpec } from "../policy/types.ts";

/** The `--json` summary of one organization. */
export interface OrganizationSummary {
  readonly id: string;
  readonly name: string;
  readonly appIds: readonly string[];
  readonly domains: { readonly mode: string; readonly allow: string[] };
  readonly jwt: {
    readonly mode: string;
    readonly keys: { readonly id: string; readonly until?: string }[];
    readonly maxLifetimeMs: number;
    readonly clockToleranceMs: number;
  };
  readonly limits: Readonly<
    Record<"organization" | "ip" | "session" | "agent" | "authFailures", string>
  >;
  readonly adminKeys: { readonly id: string; readonly name: string }[];
  /** Whether it has a webhook (never its URL's secret). */
  readonly webhook: boolean;
}

/**
 * Summarizes an organization.
 *
 * @param organization The compiled organization.
 * @returns Its summary.
 */
export function summarizeOrganization(
  organization: OrganizationSpec,
): OrganizationSummary {
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
      session: organization.limits.session.text,
      agent: organization.limits.agent.text,
      authFailures: organization.limits.authFailures.text,
    },
    adminKeys: organization.adminKeys.map((key) => ({
      id: key.id,
      name: key.name,
    })),
    webhook: organization.webhook !== undefined,
  };
}

/**
 * The organizations as `check` prints them: an id line, then indented
 * domains, jwt, limits, and app ids and agents when there are any.
 *
 * @param organizations The compiled organizations.
 * @returns The lines.
 */
export function organizationLines(
  organizations: readonly OrganizationSpec[],
): string[] {
  const lines: string[] = [];
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
      `    limits   organization ${summary.limits.organization}, ip ${summary.limits.ip}, session ${summary.limits.session}, agent ${summary.limits.agent}, authFailures ${summary.limits.authFailures}`,
    );
    if (summary.appIds.length) {
      lines.push(`    appIds   ${summary.appIds.join(", ")}`);
    }
    if (summary.adminKeys.length) {
      lines.push(
        `    agents   ${
          summary.adminKeys.map((key) =>
            `${key.id} (${JSON.stringify(key.name)})`
          ).join(", ")
        }`,
      );
    }
  }
  return lines;
}
