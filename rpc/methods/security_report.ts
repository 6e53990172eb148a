/**
 * `agent.securityReport {organizationId, hours?}`: the organization's
 * security report for its admin-key holders (see `security_report.ts`).
 *
 * @module
 */

import type { MethodDefinition } from "../method.ts";
import {
  DEFAULT_REPORT_HOURS,
  MAX_REPORT_HOURS,
  readSecurityReport,
} from "../../observability/security_report.ts";
import type { SecurityReport } from "../../wire/mod.ts";

/** The `agent.securityReport` method. */
export const securityReport: MethodDefinition<"agent.securityReport"> = {
  access: "agent",
  async run({ organization, params, services, now }): Promise<SecurityReport> {
    const hours = params.optionalInteger("hours", 1, MAX_REPORT_HOURS) ??
      DEFAULT_REPORT_HOURS;
    return await readSecurityReport(
      services.security,
      organization.spec,
      hours,
      now,
    );
  },
};
