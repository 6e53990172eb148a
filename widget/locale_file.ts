/**
 * Fetches a locale file (`GET {apiBaseUrl}/locales/<locale>.json`) for a
 * language other than the built-in English: one small public JSON file per
 * locale, cached by the browser (the server sends an ETag and
 * `Cache-Control`), so a page load after the first usually costs no
 * request, and a later one at most a `304`. No cookies, no session: the file
 * is the same for everyone.
 *
 * @module
 */

import { type Catalogue, readCatalogue } from "./i18n/catalogue.ts";
import { serverUrl } from "./rpc_client.ts";

/**
 * @param apiBaseUrl where the Parley server answers
 * @param locale a locale Parley ships (`SUPPORTED_LOCALES`), not `en`
 * @returns the catalogue (keys the file lacks read in English)
 * @throws {Error} when the file cannot be fetched or read
 */
export async function fetchCatalogue(
  apiBaseUrl: string,
  locale: string,
): Promise<Catalogue> {
  const response = await fetch(
    serverUrl(apiBaseUrl, `/locales/${locale}.json`),
    { credentials: "omit" },
  );
  if (!response.ok) throw new Error(`locale ${locale}: ${response.status}`);
  return readCatalogue(locale, await response.json());
}
