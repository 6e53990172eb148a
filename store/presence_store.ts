/**
 * The presence port: which agents have a live stream open, on any host. Each
 * open `agent.stream` beats while it lasts; a beat not renewed lapses, so a
 * host that dies takes its agents offline within one lease.
 *
 * @module
 */

/** Agents present, per organization. */
export interface PresenceStore {
  /**
   * Records that `holder` (one open stream of agent `agentId`) is present
   * until `until`, epoch milliseconds.
   */
  beat(
    organizationId: string,
    holder: string,
    agentId: string,
    until: number,
  ): Promise<void>;
  /** Ends `holder`'s presence at once. */
  leave(organizationId: string, holder: string): Promise<void>;
  /** The ids of agents present at `now`, each once. */
  present(organizationId: string, now: number): Promise<string[]>;
}
