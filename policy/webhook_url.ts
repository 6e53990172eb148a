/**
 * The policy's check of an organization's `webhook.url`: an absolute
 * `https:` URL to a public host (`network_address.ts`), or, for a host the
 * operator lists in `server.allowWebhookHosts`, `http:` or a private address.
 * The problems never repeat the URL, which often carries a token.
 *
 * @module
 */

import {
  canonicalHost,
  type PrivateAddressKind,
  webhookUrlProblem,
} from "./network_address.ts";
import type { DocumentPath } from "./problems.ts";
import type { RuleContext } from "./written_policy.ts";

/** A problem with a webhook URL, before it is given a position. */
export interface WebhookUrlRefusal {
  readonly code: "bad-url" | "webhook-not-https" | "webhook-private-address";
  readonly message: string;
  readonly hint: string;
}

const ALLOW_HINT =
  "an operator can list a development host in server.allowWebhookHosts (_parley.yaml, or the policy file's server section)";

const KIND_PHRASES: Readonly<Record<PrivateAddressKind, string>> = {
  loopback: "a loopback address",
  unspecified: "the unspecified address",
  private: "a private network address",
  "link-local": "a link-local address",
  "carrier-grade-nat": "a carrier-grade NAT address",
  multicast: "a multicast address",
  metadata: "a cloud metadata service",
  reserved: "a reserved address",
  "internal-name": "a name that only resolves inside a network",
};

/**
 * Checks one `webhook.url`.
 *
 * @param text The URL as written.
 * @param allowHosts `server.allowWebhookHosts`, canonical (`canonicalHost`).
 * @returns The normalised URL, or why it cannot be used.
 */
export function checkWebhookUrl(
  text: string,
  allowHosts: readonly string[],
): { readonly url: string } | { readonly refusal: WebhookUrlRefusal } {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (
    url === undefined || (url.protocol !== "http:" &&
      url.protocol !== "https:") ||
    url.hostname === ""
  ) {
    return {
      refusal: {
        code: "bad-url",
        message: "Webhook URL is not an absolute http or https URL",
        hint: "Write url: https://host/path",
      },
    };
  }
  const problem = webhookUrlProblem(url, allowHosts);
  if (problem?.code === "webhook-private-address") {
    return {
      refusal: {
        code: problem.code,
        message: `Webhook URL names ${KIND_PHRASES[problem.kind]}`,
        hint: `Webhooks reach only public https:// endpoints; ${ALLOW_HINT}`,
      },
    };
  }
  if (problem?.code === "webhook-not-https") {
    return {
      refusal: {
        code: problem.code,
        message: "Webhook URL is not https",
        hint: `Use https://; ${ALLOW_HINT}`,
      },
    };
  }
  return { url: url.href };
}

/**
 * Reads an organization's `webhook.url` once the schema has checked it is
 * text, against the operator's allowed hosts.
 *
 * @param text The URL as written.
 * @param path Its path.
 * @param allowHosts `server.allowWebhookHosts`, canonical.
 * @param context The document and problems.
 * @returns The normalised URL, or `undefined` when it cannot be used.
 */
export function readWebhookUrl(
  text: string | undefined,
  path: DocumentPath,
  allowHosts: readonly string[],
  { document, problems }: RuleContext,
): string | undefined {
  if (text === undefined) return undefined;
  const checked = checkWebhookUrl(text, allowHosts);
  if ("url" in checked) return checked.url;
  const { code, message, hint } = checked.refusal;
  problems.error(code, path, document.at(path), message, hint);
  return undefined;
}

/**
 * `server.allowWebhookHosts` once the schema has checked each entry is a
 * host: in the form URLs name them, each once; none past the schema's cap.
 *
 * @param hosts The entries as written; holes where one was found wrong.
 * @param limit The schema's `maxItems`.
 * @returns The canonical hosts.
 */
export function readWebhookHosts(
  hosts: readonly (string | undefined)[] | undefined,
  limit: number,
): readonly string[] {
  if (hosts === undefined || hosts.length > limit) return [];
  const canonical = new Set<string>();
  for (const host of hosts) {
    const name = host === undefined ? undefined : canonicalHost(host);
    if (name !== undefined) canonical.add(name);
  }
  return [...canonical];
}
