/**
 * The server's composition: every long-lived part built on one `Store` and
 * one `PolicySource`, in one place, and stopped by one `close()`. The
 * handler (`handler.ts`) routes requests to them; nothing else builds them.
 *
 * What it starts: the rate limiter (group commit), the chat rules, one live
 * hub per organization, agent presence and the availability watch, the open
 * streams, the webhook dispatcher, the security tally (flushed every few
 * seconds), the decision log's refusal fold, and a sweeper that removes
 * ended rate-limit windows, old feed entries, conversations past retention
 * and security counts past the report's window, once a minute. The methods'
 * services wait for the session secret, which lives in the store.
 *
 * @module
 */

import { AgentPresence } from "../chat/agent_presence.ts";
import { ChatStore, WEBHOOK_KINDS } from "../chat/chat_store.ts";
import { LiveFeed } from "../chat/live_feed.ts";
import { WebhookDispatcher } from "../chat/webhook_dispatcher.ts";
import { createRateLimiter } from "../limits/rate_limiter.ts";
import type { DecisionLogSink } from "../observability/decision_log.ts";
import { Metrics } from "../observability/metrics.ts";
import { foldRefusals } from "../observability/refusal_fold.ts";
import {
  HOUR_MS,
  hourStart,
  KEPT_HOURS,
  SecurityTally,
} from "../observability/security_tally.ts";
import { webhookOutcomeRecorder } from "../observability/webhook_outcomes.ts";
import type { PolicySource } from "../policy_source/policy_source.ts";
import type { Store } from "../store/store.ts";
import type { AdmissionParts } from "./admission.ts";
import { AvailabilityWatch } from "./availability_watch.ts";
import { LiveStreams } from "./live_streams.ts";
import type { Services } from "./method.ts";
import { availabilityOf } from "./methods/availability.ts";
import {
  loadSessionSecret,
  SESSION_TTL_MS,
  SessionSigner,
} from "./session_token.ts";
import { VisitorReferences } from "./visitor_reference.ts";
import { MAX_MESSAGE_LENGTH } from "../wire/mod.ts";

/** What {@linkcode startServices} is told besides the store and the policy. */
export interface ServiceOptions {
  /** Session signing secret (≥ 32 bytes); else one kept in the store. */
  readonly sessionSecret?: string;
  /** How long a session lasts, milliseconds (default 30 minutes). */
  readonly sessionLifetimeMs?: number;
  /** Where rejections and report-mode decisions go, before folding; none when absent. */
  readonly decisionLog?: DecisionLogSink;
  /** Metrics registry; a new one when absent. */
  readonly metrics?: Metrics;
  /** Clock, epoch milliseconds. */
  readonly now?: () => number;
}

/**
 * The running parts: what the request pipeline admits with
 * ({@linkcode AdmissionParts}), the policy in force and the clock, and what
 * `/healthz` reads.
 */
export interface RunningServices extends AdmissionParts {
  readonly store: Store;
  readonly policy: PolicySource;
  readonly metrics: Metrics;
  readonly now: () => number;
  /** Open streams; `/healthz` reports how many. */
  readonly streams: LiveStreams;
  /** Ends open streams with a last `closed` event (`server.stopping`). */
  closeStreams(): void;
  /**
   * Ends open streams, stops timers and webhook deliveries, writes the
   * decision log's folded refusals, and adds the security counts still in
   * memory to the store; does not close the store.
   */
  close(): Promise<void>;
}

const SWEEP_INTERVAL_MS = 60_000;
/** How long an organization's live hub outlasts its last stream. */
const HUB_LINGER_MS = 30_000;
/** Feed entries older than this are swept; a stream resuming from further back starts from what is left. */
const FEED_KEEP_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Builds and starts the server's long-lived parts on a store.
 *
 * @param store Where counters, sessions and conversations live; not closed here.
 * @param policy The policy in force, read anew by every request.
 * @param options Secrets, the decision log, metrics and the clock.
 * @returns The running parts, with `close()`.
 */
