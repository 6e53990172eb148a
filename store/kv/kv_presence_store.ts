/**
 * Agent presence on Deno KV: `["presence", organizationId, holder]` →
 * `{agentId, until}`, with `expireIn` as a cleanup hint only (`present`
 * compares `until` with the clock).
 *
 * @module
 */

import type { PresenceStore } from "../presence_store.ts";
import { kvCall } from "./locked_retry.ts";

interface Beat {
  readonly agentId: string;
  readonly until: number;
}

/** The presence of one Deno KV. */
export class KvPresenceStore implements PresenceStore {
  readonly #kv: Deno.Kv;

  /** @param kv The store; the caller closes it. */
  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  async beat(
    organizationId: string,
    holder: string,
    agentId: string,
    until: number,
  ): Promise<void> {
    await kvCall("Presence", () =>
      this.#kv.set(
        ["presence", organizationId, holder],
        { agentId, until } satisfies Beat,
        { expireIn: Math.max(1, until - Date.now()) + 60_000 },
      ));
  }

  async leave(organizationId: string, holder: string): Promise<void> {
    await kvCall(
      "Presence",
      () => this.#kv.delete(["presence", organizationId, holder]),
    );
  }

  async present(organizationId: string, now: number): Promise<string[]> {
    return await kvCall("Presence", async () => {
      const agents = new Set<string>();
      const beats = this.#kv.list<Beat>({
        prefix: ["presence", organizationId],
      });
      for await (const { value } of beats) {
        if (value.until > now) agents.add(value.agentId);
      }
      return [...agents];
    });
  }
}
