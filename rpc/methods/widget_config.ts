/**
 * The public widget settings of an organization: what `chat.getConfig`
 * answers, what `chat.boot` hands the widget as `config`, and what a
 * visitor's stream repeats in its `ready` event — one function, so the three
 * can never disagree.
 *
 * @module
 */

import { weeklyHoursText } from "../../policy/business_hours.ts";
import type { LocalizedText } from "../../policy/types.ts";
import { resolveAdminText } from "../../wire/admin_text.ts";
import { chooseLanguage } from "../../wire/locale_match.ts";
import { DEFAULT_GREETING, type WidgetConfig } from "../../wire/mod.ts";
import type { MethodContext } from "../method.ts";
import { availability } from "./availability.ts";

const DEFAULT_COLOR = "#0b5fff";

/**
 * @param context The admitted request: its organization, and who is online
 *   at its `now` for `agentsOnline` and `withinHours`.
 * @returns The settings, with defaults filled in.
 */
export async function widgetConfig(
  context: MethodContext,
): Promise<WidgetConfig> {
  const { spec } = context.organization;
  const { title, greeting, awayMessage } = spec.widget;
  const language = spec.widget.language ?? "en";
  // One text per setting in the organization's own language, for callers
  // that read one (curl, the inbox); the widget picks from `texts`.
  const choice = chooseLanguage({ organization: language });
  const inOwnLanguage = (text: LocalizedText) =>
    resolveAdminText(text, choice, language);
  const texts = Object.fromEntries(
    Object.entries({ title, greeting, awayMessage }).filter(([, text]) =>
      typeof text === "object"
    ),
  );
  return {
    organizationId: spec.id,
    name: spec.name,
    widget: {
      title: title === undefined ? spec.name : inOwnLanguage(title),
      greeting: greeting === undefined
        ? DEFAULT_GREETING
        : inOwnLanguage(greeting),
      ...(awayMessage === undefined
        ? {}
        : { awayMessage: inOwnLanguage(awayMessage) }),
      language,
      ...(Object.keys(texts).length === 0 ? {} : { texts }),
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
