/**
 * The public widget settings of an organization: what `chat.getConfig`
 * answers, what `chat.boot` hands the widget as `config`, and what a
 * visitor's stream repeats in its `ready` event — one function, so the three
 * can never disagree.
 *
 * @module
 */

import type { AgentPresence } from "../../chat/agent_presence.ts";
import { weeklyHoursText } from "../../policy/business_hours.ts";
import type { CompiledOrganization } from "../../policy/types.ts";
import type { WidgetConfig } from "../../wire/mod.ts";
import { availabilityOf } from "./availability.ts";

const DEFAULT_COLOR = "#0b5fff";
const DEFAULT_GREETING = "Hi! How can we help?";

/**
 * @param organization The organization.
 * @param presence Who is online, for `agentsOnline`.
 * @param now Epoch milliseconds, for `withinHours`.
 * @returns The settings, with defaults filled in.
 */
export async function widgetConfig(
  organization: CompiledOrganization,
  presence: AgentPresence,
  now: number,
): Promise<WidgetConfig> {
  const { spec } = organization;
  return {
    organizationId: spec.id,
    name: spec.name,
    widget: {
      title: spec.widget.title ?? spec.name,
      greeting: spec.widget.greeting ?? DEFAULT_GREETING,
      color: spec.widget.color ?? DEFAULT_COLOR,
      position: spec.widget.position ?? "right",
      ...(spec.widget.hours === undefined ? {} : {
        hours: {
          timezone: spec.widget.hours.timezone,
          weekly: weeklyHoursText(spec.widget.hours),
        },
      }),
    },
    jwt: { mode: spec.jwt.mode },
    domains: { mode: spec.domains.mode },
    limits: {
      organization: spec.limits.organization.text,
      ip: spec.limits.ip.text,
    },
    ...await availabilityOf(organization, presence, now),
  };
}
