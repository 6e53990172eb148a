/**
 * The security report's counts as one process gathers them: per organization
 * and hour, in memory, added to the store (`store.securityCounters`) every
 * few seconds and at `close()`. The store sums what every process and host
 * adds, so nobody reads before writing and nobody overwrites.
 *
 * Why in memory and not with the limiter's commit: a boot then costs a few
 * map lookups and number increments — no store round trip, and no allocation
 * once its organization, origin, key and reason have been seen in the hour.
 * Folding the counts into the rate limiter's batch would put them on every
 * commit, which `bench/README.md` shows is what bounds `chat.boot`. The price:
 * counts a process has not flushed yet are lost if it dies without `close()`
 * (at most one flush interval of them), and other hosts see them up to one
 * flush interval late. A process flushes its own before it answers a report.
 *
 * Bounded: organizations, key ids and reasons come from the policy; each
 * organization keeps at most {@linkcode MAX_ORIGINS_PER_HOUR} distinct
 * origins per hour, the rest count as `(other)` — in memory per flush, and in
 * the store per hour across every flush, process and host, which the store
 * decides atomically ({@linkcode ORIGIN_CAP}); only normalised origins are
 * kept, never the header a client sent. Only requests the IP limit admitted
 * are counted (see `admission.ts`), so a flood the IP limit refuses adds no
 * origin.
 *
 * @module
 */

import type { Decision } from "../policy/types.ts";
import {
  addCount,
  type KeyCap,
  type SecurityCount,
  type SecurityCounterStore,
} from "../store/security_counter_store.ts";

/** One hour, milliseconds: the counts' bucket. */
export const HOUR_MS = 3_600_000;
/** Hours of counts kept (7 days); older buckets are swept. */
export const KEPT_HOURS = 168;
/** How often a process adds its counts to the store. */
export const FLUSH_INTERVAL_MS = 5_000;
/** Distinct origins counted per organization and hour; the rest are `(other)`. */
export const MAX_ORIGINS_PER_HOUR = 100;
/** Longer normalised origins are counted as `(other)` (store keys are bounded). */
export const MAX_ORIGIN_LENGTH = 255;

/** What each stored count counts (`SecurityCount.metric`). */
export const SECURITY_METRIC = {
  /** Boots by token state; key `verified`, `absent` or `invalid`. */
  boot: "boot",
  /** Verified boots by key id; `lastSeen` is the key's last use. */
  key: "key",
  /** Boots with an invalid token by reason (`jwt.expired`, …). */
  invalid: "invalid",
  /** Boots by page origin. */
  origin: "origin",
  /** Boots the policy refused, by origin. */
  refused: "refused",
  /** Admitted boots without a verified token (what `jwt.mode: required` would refuse), by origin. */
  unverified: "unverified",
  /** Admitted boots that `domains.mode: enforce` would refuse, by origin. */
  report: "report",
  /** Failed authentications and throttle blocks; key `admin_key` or `blocked`. */
  auth: "auth",
} as const;

/** Origin labels that are not origins. */
export const ORIGIN_LABEL = {
  /** No `Origin` header (or the literal `null`). */
  none: "(none)",
  /** An `Origin` the policy could not parse, or did not reach (an unknown `app_id`). */
  unrecognised: "(unrecognised)",
  /** Past the per-hour cap of distinct origins, or too long. */
  other: "(other)",
  /** In a read, every origin past those a report lists (never stored). */
  rest: "(rest)",
} as const;

/** The metrics counted by origin. */
export const ORIGIN_METRICS: readonly string[] = [
  SECURITY_METRIC.origin,
  SECURITY_METRIC.refused,
  SECURITY_METRIC.unverified,
  SECURITY_METRIC.report,
];

/** The store's cap on an organization's distinct origins per hour. */
export const ORIGIN_CAP: KeyCap = {
  metrics: ORIGIN_METRICS,
  maxKeys: MAX_ORIGINS_PER_HOUR,
  overflowKey: ORIGIN_LABEL.other,
};

/**
 * The start of the hour holding `at`.
 *
 * @param at Epoch milliseconds.
 * @returns Epoch milliseconds, a multiple of {@linkcode HOUR_MS}.
 */
export function hourStart(at: number): number {
  return at - (at % HOUR_MS);
}

/** One origin's boots in one hour. */
interface OriginTally {
  boots: number;
  refused: number;
  unverified: number;
  report: number;
}

/** One key's verified boots in one hour. */
interface KeyTally {
  verified: number;
  lastSeen: number;
}

