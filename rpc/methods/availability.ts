/**
 * Whether visitors can expect an answer now: an agent is online (a live
 * `agent.stream` on any host) and the organization's `widget.hours`, when
 * set, are open. The widget settings (`chat.getConfig`, `chat.boot`'s
 * `config`, a stream's `ready` event) carry it, and a visitor's stream hears
 * of each change (`availability_watch.ts`); the widget shows its away form
 * otherwise.
 *
 * @module
 */

import type { AgentPresence } from "../../chat/agent_presence.ts";
import { isWithinHours } from "../../policy/business_hours.ts";
import type { CompiledOrganization } from "../../policy/types.ts";
import type { Availability } from "../../wire/mod.ts";
import type { MethodContext } from "../method.ts";

/**
 * @param organization The organization.
 * @param presence Who is online.
 * @param now Epoch milliseconds.
 * @returns The organization's availability at `now`.
 */
export async function availabilityOf(
  organization: CompiledOrganization,
  presence: AgentPresence,
  now: number,
): Promise<Availability> {
  const { spec } = organization;
  return {
    agentsOnline: await presence.online(spec.id),
    withinHours: spec.widget.hours === undefined ||
      isWithinHours(spec.widget.hours, now),
  };
}

/**
 * @param context The admitted request.
 * @returns The organization's availability now.
 */
export function availability(context: MethodContext): Promise<Availability> {
  return availabilityOf(
    context.organization,
    context.services.presence,
    context.now,
  );
}
