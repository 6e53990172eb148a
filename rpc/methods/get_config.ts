/**
 * `chat.getConfig`: the public widget settings of an organization, and — for
 * integrators testing with curl — whether a given origin would be admitted and
 * by which rule.
 *
 * @module
 */

import { weeklyHoursText } from "../../policy/business_hours.ts";
import type { MethodDefinition } from "../method.ts";
import { availability } from "./availability.ts";
import type { WidgetConfig } from "../../wire/mod.ts";

const DEFAULT_COLOR = "#0b5fff";

/** The `chat.getConfig` method. */
export const getConfig: MethodDefinition<"chat.getConfig"> = {
  access: "public",
  async run(context): Promise<WidgetConfig> {
    const { organization, params, evaluator } = context;
    const { spec } = organization;
    const probe = params.optionalString("origin", 2048);
    const verdict = probe === undefined
      ? undefined
      : evaluator.checkOrigin(spec.id, probe);
    return {
      organizationId: spec.id,
      name: spec.name,
      widget: {
        title: spec.widget.title ?? spec.name,
        greeting: spec.widget.greeting ?? "Hi! How can we help?",
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
      ...(verdict === undefined || probe === undefined ? {} : {
        origin: {
          origin: verdict.origin ?? probe,
          allowed: verdict.allowed,
          reason: verdict.reason,
          ...(verdict.rule === undefined ? {} : { rule: verdict.rule }),
        },
      }),
      ...await availability(context),
    };
  },
};