/** One organization's counts in one hour. */
interface OrganizationTally {
  verified: number;
  absent: number;
  invalid: number;
  adminKeyFailures: number;
  blocked: number;
  lastSeen: number;
  readonly keys: Map<string, KeyTally>;
  readonly reasons: Map<string, number>;
  readonly origins: Map<string, OriginTally>;
}

/** Every organization's counts of one hour. */
interface HourTally {
  readonly hour: number;
  readonly organizations: Map<string, OrganizationTally>;
}

/** Options of {@linkcode SecurityTally}. */
export interface SecurityTallyOptions {
  /** How often to flush, milliseconds (default {@linkcode FLUSH_INTERVAL_MS}); 0 flushes only when asked. */
  readonly flushIntervalMs?: number;
  /** Told when a timed flush fails; the counts are kept and retried. */
  readonly onFlushError?: (error: unknown) => void;
  /** Clock, epoch milliseconds (what is older than the kept hours is dropped). */
  readonly now?: () => number;
}

/** The security counts of one process, flushed to the store. */
export class SecurityTally {
  readonly #store: SecurityCounterStore;
  readonly #now: () => number;
  readonly #onFlushError: (error: unknown) => void;
  /** Unflushed counts by hour. */
  #hours = new Map<number, HourTally>();
  /** The tally the latest count went to, and the end of its hour. */
  #current: HourTally = { hour: -1, organizations: new Map() };
  #currentEnd = -Infinity;
  /** Counts of a flush that failed, merged by identity, for the next one. */
  #retry = new Map<string, SecurityCount>();
  #flushing: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * @param store Where the counts are added; the tally never closes it.
   * @param options Flush interval, error sink, clock.
   */
  constructor(store: SecurityCounterStore, options: SecurityTallyOptions = {}) {
    this.#store = store;
    this.#now = options.now ?? Date.now;
    this.#onFlushError = options.onFlushError ?? (() => {});
    const interval = options.flushIntervalMs ?? FLUSH_INTERVAL_MS;
    if (interval > 0) {
      const timer = setInterval(() => {
        this.flush().catch(this.#onFlushError);
      }, interval);
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  /**
   * Counts one `chat.boot` the policy judged.
   *
   * @param organizationId A known organization.
   * @param at Epoch milliseconds of the request.
   * @param decision The evaluator's decision.
   * @param originHeader The request's `Origin` header (only its absence is used).
   */
  boot(
    organizationId: string,
    at: number,
    decision: Decision,
    originHeader: string | null,
  ): void {
    const organization = this.#organization(organizationId, at);
    const origin = this.#origin(
      organization,
      originLabel(decision, originHeader),
    );
    origin.boots++;
    const identity = decision.identity;
    if (identity.verified) {
      organization.verified++;
      const keyId = identity.keyId;
      if (keyId !== undefined) {
        let key = organization.keys.get(keyId);
        if (key === undefined) {
          key = { verified: 0, lastSeen: at };
          organization.keys.set(keyId, key);
        }
        key.verified++;
        if (at > key.lastSeen) key.lastSeen = at;
      }
    } else if (decision.code === "JWT_INVALID") {
      organization.invalid++;
      const reasons = organization.reasons;
      reasons.set(decision.reason, (reasons.get(decision.reason) ?? 0) + 1);
    } else {
      organization.absent++;
    }
    if (!decision.allowed) {
      origin.refused++;
    } else {
      if (!identity.verified) origin.unverified++;
      if (decision.reportOnly !== undefined) origin.report++;
    }
  }

  /**
   * Counts a wrong admin key presented at `agent.*`.
   *
   * @param organizationId A known organization.
   * @param at Epoch milliseconds of the request.
   */
  adminKeyFailure(organizationId: string, at: number): void {
    this.#organization(organizationId, at).adminKeyFailures++;
  }

  /**
   * Counts a request the failed-authentication limit refused.
   *
   * @param organizationId A known organization.
   * @param at Epoch milliseconds of the request.
   */
  blocked(organizationId: string, at: number): void {
    this.#organization(organizationId, at).blocked++;
  }

  /**
   * Adds everything counted so far to the store. Flushes run one after
   * another, so a flush started after a count includes it.
   *
   * @throws {StoreUnavailableError} When the store fails; the counts are
   *   kept for the next flush.
   */
  flush(): Promise<void> {
    const run = this.#flushing.then(() => this.#flushOnce());
    this.#flushing = run.catch(() => {});
    return run;
  }

  /** Stops the timer and flushes what is left; a failure goes to `onFlushError`. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush().catch(this.#onFlushError);
  }

  #organization(id: string, at: number): OrganizationTally {
    if (at >= this.#currentEnd || at < this.#current.hour) this.#rotate(at);
    let organization = this.#current.organizations.get(id);
    if (organization === undefined) {
      organization = {
        verified: 0,
        absent: 0,
        invalid: 0,
        adminKeyFailures: 0,
        blocked: 0,
        lastSeen: at,
        keys: new Map(),
        reasons: new Map(),
        origins: new Map(),
      };
      this.#current.organizations.set(id, organization);
    }
    if (at > organization.lastSeen) organization.lastSeen = at;
    return organization;
  }

  #origin(organization: OrganizationTally, label: string): OriginTally {
    const origins = organization.origins;
    let origin = origins.get(label);
    if (origin === undefined) {
      if (origins.size >= MAX_ORIGINS_PER_HOUR) {
        origin = origins.get(ORIGIN_LABEL.other);
        if (origin !== undefined) return origin;
        label = ORIGIN_LABEL.other;
      }
      origin = { boots: 0, refused: 0, unverified: 0, report: 0 };
      origins.set(label, origin);
    }
    return origin;
  }

  /** A request of another hour than the current one: that hour's tally. */
  #rotate(at: number): void {
    const hour = hourStart(at);
    // Requests around the turn of an hour may be counted out of order.
    let tally = this.#hours.get(hour);
    if (tally === undefined) {
      tally = { hour, organizations: new Map() };
      this.#hours.set(hour, tally);
    }
    this.#current = tally;
    this.#currentEnd = hour + HOUR_MS;
  }

  async #flushOnce(): Promise<void> {
    const tallies = [...this.#hours.values()];
    this.#hours = new Map();
    // The next count starts a new tally of its hour.
    this.#currentEnd = -Infinity;
    const counts = this.#retry;
    this.#retry = new Map();
    for (const tally of tallies) addTally(counts, tally);
    const oldest = hourStart(this.#now()) - (KEPT_HOURS - 1) * HOUR_MS;
    const fresh = [...counts.values()].filter((count) => count.hour >= oldest);
    if (fresh.length === 0) return;
    try {
      await this.#store.add(fresh, ORIGIN_CAP);
    } catch (error) {
      // Kept, merged with what comes next; the store adds nothing of a failed add.
      for (const count of fresh) mergeCount(this.#retry, count);
      throw error;
    }
  }
}

/** What an origin is counted as. */
function originLabel(decision: Decision, header: string | null): string {
  const origin = decision.origin;
  if (origin !== undefined) {
    return origin.length > MAX_ORIGIN_LENGTH ? ORIGIN_LABEL.other : origin;
  }
  return header === null || header === "null"
    ? ORIGIN_LABEL.none
    : ORIGIN_LABEL.unrecognised;
}

/** Adds one hour's tallies to `counts` as stored counts. */
function addTally(counts: Map<string, SecurityCount>, tally: HourTally): void {
  const { hour } = tally;
  for (const [organizationId, organization] of tally.organizations) {
    const seen = organization.lastSeen;
    const add = (
      metric: string,
      key: string,
      count: number,
      lastSeen = seen,
    ) => {
      if (count > 0) {
        mergeCount(counts, {
          organizationId,
          hour,
          metric,
          key,
          count,
          lastSeen,
        });
      }
    };
    add(SECURITY_METRIC.boot, "verified", organization.verified);
    add(SECURITY_METRIC.boot, "absent", organization.absent);
    add(SECURITY_METRIC.boot, "invalid", organization.invalid);
    add(SECURITY_METRIC.auth, "admin_key", organization.adminKeyFailures);
    add(SECURITY_METRIC.auth, "blocked", organization.blocked);
    for (const [id, key] of organization.keys) {
      add(SECURITY_METRIC.key, id, key.verified, key.lastSeen);
    }
    for (const [reason, count] of organization.reasons) {
      add(SECURITY_METRIC.invalid, reason, count);
    }
    for (const [origin, counted] of organization.origins) {
      add(SECURITY_METRIC.origin, origin, counted.boots);
      add(SECURITY_METRIC.refused, origin, counted.refused);
      add(SECURITY_METRIC.unverified, origin, counted.unverified);
      add(SECURITY_METRIC.report, origin, counted.report);
    }
  }
}

/** Adds `count` into `counts`, as the store does. */
function mergeCount(
  counts: Map<string, SecurityCount>,
  count: SecurityCount,
): void {
  const id =
    `${count.organizationId}\u0000${count.hour}\u0000${count.metric}\u0000${count.key}`;
  counts.set(id, addCount(counts.get(id), count));
}
