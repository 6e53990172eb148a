/**
 * The built-in policy used when no policy file is configured:
 * `examples/demo.policy.yaml` itself (organization `demo`), with two things
 * only a running server knows — its localhost origins on the port it listens
 * on, and an admin key for the agent inbox — so `deno task start` shows a
 * chat someone can answer, and the example file is what it runs.
 *
 * @module
 */

import { isMap, isScalar, isSeq, parseDocument } from "yaml";
import { randomId } from "../chat/random_id.ts";
import type { SettingStore } from "../store/store.ts";

/** The file the built-in demo is made from. */
export const DEMO_POLICY_FILE: URL = new URL(
  "../examples/demo.policy.yaml",
  import.meta.url,
);

/** The organization of the demo. */
export const DEMO_ORGANIZATION = "demo";

/** A localhost origin, whose port follows the server's. */
const LOCAL_ORIGIN = /^(https?:\/\/(?:localhost|127\.0\.0\.1))(?::\d+)?$/;

/**
 * The demo policy as the server runs it.
 *
 * @param fileText The text of {@linkcode DEMO_POLICY_FILE}.
 * @param port The port the server listens on.
 * @param adminKey The demo's agent inbox key (≥ 32 bytes), shown at start.
 * @returns Policy text (version 1).
 * @throws {TypeError} When the file no longer has the demo organization's
 *   `domains.allow` list.
 */
export function demoPolicyText(
  fileText: string,
  port: number,
  adminKey: string,
): string {
  const document = parseDocument(fileText);
  const organization = ["organizations", DEMO_ORGANIZATION];
  const allow = document.getIn([...organization, "domains", "allow"], true);
  if (!isMap(document.getIn(organization, true)) || !isSeq(allow)) {
    throw new TypeError(
      `${DEMO_POLICY_FILE.pathname} has no organizations.${DEMO_ORGANIZATION}.domains.allow list`,
    );
  }
  for (const item of allow.items) {
    if (isScalar(item) && typeof item.value === "string") {
      item.value = item.value.replace(LOCAL_ORIGIN, `$1:${port}`);
    }
  }
  document.setIn([...organization, "admin"], {
    keys: [{ name: "Demo agent", secret: adminKey }],
  });
  return document.toString();
}

/**
 * The demo's admin key: the configured one (`PARLEY_DEMO_ADMIN_KEY`), else
 * one generated once and kept in the store, so every worker of
 * `deno serve --parallel` accepts the key any of them prints, and a restart
 * keeps it.
 *
 * @param settings The store's settings.
 * @param configured The configured key (≥ 32 bytes), or `null`.
 * @returns The key.
 * @throws {StoreUnavailableError} When the store cannot give it.
 */
export async function demoAdminKey(
  settings: SettingStore,
  configured: string | null,
): Promise<string> {
  if (configured !== null) return configured;
  const stored = await settings.getOrCreate(
    "demo-admin-key",
    () => new TextEncoder().encode(randomId(32)),
  );
  return new TextDecoder().decode(stored);
}
