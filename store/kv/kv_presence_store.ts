/**
 * Agent presence on Deno KV: `["presence", organizationId, holder]` →
 * `{agentId, until}`, with `expireIn` as a cleanup hint only (`present`
 * compares `until` with the clock).
 *
 * @module
 */

import type { PresenceStore } from "../presence_store.ts";
import { StoreUnavailableError } from "../store_unavailable_error.ts";
import { retryWhileLocked } from "./locked_retry.ts";

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
    await this.#do(() =>
      this.#kv.set(
        ["presence", organizationId, holder],
        { agentId, until } satisfies Beat,
        { expireIn: Math.max(1, until - Date.now()) + 60_000 },
      )
    );
  }

  async leave(organizationId: string, holder: string): Promise<void> {
    await this.#do(() => this.#kv.delete(["presence", organizationId, holder]));
  }

  async present(organizationId: string, now: number): Promise<string[]> {
    return await this.#do(async () => {
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

  async #do<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await retryWhileLocked(operation);
    } catch (error) {
      throw new StoreUnavailableError(
        `Presence cannot be read or written: ${
          error instanceof Error ? error.message : String(error)
        }`,
        { cause: error },
      );
    }
  }
}
