/**
 * Which hosts and addresses a webhook may reach: only public ones. A policy
 * author must not aim the server's signed POSTs at the machine itself, its
 * network, or a cloud's metadata service, by writing such an address or a
 * name that leads there.
 *
 * The same rule runs twice: on the URL when the policy is validated (names
 * and literal addresses, in every form the URL parser accepts — `2130706433`,
 * `0177.0.0.1`, `127.1`, `[::ffff:127.0.0.1]` all read as 127.0.0.1), and on
 * every address a name resolves to when a delivery is made (see
 * `chat/webhook_dispatcher.ts`), since a public name can point anywhere.
 *
 * Refused, by kind:
 * - `loopback`: 127/8, ::1, `localhost` and `*.localhost`;
 * - `unspecified`: 0/8, ::;
 * - `private`: 10/8, 172.16/12, 192.168/16, fc00::/7 (and the retired
 *   site-local fec0::/10, the local-use NAT64 64:ff9b:1::/48);
 * - `link-local`: 169.254/16, fe80::/10;
 * - `carrier-grade-nat`: 100.64/10;
 * - `multicast`: 224/4, ff00::/8;
 * - `metadata`: the cloud instance-metadata services' addresses and names;
 * - `reserved`: documentation, benchmarking and future-use ranges, the
 *   broadcast address, and IPv6 outside global unicast 2000::/3;
 * - `internal-name`: names that only resolve inside a network: one label
 *   (found through the resolver's search domains), `.internal`, `.local`,
 *   `.home.arpa`.
 *
 * IPv6 forms that carry an IPv4 address (IPv4-mapped ::ffff:0:0/96, NAT64
 * 64:ff9b::/96, 6to4 2002::/16) are judged by that address.
 *
 * Pure: no DNS, no I/O.
 *
 * @module
 */

import { urlHostname } from "./host.ts";

/** Why an address or host is not one a webhook may reach. */
export type PrivateAddressKind =
  | "loopback"
  | "unspecified"
  | "private"
  | "link-local"
  | "carrier-grade-nat"
  | "multicast"
  | "metadata"
  | "reserved"
  | "internal-name";

/** What is wrong with a webhook URL, for the policy's problem codes. */
export type WebhookUrlProblem =
  | { readonly code: "webhook-not-https" }
  | {
    readonly code: "webhook-private-address";
    readonly kind: PrivateAddressKind;
  };

interface Range {
  readonly bytes: readonly number[];
  readonly bits: number;
  readonly kind: PrivateAddressKind;
}

/** Checked in order: the first match decides (so a metadata address wins over its range). */
const IPV4_RANGES: readonly Range[] = [
  v4("169.254.169.254", 32, "metadata"),
  v4("169.254.170.2", 32, "metadata"),
  v4("100.100.100.200", 32, "metadata"),
  v4("0.0.0.0", 8, "unspecified"),
  v4("10.0.0.0", 8, "private"),
  v4("100.64.0.0", 10, "carrier-grade-nat"),
  v4("127.0.0.0", 8, "loopback"),
  v4("169.254.0.0", 16, "link-local"),
  v4("172.16.0.0", 12, "private"),
  v4("192.0.0.0", 24, "reserved"),
  v4("192.0.2.0", 24, "reserved"),
  v4("192.88.99.0", 24, "reserved"),
  v4("192.168.0.0", 16, "private"),
  v4("198.18.0.0", 15, "reserved"),
  v4("198.51.100.0", 24, "reserved"),
  v4("203.0.113.0", 24, "reserved"),
  v4("224.0.0.0", 4, "multicast"),
  v4("240.0.0.0", 4, "reserved"),
];

const IPV6_RANGES: readonly Range[] = [
  v6("fd00:ec2::254", 128, "metadata"),
  v6("::", 128, "unspecified"),
  v6("::1", 128, "loopback"),
  v6("64:ff9b:1::", 48, "private"),
  v6("100::", 64, "reserved"),
  v6("2001::", 32, "reserved"),
  v6("2001:db8::", 32, "reserved"),
  v6("fc00::", 7, "private"),
  v6("fe80::", 10, "link-local"),
  v6("fec0::", 10, "private"),
  v6("ff00::", 8, "multicast"),
];

/** IPv6 prefixes whose address holds an IPv4 one: prefix, length, where the IPv4 bytes start. */
const EMBEDDED_IPV4: readonly { prefix: Range; offset: number }[] = [
  { prefix: v6("::ffff:0:0", 96, "reserved"), offset: 12 },
  { prefix: v6("64:ff9b::", 96, "reserved"), offset: 12 },
  { prefix: v6("2002::", 16, "reserved"), offset: 2 },
];

const METADATA_NAMES: ReadonlySet<string> = new Set([
  "metadata",
  "metadata.google.internal",
  "metadata.goog",
  "metadata.tencentyun.com",
  "instance-data",
  "instance-data.ec2.internal",
]);

const INTERNAL_SUFFIXES = [".internal", ".local", ".home.arpa"];

/**
 * Judges one IP address.
 *
 * @param address Dotted IPv4 or IPv6 text (brackets and a zone id allowed),
 *   e.g. what a DNS lookup returns.
 * @returns Why a webhook may not reach it, or `undefined` for a public
 *   address. Text that is not an address is `reserved` (refused).
 */
export function privateAddressKind(
  address: string,
): PrivateAddressKind | undefined {
  const v4Bytes = parseIpv4(address);
  if (v4Bytes !== undefined) return match(v4Bytes, IPV4_RANGES);
  const v6Bytes = parseIpv6(address);
  if (v6Bytes === undefined) return "reserved";
  const known = match(v6Bytes, IPV6_RANGES);
  if (known !== undefined) return known;
  for (const { prefix, offset } of EMBEDDED_IPV4) {
    if (inRange(v6Bytes, prefix)) {
      return match(v6Bytes.slice(offset, offset + 4), IPV4_RANGES);
    }
  }
  // Only 2000::/3 is allocated for global unicast.
  return (v6Bytes[0]! & 0xe0) === 0x20 ? undefined : "reserved";
}

