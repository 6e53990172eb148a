/**
 * The storage port: everything Parley keeps, behind one interface with one
 * adapter per engine — Deno KV (`store/kv/`, the embedded default: a file
 * shared by the workers of one machine) and PostgreSQL (`store/postgres/`,
 * for many hosts). `rpc/`, `chat/` and `limits/` use it without knowing the
 * engine; `store/store_contract_test.ts` holds both adapters to one contract.
 *
 * Every stored key leads with an organization id (`_parley` for what belongs
 * to no organization, `_unknown` for the shared bucket of unknown ones), so
 * the data can be sharded by organization.
 *
 * @module
 */

import type { ChangeFeed } from "./change_feed.ts";
import type { ConversationStore } from "./conversation_store.ts";
import type { CounterStore } from "./counter_store.ts";
import type { OutboxStore } from "./outbox_store.ts";
import type { PresenceStore } from "./presence_store.ts";
import type { SecurityCounterStore } from "./security_counter_store.ts";

/** The engines a store can run on. */
export type StoreEngine = "kv" | "postgres";

/** Values of the deployment itself (the session secret). */
export interface SettingStore {
  /**
   * The value stored under `name`, or `create()`'s, stored first: processes
   * and hosts racing to create it all end with the one that won.
   *
   * @throws {StoreUnavailableError}
   */
  getOrCreate(name: string, create: () => Uint8Array): Promise<Uint8Array>;
}

/** An open store. */
export interface Store {
  /** Which engine it runs on. */
  readonly engine: StoreEngine;
  /** Where it is, for logs and `/healthz`: a path, or host, port and database — never a credential. */
  readonly location: string;
  /** Rate-limit counters. */
  readonly counters: CounterStore;
  /** Conversations, messages and each organization's feed. */
  readonly conversations: ConversationStore;
  /** Notices that a feed grew, across processes and hosts. */
  readonly changes: ChangeFeed;
  /** Values of the deployment (the session secret). */
  readonly settings: SettingStore;
  /** Webhook deliveries waiting to be made. */
  readonly outbox: OutboxStore;
  /** Agents with a live stream open. */
  readonly presence: PresenceStore;
  /** What the security report counts. */
  readonly securityCounters: SecurityCounterStore;
  /**
   * One round trip to the engine.
   *
   * @throws {StoreUnavailableError} When it does not answer.
   */
  ping(): Promise<void>;
  /** Closes connections and stops background work. */
  close(): Promise<void>;
  /**
   * Statements sent to the engine so far, each one round trip, for
   * `/metrics` (`parley_store_round_trips_total`) and the load benchmark;
   * absent on engines that do not count them (Deno KV).
   */
  roundTrips?(): number;
}

/** The organization id of what belongs to no organization. */
export const GLOBAL_ORGANIZATION = "_parley";

/**
 * The organization id under which what names an organization the policy
 * does not know is counted (limits, metrics, folded log lines): one shared
 * bucket, so random ids add no keys.
 */
export const UNKNOWN_ORGANIZATION = "_unknown";
