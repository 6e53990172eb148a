/**
 * The built-in policy used when no policy file is configured: organization
 * `demo`, allowed on this server's own localhost origins, so `deno task start`
 * shows a working chat at once.
 *
 * @module
 */

/**
 * @param port The port the server listens on.
 * @returns Policy text (version 1).
 */
export function demoPolicyText(port: number): string {
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
`;
}
