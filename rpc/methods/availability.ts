/**
 * Whether visitors can expect an answer now: an agent is online (a live
 * `agent.stream` on any host) and the organization's `widget.hours`, when
 * set, are open. `chat.getConfig` and `chat.boot` both tell the widget, which
 * shows its away form otherwise.
 *
 * @module
 */

import { isWithinHours } from "../../policy/business_hours.ts";
import type { MethodContext } from "../method.ts";

/** What the widget needs to choose between the chat and the away form. */
export interface Availability {
  readonly agentsOnline: boolean;
  readonly withinHours: boolean;
}

/**
 * @param context The admitted request.
 * @returns The organization's availability now.
 */
export async function availability(
  context: MethodContext,
): Promise<Availability> {
  const { spec } = context.organization;
  return {
    agentsOnline: await context.services.presence.online(spec.id),
    withinHours: spec.widget.hours === undefined ||
      isWithinHours(spec.widget.hours, context.now),
  };
}