/**
 * Judges a host as a URL names it: an address literal by
 * {@linkcode privateAddressKind}, a name by what it is known to lead to.
 *
 * @param host A URL's `hostname` (IPv6 in brackets), any case, a trailing dot allowed.
 * @returns Why a webhook may not go there, or `undefined` when it may (a name
 *   must then still resolve to public addresses only).
 */
export function privateHostKind(host: string): PrivateAddressKind | undefined {
  const name = canonicalHost(host);
  if (name === undefined) return "reserved";
  if (name.startsWith("[") || parseIpv4(name) !== undefined) {
    return privateAddressKind(name);
  }
  if (name === "localhost" || name.endsWith(".localhost")) return "loopback";
  if (METADATA_NAMES.has(name)) return "metadata";
  if (!name.includes(".")) return "internal-name";
  if (INTERNAL_SUFFIXES.some((suffix) => name.endsWith(suffix))) {
    return "internal-name";
  }
  return undefined;
}

/**
 * An `allowWebhookHosts` entry in the form a URL's `hostname` has, so the two
 * compare as strings: lower case, IDN as punycode, no trailing dot, IPv4 as
 * four decimals, IPv6 compressed in brackets.
 *
 * @param entry `hooks.dev.test`, `127.0.0.1`, `::1` or `[::1]`.
 * @returns The host, or `undefined` when the entry is not a bare host (no
 *   scheme, port, path or wildcard).
 */
export function canonicalHost(entry: string): string | undefined {
  let text = entry.trim();
  if (text === "" || /[\s/?#@\\*%]/.test(text)) return undefined;
  // A colon outside brackets is an IPv6 address written bare (a port is refused below).
  if (!text.startsWith("[") && text.includes(":")) text = `[${text}]`;
  if (text.startsWith("[") && !/^\[[0-9A-Fa-f:.]+\]$/.test(text)) {
    return undefined;
  }
  return urlHostname(text);
}

/**
 * The webhook rule on a URL: `https:` to a host that is not private, unless
 * the operator lists the host in `server.allowWebhookHosts`, where `http:` and
 * private addresses are allowed (tests, local development).
 *
 * @param url The parsed webhook URL (`http:` or `https:`).
 * @param allowHosts `server.allowWebhookHosts`, each from {@linkcode canonicalHost}.
 * @returns The problem, or `undefined` when the URL may be used.
 */
export function webhookUrlProblem(
  url: URL,
  allowHosts: readonly string[],
): WebhookUrlProblem | undefined {
  if (isAllowedWebhookHost(url.hostname, allowHosts)) return undefined;
  const kind = privateHostKind(url.hostname);
  if (kind !== undefined) return { code: "webhook-private-address", kind };
  if (url.protocol !== "https:") return { code: "webhook-not-https" };
  return undefined;
}

/**
 * @param host A URL's `hostname`.
 * @param allowHosts `server.allowWebhookHosts`, canonical.
 * @returns Whether the operator lets webhooks use `http:` and private addresses on it.
 */
export function isAllowedWebhookHost(
  host: string,
  allowHosts: readonly string[],
): boolean {
  if (allowHosts.length === 0) return false;
  const name = canonicalHost(host);
  return name !== undefined && allowHosts.includes(name);
}

function match(
  bytes: readonly number[],
  ranges: readonly Range[],
): PrivateAddressKind | undefined {
  return ranges.find((range) => inRange(bytes, range))?.kind;
}

function inRange(bytes: readonly number[], range: Range): boolean {
  if (bytes.length !== range.bytes.length) return false;
  let bits = range.bits;
  for (let index = 0; bits > 0; index++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((bytes[index]! & mask) !== (range.bytes[index]! & mask)) return false;
  }
  return true;
}

function v4(text: string, bits: number, kind: PrivateAddressKind): Range {
  return { bytes: parseIpv4(text)!, bits, kind };
}

function v6(text: string, bits: number, kind: PrivateAddressKind): Range {
  return { bytes: parseIpv6(text)!, bits, kind };
}

/** Four decimal octets, as resolvers and the URL parser write them. */
function parseIpv4(text: string): number[] | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (match === null) return undefined;
  const bytes = match.slice(1).map(Number);
  return bytes.every((byte) => byte <= 255) ? bytes : undefined;
}

/** 16 bytes of IPv6 text: `::` compression, a dotted IPv4 tail, brackets and a zone id allowed. */
function parseIpv6(text: string): number[] | undefined {
  let rest = text;
  if (rest.startsWith("[") && rest.endsWith("]")) rest = rest.slice(1, -1);
  const zone = rest.indexOf("%");
  if (zone !== -1) rest = rest.slice(0, zone);
  if (!/^[0-9A-Fa-f:.]+$/.test(rest) || !rest.includes(":")) return undefined;
  const halves = rest.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const pieces = part.split(":");
    for (const [index, piece] of pieces.entries()) {
      if (index === pieces.length - 1 && piece.includes(".")) {
        const tail = parseIpv4(piece);
        if (tail === undefined) return undefined;
        out.push((tail[0]! << 8) | tail[1]!, (tail[2]! << 8) | tail[3]!);
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(piece)) {
        out.push(parseInt(piece, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const words = [...head, ...new Array<number>(missing).fill(0), ...tail];
  return words.flatMap((word) => [word >> 8, word & 0xff]);
}
