/**
 * The webhook's `url` beyond its schema: an absolute http or https URL with
 * a host. Webhook URLs often carry a token, so no problem quotes one.
 *
 * @module
 */

import type { DocumentPath } from "./problems.ts";
import type { RuleContext } from "./written_policy.ts";

/**
 * Checks a webhook URL.
 *
 * @param text The URL as written.
 * @param path Its path.
 * @param context The document and problems.
 * @returns The URL, normalised, or `undefined` when it is not one.
 */
export function readWebhookUrl(
  text: string | undefined,
  path: DocumentPath,
  { document, problems }: RuleContext,
): string | undefined {
  if (text === undefined) return undefined;
  const url = URL.parse(text);
  if (
    url !== null && (url.protocol === "http:" || url.protocol === "https:") &&
    url.hostname !== ""
  ) return url.href;
  problems.error(
    "bad-url",
    path,
    document.at(path),
    "Webhook URL is not an absolute http or https URL",
    "Write url: https://host/path",
  );
  return undefined;
}
