/**
 * What an RPC method is: who may call it (its access kind) and the function
 * that runs once the pipeline has admitted the request.
 *
 * @module
 */

import type { AgentPresence } from "../chat/agent_presence.ts";
import type { ChatStore } from "../chat/chat_store.ts";
import type { LiveFeed } from "../chat/live_feed.ts";
import type {
  CompiledOrganization,
  Decision,
  Evaluator,
} from "../policy/types.ts";
import type { SecurityCounterStore } from "../store/security_counter_store.ts";
import type { AvailabilityWatch } from "./availability_watch.ts";
import type { LiveStreams } from "./live_streams.ts";
import type { Params } from "./params.ts";
import type { SecurityTally } from "../observability/security_tally.ts";
import type { SessionClaims, SessionSigner } from "./session_token.ts";
import type { VisitorReferences } from "./visitor_reference.ts";
import type {
  AgentIdentity,
  RpcData,
  RpcMethod,
  StreamMethod,
} from "../wire/mod.ts";

/**
 * - `public`: judged by the evaluator (organization, domain, JWT);
 * - `session`: carries a `chat.boot` session token, re-checked against the current policy;
 * - `agent`: carries one of the organization's admin keys.
 */
export type MethodAccess = "public" | "session" | "agent";

/** Long-lived parts the methods share. */
export interface Services {
  readonly chat: ChatStore;
  /** Live updates of this process's streams. */
  readonly live: LiveFeed;
  /** Open streams: caps, and re-checks of their credentials. */
  readonly streams: LiveStreams;
  /** Which organizations have an agent online, on any host. */
  readonly presence: AgentPresence;
  /** Tells visitors' streams when their organization's availability changes. */
  readonly availability: AvailabilityWatch;
  readonly sessions: SessionSigner;
  /** What agents see of an anonymous visitor instead of the `visitorId`. */
  readonly visitorReferences: VisitorReferences;
  /** How long a session from `chat.boot` lasts, milliseconds. */
  readonly sessionLifetimeMs: number;
  /** Something was enqueued for webhook delivery: look at the outbox now. */
  readonly webhooksDue: () => void;
  /** The security report's counts: this process's tally, and where all of them are kept. */
  readonly security: {
    readonly tally: SecurityTally;
    readonly counters: SecurityCounterStore;
  };
}

/** Everything a method may read about its admitted request. */
export interface MethodContext {
  readonly request: Request;
  readonly params: Params;
  readonly evaluator: Evaluator;
  readonly organization: CompiledOrganization;
  /** The request's `Origin` header. */
  readonly origin: string | null;
  /** The client IP under `server.trustProxy`. */
  readonly ip: string;
  /** Set for `public` methods. */
  readonly decision?: Decision;
  /** Set for `session` methods. */
  readonly session?: SessionClaims;
  /** Set for `agent` methods: whose admin key it is. */
  readonly agent?: AgentIdentity;
  readonly services: Services;
  /** Epoch milliseconds of this request. */
  readonly now: number;
}

/**
 * What a method's `run` resolves to: its reply data as the wire contract
 * types it (`wire/methods.ts`), or for a streaming method the
 * `text/event-stream` response.
 */
export type MethodResult<M extends RpcMethod> = M extends StreamMethod
  ? Response
  : RpcData<M>;

/** One RPC method; `M` is its wire name, which types what it returns. */
export interface MethodDefinition<M extends RpcMethod = RpcMethod> {
  readonly access: MethodAccess;
  /** Whether the `Authorization` bearer is a user JWT to verify (only `chat.boot`). */
  readonly takesUserToken?: boolean;
  /** Returns reply data, or a whole `Response` for streams. */
  run(context: MethodContext): Promise<MethodResult<M>>;
}
