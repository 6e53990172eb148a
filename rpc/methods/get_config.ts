/**
 * `chat.getConfig`: the public widget settings of an organization (the same
 * object `chat.boot` carries as `config`), and — for integrators testing
 * with curl — whether a given origin would be admitted and by which rule.
 *
 * @module
 */

import type { MethodDefinition } from "../method.ts";
import type { WidgetConfig } from "../../wire/mod.ts";
import { widgetConfig } from "./widget_config.ts";

/** The `chat.getConfig` method. */
export const getConfig: MethodDefinition<"chat.getConfig"> = {
  access: "public",
  async run(context): Promise<WidgetConfig> {
    const { organization, params, evaluator } = context;
    const probe = params.optionalString("origin", 2048);
    const config = await widgetConfig(context);
    if (probe === undefined) return config;
    const verdict = evaluator.checkOrigin(organization.spec.id, probe);
    return {
      ...config,
      origin: {
        origin: verdict.origin ?? probe,
        allowed: verdict.allowed,
        reason: verdict.reason,
        ...(verdict.rule === undefined ? {} : { rule: verdict.rule }),
      },
    };
  },
};
