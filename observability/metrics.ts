/**
 * Prometheus metrics of one server process (`GET /metrics`, text format
 * 0.0.4). Label values are bounded: an unknown organization is counted as
 * `_unknown`, so random ids cannot grow the series set.
 *
 * @module
 */

/** Request latency buckets, seconds. */
const LATENCY_BUCKETS = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
];

/** JWT state of an admitted or rejected boot. */
export type JwtState = "verified" | "absent" | "invalid";

/** Counters and histograms of the request pipeline. */
export class Metrics {
  readonly #decisions = new LabelledCounter([
    "organization",
    "outcome",
    "code",
  ]);
  readonly #jwt = new LabelledCounter(["organization", "state"]);
  readonly #storeErrors = new LabelledCounter(["action"]);
  readonly #throttleBlocks = new LabelledCounter(["organization"]);
  readonly #reloads = new LabelledCounter(["file", "result"]);
  readonly #webhooks = new LabelledCounter(["organization", "outcome"]);
  #decisionLogDropped = 0;
  /** Bucket counts (the last one past every bound) by method. */
  readonly #latencyCounts = new Map<string, number[]>();
  readonly #latencySums = new Map<string, number>();
  #storeRoundTrips: (() => number) | undefined;

  /**
   * Counts one decision.
   *
   * @param organization Known organization id or `_unknown`.
   * @param outcome `allowed`, `rejected` or `report`.
   * @param code The wire code, or `OK`.
   */
  decision(organization: string, outcome: string, code: string): void {
    this.#decisions.increment(organization, outcome, code);
  }

  /**
   * Counts one JWT state at `chat.boot` — the share already signed is what an
   * admin reads before switching to `required`.
   */
  jwt(organization: string, state: JwtState): void {
    this.#jwt.increment(organization, state);
  }

  /**
   * Counts a request refused because its IP spent the organization's
   * failed-authentication limit (`limits.authFailures`).
   */
  throttleBlock(organization: string): void {
    this.#throttleBlocks.increment(organization);
  }

  /** Counts a storage failure and what was done about it. */
  storeError(action: "closed" | "open"): void {
    this.#storeErrors.increment(action);
  }

  /** Counts a decision-log line dropped (the writer's queue was full, or a write failed). */
  decisionLogDropped(): void {
    this.#decisionLogDropped++;
  }

  /** Reads the store's statement count at render (engines that count them). */
  storeRoundTrips(read: () => number): void {
    this.#storeRoundTrips = read;
  }

  /**
   * Counts a policy reload attempt of one file: the policy file, or one file
   * of a policy directory (its name, so series stay bounded by the directory).
   */
  reload(result: "ok" | "error", file: string): void {
    this.#reloads.increment(file, result);
  }

  /**
   * Counts one webhook delivery attempt: `delivered`, `retrying`, `failed`
   * (the last attempt), `refused` (a private address or plain http, never
   * retried) or `dropped` (no webhook any more, or the event no longer holds).
   */
  webhook(organization: string, outcome: string): void {
    this.#webhooks.increment(organization, outcome);
  }

  /** Observes one request's latency. */
  latency(method: string, seconds: number): void {
    let counts = this.#latencyCounts.get(method);
    if (counts === undefined) {
      counts = new Array(LATENCY_BUCKETS.length + 1).fill(0);
      this.#latencyCounts.set(method, counts);
    }
    let bucket = LATENCY_BUCKETS.findIndex((bound) => seconds <= bound);
    if (bucket === -1) bucket = LATENCY_BUCKETS.length;
    counts[bucket]!++;
    this.#latencySums.set(
      method,
      (this.#latencySums.get(method) ?? 0) + seconds,
    );
  }

  /**
   * Renders every series for `GET /metrics`.
   *
   * @returns The Prometheus text exposition.
   */
  render(): string {
    const lines: string[] = [];
    this.#decisions.render(
      lines,
      "parley_decisions_total",
      "Pipeline decisions by organization, outcome and code.",
    );
    this.#jwt.render(
      lines,
      "parley_jwt_total",
      "JWT state at chat.boot by organization.",
    );
    this.#throttleBlocks.render(
      lines,
      "parley_auth_throttle_blocks_total",
      "Requests refused by the failed-authentication limit, by organization.",
    );
    this.#storeErrors.render(
      lines,
      "parley_store_errors_total",
      "Storage failures by the action taken.",
    );
    this.#reloads.render(
      lines,
      "parley_policy_reloads_total",
      "Policy reloads by file and result.",
    );
    this.#webhooks.render(
      lines,
      "parley_webhook_deliveries_total",
      "Webhook delivery attempts by organization and outcome.",
    );
    lines.push(
      "# HELP parley_decision_log_dropped_total Decision-log lines dropped: the writer could not keep up, or a write failed.",
      "# TYPE parley_decision_log_dropped_total counter",
      `parley_decision_log_dropped_total ${this.#decisionLogDropped}`,
    );
    if (this.#storeRoundTrips !== undefined) {
      lines.push(
        "# HELP parley_store_round_trips_total Statements sent to the store.",
        "# TYPE parley_store_round_trips_total counter",
        `parley_store_round_trips_total ${this.#storeRoundTrips()}`,
      );
    }
    lines.push(
      "# HELP parley_request_duration_seconds RPC latency by method.",
      "# TYPE parley_request_duration_seconds histogram",
    );
    for (const [method, counts] of this.#latencyCounts) {
      const key = labels(["method"], [method]);
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((bound, index) => {
        cumulative += counts[index]!;
        lines.push(
          `parley_request_duration_seconds_bucket{${key},le="${bound}"} ${cumulative}`,
        );
      });
      cumulative += counts[LATENCY_BUCKETS.length]!;
      lines.push(
        `parley_request_duration_seconds_bucket{${key},le="+Inf"} ${cumulative}`,
      );
      lines.push(
        `parley_request_duration_seconds_sum{${key}} ${
          this.#latencySums.get(method) ?? 0
        }`,
      );
      lines.push(`parley_request_duration_seconds_count{${key}} ${cumulative}`);
    }
    return lines.join("\n") + "\n";
  }
}

/**
 * One counter family: counts keyed by their label values joined with NUL (a
 * character no label value here contains), formatted only when rendered.
 */
class LabelledCounter {
  readonly #names: readonly string[];
  readonly #counts = new Map<string, number>();

  constructor(names: readonly string[]) {
    this.#names = names;
  }

  increment(...values: string[]): void {
    const key = values.join("\u0000");
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  render(lines: string[], name: string, help: string): void {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
    for (const [key, value] of this.#counts) {
      lines.push(
        `${name}{${labels(this.#names, key.split("\u0000"))}} ${value}`,
      );
    }
  }
}

function labels(names: readonly string[], values: readonly string[]): string {
  return names.map((name, index) =>
    `${name}="${
      values[index]!.replaceAll("\\", "\\\\").replaceAll('"', '\\"')
        .replaceAll("\n", "\\n")
    }"`
  ).join(",");
}
