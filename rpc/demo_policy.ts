/**
 * The built-in policy used when no policy file is configured: organization
 * `demo`, allowed on this server's own localhost origins, with an admin key for
 * the agent inbox, so `deno task start` shows a chat someone can answer.
 *
 * @module
 */

import { randomId } from "../chat/random_id.ts";

/**
 * @param port The port the server listens on.
 * @param adminKey The demo's agent inbox key (≥ 32 bytes), shown at start.
 * @returns Policy text (version 1).
 */
export function demoPolicyText(port: number, adminKey: string): string {
  return `# Built-in demo policy (no PARLEY_POLICY and no policy.yaml found).
version: 1
organizations:
  demo:
    name: Parley demo
    domains:
      mode: enforce
      allow: ["http://localhost:${port}", "http://127.0.0.1:${port}"]
    jwt:
      mode: off
    widget:
      title: Parley demo
      greeting: Hi! Ask us anything — an agent answers from /agent.
      color: "#0b5fff"
    admin:
      keys: [{ secret: ${JSON.stringify(adminKey)} }]
`;
}

/** @returns A random demo admin key (base64url, 32 random bytes). */
export function randomDemoAdminKey(): string {
  return randomId(32);
}
