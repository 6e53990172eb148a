/**
 * The Deno KV adapter: every part of the storage port on one `Deno.Kv` — a
 * file shared by the workers of one machine (`deno serve --parallel`), or
 * `:memory:`.
 *
 * @module
 */

import type { SettingStore, Store } from "../store.ts";
import { StoreUnavailableError } from "../store_unavailable_error.ts";
import { KvChangeFeed } from "./kv_change_feed.ts";
import { KvConversationStore } from "./kv_conversation_store.ts";
import { KvCounterStore } from "./kv_counter_store.ts";
import { KvOutboxStore } from "./kv_outbox_store.ts";
import { KvPresenceStore } from "./kv_presence_store.ts";
import { KvSecurityCounterStore } from "./kv_security_counter_store.ts";
import { retryWhileLocked } from "./locked_retry.ts";

/** Options of {@linkcode createKvStore}. */
export interface KvStoreOptions {
  /** Shown in `/healthz` and logs (default `"deno kv"`). */
  readonly location?: string;
  /** Whether `close()` also closes the `Deno.Kv` (default `true`). */
  readonly closeKv?: boolean;
}

/**
 * A store on an open Deno KV.
 *
 * @param kv The KV; closed with the store unless `closeKv` is false.
 * @param options Where it is, and who closes it.
 * @returns The store.
 */
export function createKvStore(
  kv: Deno.Kv,
  options: KvStoreOptions = {},
): Store {
  const changes = new KvChangeFeed(kv);
  const settings: SettingStore = {
    async getOrCreate(name, create) {
      const key = ["parley", name];
      try {
        // Processes starting together race to create it; the checked write lets one win.
        for (let attempt = 0; attempt < 20; attempt++) {
          const existing = await retryWhileLocked(() =>
            kv.get<Uint8Array>(key)
          );
          if (existing.value instanceof Uint8Array) return existing.value;
          const fresh = create();
          const result = await retryWhileLocked(() =>
            kv.atomic().check(existing).set(key, fresh).commit()
          );
          if (result.ok) return fresh;
        }
      } catch (cause) {
        throw new StoreUnavailableError(
          `Setting "${name}" cannot be read or stored: ${
            cause instanceof Error ? cause.message : String(cause)
          }`,
          { cause },
        );
      }
      throw new StoreUnavailableError(`Setting "${name}" stayed contended`);
    },
  };
  return {
    engine: "kv",
    location: options.location ?? "deno kv",
    counters: new KvCounterStore(kv),
    conversations: new KvConversationStore(
      kv,
      (organizationId) => changes.wrote(organizationId),
    ),
    changes,
    settings,
    outbox: new KvOutboxStore(kv),
    presence: new KvPresenceStore(kv),
    securityCounters: new KvSecurityCounterStore(kv),
    async ping() {
      try {
        await kv.get(["parley", "health"]);
      } catch (cause) {
        throw new StoreUnavailableError("Deno KV does not answer", { cause });
      }
    },
    close() {
      changes.close();
      if (options.closeKv !== false) kv.close();
      return Promise.resolve();
    },
  };
}
