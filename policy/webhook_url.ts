/**
 * An organization's `webhook` beyond its schema: the URL an absolute
 * `https:` URL to a public host (`network_address.ts`), or, for a host the
 * operator lists in `server.allowWebhookHosts`, `http:` or a private
 * address; and its secret resolved. The problems never repeat the URL,
 * which often carries a token.
 *
 * @module
 */

import {
  canonicalHost,
  type PrivateAddressKind,
  webhookUrlProblem,
} from "./network_address.ts";
import { schemaAt } from "./policy_schema.ts";
import type { DocumentPath } from "./problems.ts";
import { resolveSecret } from "./secret_reference.ts";
import type { OrganizationSpec } from "./types.ts";
import type { RuleContext, WrittenOrganization } from "./written_policy.ts";

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

const MAX_WEBHOOK_HOSTS =
  schemaAt("#/properties/server/properties/allowWebhookHosts").maxItems ??
    Infinity;

/**
 * Reads an organization's `webhook` once the schema has checked its shape.
 *
 * @param webhook The section as written.
 * @param path Its path.
 * @param allowHosts `server.allowWebhookHosts`, canonical.
 * @param context The document, problems and environment.
 * @returns The webhook, when both its URL and its secret can be used.
 */
export function readWebhook(
  webhook: WrittenOrganization["webhook"],
  path: DocumentPath,
  allowHosts: readonly string[],
  context: RuleContext,
): Pick<OrganizationSpec, "webhook"> {
  const url = readWebhookUrl(
    webhook?.url,
    [...path, "url"],
    allowHosts,
    context,
  );
  const secret = resolveSecret(
    webhook?.secret,
    [...path, "secret"],
    "the webhook",
    context,
  );
  return url === undefined || secret === undefined
    ? {}
    : { webhook: { url, secret } };
}

function readWebhookUrl(
  text: string | undefined,
  path: DocumentPath,
  allowHosts: readonly string[],
  { document, problems }: RuleContext,
): string | undefined {
  if (text === undefined) return undefined;
  const refuse = (code: string, message: string, hint: string) => {
    problems.error(code, path, document.at(path), message, hint);
    return undefined;
  };
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
    return refuse(
      "bad-url",
      "Webhook URL is not an absolute http or https URL",
      "Write url: https://host/path",
    );
  }
  const problem = webhookUrlProblem(url, allowHosts);
  if (problem?.code === "webhook-private-address") {
    return refuse(
      problem.code,
      `Webhook URL names ${KIND_PHRASES[problem.kind]}`,
      `Webhooks reach only public https:// endpoints; ${ALLOW_HINT}`,
    );
  }
  if (problem?.code === "webhook-not-https") {
    return refuse(
      problem.code,
      "Webhook URL is not https",
      `Use https://; ${ALLOW_HINT}`,
    );
  }
  return url.href;
}

/**
 * `server.allowWebhookHosts` once the schema has checked each entry is a
 * host: in the form URLs name them, each once; none past the schema's cap.
 *
 * @param hosts The entries as written; holes where one was found wrong.
 * @returns The canonical hosts.
 */
export function readWebhookHosts(
  hosts: readonly (string | undefined)[] | undefined,
): readonly string[] {
  if (hosts === undefined || hosts.length > MAX_WEBHOOK_HOSTS) return [];
  const canonical = new Set<string>();
  for (const host of hosts) {
    const name = host === undefined ? undefined : canonicalHost(host);
    if (name !== undefined) canonical.add(name);
  }
  return [...canonical];
}
