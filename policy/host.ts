/**
 * Host and origin normalisation shared by the policy validator (domain
 * patterns) and the evaluator (request origins), so both compare the same form:
 * lower-case, IDN as punycode, no trailing dot.
 *
 * @module
 */

/**
 * Normalises a host name the way browsers serialise it in `Origin`.
 *
 * @param host A host name, possibly upper-case, Unicode or with a trailing dot.
 * @returns The normalised host, or `undefined` when it is not a valid host.
 */
export function normalizeHost(host: string): string | undefined {
  if (host === "" || /[\s/?#@\\:*%]/.test(host)) return undefined;
  return urlHostname(host);
}

/**
 * The host as a URL's `hostname` has it (lower case, IDN as punycode, IPv4
 * as four decimals, IPv6 compressed in brackets), without a trailing dot.
 *
 * @param text A host, or a bracketed IPv6 address, that the caller has
 *   checked holds no scheme, user info, port or path.
 * @returns The host, or `undefined` when the URL parser refuses it or it is
 *   empty or has an empty label.
 */
export function urlHostname(text: string): string | undefined {
  let hostname: string;
  try {
    hostname = new URL(`http://${text}`).hostname;
  } catch {
    return undefined;
  }
  if (hostname.endsWith(".")) hostname = hostname.slice(0, -1);
  if (hostname === "" || hostname.includes("..")) return undefined;
  return hostname;
}

/** An origin split into its parts, normalised. */
export interface ParsedOrigin {
  readonly scheme: "http" | "https";
  readonly host: string;
  /** The explicit port, or the scheme's default (80, 443). */
  readonly port: number;
  /** `scheme://host[:port]`, the port only when not the default. */
  readonly origin: string;
}

/**
 * Parses an `Origin` header value (`scheme://host[:port]`). Anything with a
 * path, query, fragment, user info or another scheme is refused, as is the
 * literal `null` that sandboxed frames send.
 *
 * @param value The header value.
 * @returns The parsed origin, or `undefined` when it is not a web origin.
 */
export function parseOrigin(value: string): ParsedOrigin | undefined {
  if (value.length > 2048) return undefined;
  const match = /^(https?):\/\/([^/?#@\\]+)$/i.exec(value);
  if (!match) return undefined;
  const url = parseUrlWithoutUserInfo(value);
  if (url === undefined) return undefined;
  const scheme = url.protocol === "https:" ? "https" : "http";
  let host = url.hostname;
  if (host.endsWith(".")) host = host.slice(0, -1);
  if (host === "") return undefined;
  const defaultPort = scheme === "https" ? 443 : 80;
  const port = url.port === "" ? defaultPort : Number(url.port);
  const origin = port === defaultPort
    ? `${scheme}://${host}`
    : `${scheme}://${host}:${port}`;
  return { scheme, host, port, origin };
}

/**
 * Parses an absolute URL that carries no user name or password: a page or
 * origin that names credentials is refused rather than shown or matched.
 *
 * @param text The URL.
 * @returns The URL, or `undefined` when it does not parse or has user info.
 */
export function parseUrlWithoutUserInfo(text: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.username !== "" || url.password !== "") return undefined;
  return url;
}
