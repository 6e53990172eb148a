/**
 * `domains.allow` entries: `acme.com`, `*.acme.com`, `http://localhost:3000`,
 * `https://x.com:8443`, `http://*.acme.test`. What a schema cannot say about
 * them lives here: the host must be one, a wildcard may not cover a public
 * suffix (`*.co.uk`), and an entry written twice is pointless. The matcher
 * that applies the parsed patterns is `domain_matcher.ts`.
 *
 * @module
 */

import { getPublicSuffix } from "tldts";
import { normalizeHost } from "./host.ts";
import { clip, type DocumentPath } from "./problems.ts";
import type { DomainMode, DomainPattern, OrganizationSpec } from "./types.ts";
import type { RuleContext, WrittenOrganization } from "./written_policy.ts";

/** What `parseDomainPattern` says about a bad entry. */
export interface DomainPatternProblem {
  readonly code: "bad-domain-pattern" | "wildcard-public-suffix";
  readonly message: string;
  readonly hint: string;
}

/**
 * Parses one `domains.allow` entry: `acme.com`, `*.acme.com`,
 * `http://localhost:3000`, `https://x.com:8443`, `http://*.acme.test`.
 *
 * @param source The entry as written.
 * @returns The normalised pattern, or the problem with it.
 */
export function parseDomainPattern(
  source: string,
): DomainPattern | DomainPatternProblem {
  const bad = (message: string, hint: string): DomainPatternProblem => ({
    code: "bad-domain-pattern",
    message,
    hint,
  });
  const quoted = `"${clip(source)}"`;
  let rest = source;
  let scheme: "http" | "https" = "https";
  const schemeMatch = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(source);
  if (schemeMatch) {
    const written = (schemeMatch[1] ?? "").toLowerCase();
    if (written !== "http" && written !== "https") {
      return bad(
        `Domain ${quoted} uses the scheme "${written}"`,
        "Only http:// and https:// pages can embed the widget",
      );
    }
    scheme = written;
    rest = source.slice(schemeMatch[0].length);
  } else if (source.includes("://")) {
    return bad(`Domain ${quoted} has no valid scheme`, "Write https://host");
  }
  if (/[/?#]/.test(rest)) {
    return bad(
      `Domain ${quoted} has a path, query or fragment`,
      "An origin is scheme://host[:port]; remove everything after the host",
    );
  }
  if (rest.includes("@")) {
    return bad(
      `Domain ${quoted} has user info`,
      "Remove the part before '@'",
    );
  }
  let hostText = rest;
  let port: number | undefined;
  const portMatch = /^(.*?):(\d{1,5})$/.exec(rest);
  if (portMatch && !rest.endsWith("]")) {
    hostText = portMatch[1] ?? "";
    port = Number(portMatch[2]);
    if (port < 1 || port > 65_535) {
      return bad(`Domain ${quoted} has an invalid port`, "Use a port 1–65535");
    }
  }
  let wildcard = false;
  if (hostText.startsWith("*.")) {
    wildcard = true;
    hostText = hostText.slice(2);
  }
  if (hostText.includes("*")) {
    return bad(
      `Domain ${quoted} has a wildcard that is not a leading "*."`,
      `Write "*.example.com" for all subdomains, or list hosts one by one`,
    );
  }
  let host: string | undefined;
  if (hostText.startsWith("[")) {
    host = normalizeIpv6(hostText);
  } else {
    host = normalizeHost(hostText);
    if (host !== undefined && hostText.includes(":")) host = undefined;
  }
  if (host === undefined) {
    return bad(
      `Domain ${quoted} has an invalid host`,
      "Write a host such as example.com, *.example.com or http://localhost:3000",
    );
  }
  if (wildcard) {
    if (host.startsWith("[") || /^\d+(?:\.\d+){3}$/.test(host)) {
      return bad(
        `Domain ${quoted} puts a wildcard on an IP address`,
        "List the address without '*.'",
      );
    }
    if (host !== "localhost" && isPublicSuffix(host)) {
      return {
        code: "wildcard-public-suffix",
        message:
          `Domain ${quoted} matches every site under the public suffix "${host}"`,
        hint: `Name your own domain, e.g. "*.example.${host}"`,
      };
    }
  }
  return Object.freeze({
    source,
    scheme,
    host,
    wildcard,
    ...(port === undefined ? {} : { port }),
  });
}

function isPublicSuffix(host: string): boolean {
  try {
    return getPublicSuffix(host, { allowPrivateDomains: true }) === host;
  } catch {
    return true;
  }
}

function normalizeIpv6(text: string): string | undefined {
  if (!/^\[[0-9A-Fa-f:.]+\]$/.test(text)) return undefined;
  try {
    return new URL(`http://${text}`).hostname;
  } catch {
    return undefined;
  }
}

/**
 * Reads an organization's `domains`: the mode, and the allowed entries
 * parsed. Warns when no request could pass (`no-domains`) and about
 * entries written twice.
 *
 * @param domains The section as written and checked by the schema.
 * @param path Its path.
 * @param organization The organization's path (`[]` for its own file).
 * @param context The document, problems and clock.
 * @returns The mode and the patterns.
 */
export function readDomains(
  domains: WrittenOrganization["domains"],
  path: DocumentPath,
  organization: DocumentPath,
  { document, problems }: RuleContext,
): OrganizationSpec["domains"] {
  const mode: DomainMode = domains?.mode ?? "enforce";
  if (domains === undefined) {
    if (!document.written(path)) {
      problems.warning(
        "no-domains",
        path,
        document.keyAt(organization),
        "No domains are allowed, so every widget request is refused",
        "Add domains.allow, or domains.mode: off for legacy behaviour",
      );
    }
    return { mode, allow: [] };
  }
  const allow: DomainPattern[] = [];
  const seen = new Set<string>();
  domains.allow?.forEach((source, index) => {
    if (source === undefined) return;
    const itemPath = [...path, "allow", index];
    const result = parseDomainPattern(source);
    if ("code" in result) {
      problems.error(
        result.code,
        itemPath,
        document.at(itemPath),
        result.message,
        result.hint,
      );
      return;
    }
    const key = `${result.scheme}://${
      result.wildcard ? "*." : ""
    }${result.host}:${result.port ?? ""}`;
    if (seen.has(key)) {
      problems.warning(
        "duplicate-domain",
        itemPath,
        document.at(itemPath),
        `Domain "${clip(source)}" is listed twice`,
        "Remove the repeated entry",
      );
      return;
    }
    seen.add(key);
    allow.push(result);
  });
  const allowPath = [...path, "allow"];
  const none = domains.allow === undefined
    ? !document.written(allowPath)
    : domains.allow.length === 0;
  if (mode !== "off" && none) {
    problems.warning(
      "no-domains",
      allowPath,
      document.keyAt(document.written(allowPath) ? allowPath : path),
      `Mode "${mode}" with no allowed domains refuses every widget request`,
      "List the sites that embed the widget in domains.allow",
    );
  }
  return { mode, allow };
}
