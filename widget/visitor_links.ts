/**
 * What of the visitor's own words the inbox may make clickable. The page,
 * its referrer and the contact address are written by the visitor (or the
 * page they are on), so the inbox shows them as data: a link only where it
 * cannot send an agent elsewhere.
 *
 * - The page and the referrer are links only on the session's own origin.
 *   The server keeps a page only when its URL is on that origin, so the
 *   page's origin is the session's; a referrer anywhere else (a search
 *   engine, or `https://acme-support.evil.example/sso/login`) is plain text.
 * - The contact is a `mailto:` only when it passes the wire's address rule
 *   (as `chat.setContact` does; an address stored before the rule tightened
 *   may not), with its local part percent-encoded, so no `?cc=` or `#` in
 *   it can add a recipient or cut the address.
 *
 * @module
 */

import { isEmailAddress, type PageInfo } from "../wire/mod.ts";

/** Text to show, and where it links to when it may be a link. */
export interface Shown {
  readonly text: string;
  readonly href?: string;
}

/**
 * The page and its referrer as the inbox shows them.
 *
 * @param page The visitor's page.
 * @returns The page (linked when it is a web page) and the referrer (linked
 *   only on the page's origin), each with its text.
 */
export function pageFields(
  page: PageInfo,
): { readonly page: Shown; readonly referrer?: Shown } {
  const origin = webOrigin(page.url);
  const shownPage: Shown = origin === undefined
    ? { text: page.title || page.url }
    : { text: page.title || page.url, href: page.url };
  if (!page.referrer) return { page: shownPage };
  const referrer: Shown =
    origin !== undefined && webOrigin(page.referrer) === origin
      ? { text: page.referrer, href: page.referrer }
      : { text: page.referrer };
  return { page: shownPage, referrer };
}

/**
 * The contact address as the inbox shows it.
 *
 * @param email The address the visitor left.
 * @returns The address, with a `mailto:` when it is a plain address.
 */
export function contactField(email: string): Shown {
  if (!isEmailAddress(email)) return { text: email };
  const at = email.lastIndexOf("@");
  return {
    text: email,
    href: `mailto:${encodeURIComponent(email.slice(0, at))}${email.slice(at)}`,
  };
}

/** The origin of an `http:`/`https:` URL without credentials; otherwise `undefined`. */
function webOrigin(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
  if (url.username !== "" || url.password !== "") return undefined;
  return url.origin;
}
