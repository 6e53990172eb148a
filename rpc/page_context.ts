/**
 * The page a visitor is on, as the widget reports it at boot and on SPA
 * navigations: kept only when its URL is on the session's own origin, so a
 * page cannot show agents a link to somewhere else.
 *
 * @module
 */

import type { PageInfo } from "../wire/records.ts";
import { parseRequestOrigin } from "../policy/domain_matcher.ts";
import { parseUrlWithoutUserInfo } from "../policy/host.ts";
import type { Params } from "./params.ts";

/**
 * Reads `url`, `title` and `referrer` from `fields`.
 *
 * @param fields The page object of the request body.
 * @param origin The session's normalised origin (`null` without one).
 * @returns The page, or `undefined` when its URL is not on `origin`.
 * @throws {RpcError} `BAD_REQUEST` for wrong types or lengths.
 */
export function pageContext(
  fields: Params,
  origin: string | null,
): PageInfo | undefined {
  const url = fields.requiredString("url", 2048);
  const title = fields.optionalString("title", 300);
  const referrer = fields.optionalString("referrer", 2048);
  if (origin === null || !onOrigin(url, origin)) return undefined;
  return {
    url,
    ...(title === undefined || title === "" ? {} : { title }),
    ...(referrer === undefined || referrer === "" ? {} : { referrer }),
  };
}

function onOrigin(url: string, origin: string): boolean {
  const parsed = parseUrlWithoutUserInfo(url);
  return parsed !== undefined &&
    parseRequestOrigin(parsed.origin)?.origin === origin;
}
