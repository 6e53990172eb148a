/**
 * The public widget settings of an organization: what `chat.getConfig`
 * answers, what `chat.boot` hands the widget as `config`, and what a
 * visitor's stream repeats in its `ready` event — one function, so the three
 * can never disagree.
 *
 * @module
 */

import { weeklyHoursText } from "../../policy/business_hours.ts";
import type { WidgetConfig } from "../../wire/mod.ts";
import type { MethodContext } from "../method.ts";
import { availability } from "./availability.ts";

const DEFAULT_COLOR = "#0b5fff";
const DEFAULT_GREETING = "Hi! How can we help?";

/**
 * @param context The admitted request: its organization, and who is online
 *   at its `now` for `agentsOnline` and `withinHours`.
 * @returns The settings, with defaults filled in.
 */
export async function widgetConfig(
  context: MethodContext,
): Promise<WidgetConfig> {
  const { spec } = context.organization;
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
    ...await availability(context),
  };
}
