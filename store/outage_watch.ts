/**
 * Says in the server's log when the store goes away and when it is back:
 * one line when a call first fails with {@linkcode StoreUnavailableError},
 * one line with the outage's length once it answers again — never a line per
 * request. It watches the store through the port, so it works the same on
 * every engine and nothing above the store learns which engine it is.
 *
 * The states: `available` → (a call fails) → `unavailable` → (a probe
 * `ping()` succeeds, with no call failing for a whole probe interval) →
 * `available`. Recovery is the probe's call, not the next successful
 * request's, so a store that fails every other call (a flapping link)
 * stays one outage instead of a pair of lines per request, and an idle
 * server still notices the store is back.
 *
 * @module
 */

import type { Store } from "./store.ts";
import { StoreUnavailableError } from "./store_unavailable_error.ts";

/** Options of {@linkcode watchOutages} and {@linkcode OutageTracker}. */
export interface OutageWatchOptions {
  /** Where the two lines go (the server: stderr). */
  readonly log: (line: string) => void;
  /** How often an unavailable store is probed, ms (default 1000). */
  readonly probeIntervalMs?: number;
  /** Clock, epoch milliseconds. */
  readonly now?: () => number;
}

/**
 * The state machine, fed by failures and probed by a timer.
 */
export class OutageTracker {
  readonly #label: string;
  readonly #ping: () => Promise<void>;
  readonly #log: (line: string) => void;
  readonly #now: () => number;
  readonly #intervalMs: number;
  /** Set while unavailable. */
  #outage:
    | { since: number; lastFailure: number; failures: number }
    | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #probing = false;

  /**
   * @param label The store as logs name it (`postgres host:port/db`).
   * @param ping One round trip to the store.
   * @param options Log, probe interval and clock.
   */
  constructor(
    label: string,
    ping: () => Promise<void>,
    options: OutageWatchOptions,
  ) {
    this.#label = label;
    this.#ping = ping;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.#intervalMs = options.probeIntervalMs ?? 1_000;
  }

  /** Whether the store is taken to be unavailable. */
  get unavailable(): boolean {
    return this.#outage !== undefined;
  }

  /**
   * A call failed because the store could not serve it.
   *
   * @param error The failure; its message never holds a credential.
   */
  failed(error: StoreUnavailableError): void {
    const at = this.#now();
    if (this.#outage !== undefined) {
      this.#outage.failures++;
      this.#outage.lastFailure = at;
      return;
    }
    this.#outage = { since: at, lastFailure: at, failures: 1 };
    this.#log(
      `parley: store ${this.#label} unavailable: ${error.message}`,
    );
    this.#timer = setInterval(() => void this.probe(), this.#intervalMs);
    Deno.unrefTimer(this.#timer);
  }

  /**
   * One probe: when no call failed for a whole interval and `ping()`
   * answers, the outage is over. The timer calls it; tests may too.
   *
   * @returns Whether the store is available after the probe.
   */
  async probe(): Promise<boolean> {
    const outage = this.#outage;
    if (outage === undefined) return true;
    if (this.#probing || this.#now() - outage.lastFailure < this.#intervalMs) {
      return false;
    }
    this.#probing = true;
    try {
      await this.#ping();
    } catch (error) {
      if (error instanceof StoreUnavailableError) this.failed(error);
      return false;
    } finally {
      this.#probing = false;
    }
    if (
      this.#outage !== outage ||
      this.#now() - outage.lastFailure < this.#intervalMs
    ) {
      return false;
    }
    this.#outage = undefined;
    this.stop();
    this.#log(
      `parley: store ${this.#label} available again after ${
        lengthInWords(this.#now() - outage.since)
      } (${outage.failures} failed ${
        outage.failures === 1 ? "call" : "calls"
      })`,
    );
    return true;
  }

  /** Stops probing (at close). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * The store, with every call it answers watched for outages.
 *
 * @param store The store to watch; closing the result closes it.
 * @param options Where the lines go.
 * @returns A store with the same parts and engine.
 */
export function watchOutages(store: Store, options: OutageWatchOptions): Store {
  const tracker = new OutageTracker(
    `${store.engine} ${store.location}`,
    () => store.ping(),
    options,
  );
  const watched = <T extends object>(part: T): T => watchCalls(part, tracker);
  return {
    engine: store.engine,
    location: store.location,
    counters: watched(store.counters),
    conversations: watched(store.conversations),
    changes: watched(store.changes),
    settings: watched(store.settings),
    outbox: watched(store.outbox),
    presence: watched(store.presence),
    securityCounters: watched(store.securityCounters),
    ping: () => observe(store.ping(), tracker),
    async close(): Promise<void> {
      tracker.stop();
      await store.close();
    },
    ...(store.roundTrips === undefined
      ? {}
      : { roundTrips: () => store.roundTrips!() }),
  };
}

/**
 * A view of one part of the store whose calls report their failures. A
 * proxy rather than a wrapper per method, so a method added to a part of the
 * port is watched without being listed here.
 */
function watchCalls<T extends object>(part: T, tracker: OutageTracker): T {
  // deno-lint-ignore ban-types -- any method of the part
  const wrapped = new Map<PropertyKey, Function>();
  return new Proxy(part, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      let method = wrapped.get(property);
      if (method === undefined) {
        method = (...args: unknown[]) => {
          // Called on the part itself: its private fields are not the proxy's.
          const result = value.apply(target, args);
          return result instanceof Promise ? observe(result, tracker) : result;
        };
        wrapped.set(property, method);
      }
      return method;
    },
  });
}

/** The same promise, its store failure told to the tracker on the way. */
function observe<T>(result: Promise<T>, tracker: OutageTracker): Promise<T> {
  result.catch((error: unknown) => {
    if (error instanceof StoreUnavailableError) tracker.failed(error);
  });
  return result;
}

function lengthInWords(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}
