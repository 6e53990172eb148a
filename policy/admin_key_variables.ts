/**
 * The environment variables a policy names for its admin keys
 * (`admin.keys[].secret: { env: NAME }`), read from the text alone — so the
 * server can say which unset variables stand between the agents and the
 * inbox, even when the organizations they belong to did not compile.
 *
 * @module
 */

import { type MapNode, parsePolicyText, type PolicyNode } from "./parse.ts";

/**
 * @param text A policy file, or one organization's file of a policy directory.
 * @param shape `policy` for a whole policy (`organizations.*.admin`),
 *   `organization` for a directory's organization file (`admin` at the top).
 * @returns The variable names, in file order; none when the text does not parse that far.
 */
export function adminKeyVariables(
  text: string,
  shape: "policy" | "organization",
): string[] {
  const root = parsePolicyText(text).root;
  const organizations = shape === "organization"
    ? [root]
    : entriesOf(valueAt(root, "organizations")).map((entry) => entry.value);
  return organizations.flatMap((organization) => {
    const keys = valueAt(valueAt(organization, "admin"), "keys");
    if (keys?.kind !== "list") return [];
    return keys.items.flatMap((key) => {
      const name = valueAt(valueAt(key, "secret"), "env");
      return name?.kind === "scalar" && typeof name.value === "string"
        ? [name.value]
        : [];
    });
  });
}

function entriesOf(node: PolicyNode | undefined): MapNode["entries"] {
  return node?.kind === "map" ? node.entries : [];
}

function valueAt(
  node: PolicyNode | undefined,
  key: string,
): PolicyNode | undefined {
  return entriesOf(node).find((entry) => entry.key === key)?.value;
}
