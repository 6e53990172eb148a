/**
 * The environment variables a policy's secrets name (`secret: { env: NAME }`
 * of JWT keys, admin keys and webhooks), read from its text alone — so the
 * server can say at start, in one line, which variables its policy needs and
 * which are unset (the validation itself runs in a worker, per file), and
 * which of the unset ones stand between the agents and the inbox.
 *
 * @module
 */

import { parsePolicyText, type PolicyNode } from "./parse.ts";

/** One `{ env: NAME }` of a policy. */
export interface SecretVariable {
  readonly name: string;
  /** Whether it is an admin key's secret (`admin.keys[].secret`). */
  readonly adminKey: boolean;
}

/**
 * @param text A policy file, or one file of a policy directory.
 * @returns Every `secret: { env: NAME }` it holds, in file order; none when
 *   it does not parse.
 */
export function secretVariables(text: string): SecretVariable[] {
  const parsed = parsePolicyText(text);
  if (parsed.problems.some((problem) => problem.severity === "error")) {
    return [];
  }
  const found: SecretVariable[] = [];
  const walk = (node: PolicyNode | undefined, path: readonly string[]) => {
    if (node?.kind === "list") {
      for (const item of node.items) walk(item, path);
    }
    if (node?.kind !== "map") return;
    for (const { key, value } of node.entries) {
      const name = key === "secret" && value.kind === "map"
        ? value.entries.find((entry) => entry.key === "env")?.value
        : undefined;
      if (name?.kind === "scalar" && typeof name.value === "string") {
        found.push({
          name: name.value,
          adminKey: path.at(-2) === "admin" && path.at(-1) === "keys",
        });
      } else {
        walk(value, [...path, key]);
      }
    }
  };
  walk(parsed.root, []);
  return found;
}
