/**
 * An organization's `widget` section beyond its schema: its business hours
 * read (`business_hours.ts`), the unanswered delay in milliseconds, and a
 * `low-contrast` warning when white text on its color would not read (the
 * widget then writes near-black text on it, `contrast.ts`).
 *
 * @module
 */

import { readBusinessHours } from "./business_hours.ts";
import { contrastRatio, MIN_TEXT_CONTRAST } from "./contrast.ts";
import { schemaAt } from "./policy_schema.ts";
import type { DocumentPath } from "./problems.ts";
import { parseDuration } from "./rate.ts";
import type { WidgetSettings } from "./types.ts";
import type { RuleContext, WrittenWidget } from "./written_policy.ts";

/** `widget.unansweredAfter` when the policy leaves it out, milliseconds. */
export const DEFAULT_UNANSWERED_AFTER_MS: number = parseDuration(
  schemaAt(
    "#/$defs/organization/properties/widget/properties/unansweredAfter",
  ).default as string,
)!;

/**
 * Reads an organization's `widget` section.
 *
 * @param widget The section as written and checked by the schema.
 * @param path Its path.
 * @param context The document and problems.
 * @returns The settings the widget shows, in the order written.
 */
export function readWidget(
  widget: WrittenWidget | undefined,
  path: DocumentPath,
  context: RuleContext,
): WidgetSettings {
  const { hours: _, unansweredAfter, ...shown } = widget ?? {};
  const hours = readBusinessHours(widget?.hours, [...path, "hours"], context);
  // A color the schema found wrong is gone by now.
  const contrast = shown.color === undefined
    ? Infinity
    : contrastRatio("#fff", shown.color);
  if (contrast < MIN_TEXT_CONTRAST) {
    const colorPath = [...path, "color"];
    context.problems.warning(
      "low-contrast",
      colorPath,
      context.document.at(colorPath),
      `White text on ${shown.color} has a contrast of ${
        contrast.toFixed(2)
      }:1, under the ${MIN_TEXT_CONTRAST}:1 WCAG AA asks for`,
      "Choose a darker color (Parley's default #0b5fff has 5.1:1); until then the widget writes near-black text on it",
    );
  }
  return {
    ...shown,
    ...(hours === undefined ? {} : { hours }),
    unansweredAfterMs: unansweredAfter === undefined
      ? DEFAULT_UNANSWERED_AFTER_MS
      : parseDuration(unansweredAfter)!,
  };
}