export function startServices(
  store: Store,
  policy: PolicySource,
  options: ServiceOptions = {},
): RunningServices {
  const now = options.now ?? Date.now;
  const metrics = options.metrics ?? new Metrics();
  const roundTrips = store.roundTrips?.bind(store);
  if (roundTrips !== undefined) metrics.storeRoundTrips(roundTrips);
  const limiter = createRateLimiter(store.counters);
  const chat = new ChatStore(store.conversations, {
    maxMessageLength: MAX_MESSAGE_LENGTH,
    now,
  });
  // A visitor's next page reopens its stream without the hub's start-up read.
  const live = new LiveFeed(store.conversations, store.changes, {
    lingerMs: HUB_LINGER_MS,
  });
  const presence = new AgentPresence(store.presence, now);
  const availability = new AvailabilityWatch(async (organizationId) => {
    const organization = policy.current.organization(organizationId);
    return organization === undefined
      ? undefined
      : await availabilityOf(organization, presence, now());
  });
  presence.onChange((organizationId) => availability.refresh(organizationId));
  const streams = new LiveStreams(policy, { now });
  const webhooks = new WebhookDispatcher(store.outbox, {
    target: (organizationId) =>
      policy.current.organization(organizationId)?.spec.webhook,
    body: (item) =>
      item.kind === WEBHOOK_KINDS.unanswered
        ? chat.unansweredBody(item.organizationId, item.id)
        : Promise.resolve(item.body),
    allowHosts: () => policy.current.spec.server.allowWebhookHosts,
    onOutcome: webhookOutcomeRecorder(policy, metrics),
    now,
  });
  webhooks.start();
  const decisions = options.decisionLog === undefined
    ? undefined
    : foldRefusals(options.decisionLog, {
      known: (organizationId) =>
        policy.current.organization(organizationId) !== undefined,
    });
  const security = new SecurityTally(store.securityCounters, {
    // Kept and retried with the next flush.
    onFlushError: () => metrics.storeError("closed"),
    now,
  });
  const services: Promise<Services> = loadSessionSecret(
    store.settings,
    options.sessionSecret,
  ).then((secret) => ({
    chat,
    live,
    streams,
    presence,
    availability,
    sessions: new SessionSigner(secret),
    visitorReferences: new VisitorReferences(secret),
    sessionLifetimeMs: options.sessionLifetimeMs ?? SESSION_TTL_MS,
    webhooksDue: () => webhooks.kick(),
    security: { tally: security, counters: store.securityCounters },
  }));
  // Surfaced by the first request instead of as an unhandled rejection.
  services.catch(() => {});
  const sweeper = setInterval(() => void sweep(), SWEEP_INTERVAL_MS);
  Deno.unrefTimer(sweeper);

  /** Old rate-limit windows, feed entries, conversations past retention, and security counts older than 7 days. */
  async function sweep(): Promise<void> {
    const at = now();
    const chores: Promise<unknown>[] = [
      limiter.sweep(at),
      store.securityCounters.sweep(
        hourStart(at) - (KEPT_HOURS - 1) * HOUR_MS,
      ),
    ];
    for (const organization of policy.current.spec.organizations.values()) {
      chores.push(
        store.conversations.sweepFeed(organization.id, at - FEED_KEEP_MS),
      );
      if (organization.retentionMs !== undefined) {
        chores.push(
          chat.purgeExpired(organization.id, organization.retentionMs),
        );
      }
    }
    const results = await Promise.allSettled(chores);
    for (const result of results) {
      if (result.status === "rejected") metrics.storeError("closed");
    }
  }

  return {
    store,
    policy,
    now,
    limiter,
    metrics,
    security,
    streams,
    services: () => services,
    ...(decisions === undefined ? {} : { decisionLog: decisions.write }),
    closeStreams(): void {
      streams.close();
    },
    async close(): Promise<void> {
      clearInterval(sweeper);
      limiter.close();
      streams.close();
      availability.close();
      live.close();
      decisions?.close();
      await Promise.all([webhooks.close(), security.close()]);
    },
  };
}
