/**
 * What the operator is told of webhook deliveries: every attempt counted in
 * `/metrics`, and one stderr line per organization and policy revision when
 * its webhook is refused for the address it leads to.
 *
 * @module
 */

import type { WebhookOutcome } from "../chat/webhook_dispatcher.ts";
import type { PolicySource } from "../policy_source/policy_source.ts";
import { UNKNOWN_ORGANIZATION } from "../store/store.ts";
import type { Metrics } from "./metrics.ts";

/**
 * Counts every delivery attempt in `/metrics`, and says once per
 * organization and policy revision on stderr that its webhook was refused
 * for the address it leads to (one line, however many messages follow).
 *
 * @param policy The policy in force (which organizations are known, its revision).
 * @param metrics Where attempts are counted.
 * @returns The dispatcher's `onOutcome`.
 */
export function webhookOutcomeRecorder(
  policy: PolicySource,
  metrics: Metrics,
): (outcome: WebhookOutcome) => void {
  const warned = new Map<string, string>();
  return (outcome) => {
    const known = policy.current.organization(outcome.organizationId) !==
      undefined;
    const organization = known ? outcome.organizationId : UNKNOWN_ORGANIZATION;
    const refused = outcome.error === "private-address" ||
      outcome.error === "not-https";
    metrics.webhook(
      organization,
      outcome.ok
        ? "delivered"
        : refused
        ? "refused"
        : outcome.error === "no-webhook" || outcome.error === "not-due"
        ? "dropped"
        : outcome.final
        ? "failed"
        : "retrying",
    );
    const revision = policy.current.revision;
    if (!refused || !known || warned.get(organization) === revision) return;
    warned.set(organization, revision);
    console.warn(
      `Webhook of organization "${organization}" refused, not retried: its URL ${
        outcome.error === "not-https"
          ? "is not https"
          : `leads to an address webhooks may not reach (${outcome.addressKind})`
      } (webhooks reach only public https endpoints; an operator allows a development host in server.allowWebhookHosts)`,
    );
  };
}
