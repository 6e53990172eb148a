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
  readonly #decisions = new Map<string, number>();
  readonly #jwt = new Map<string, number>();
  readonly #storeErrors = new Map<string, number>();
  readonly #reloads = new Map<string, number>();
  readonly #latencyCounts = new Map<string, number[]>();
  readonly #latencySums = new Map<string, number>();
  /** Formatted label sets by their raw values; bounded like the series themselves. */
  readonly #labelCache = new Map<string, string>();

  #labels(raw: string, format: () => string): string {
    let formatted = this.#labelCache.get(raw);
    if (formatted === undefined) {
      formatted = format();
      this.#labelCache.set(raw, formatted);
    }
    return formatted;
  }

  /**
   * Counts one decision.
   *
   * @param organization Known organization id or `_unknown`.
   * @param outcome `allowed`, `rejected` or `report`.
   * @param code The wire code, or `OK`.
   */
  decision(organization: string, outcome: string, code: string): void {
    increment(
      this.#decisions,
      this.#labels(
        `d\u0000${organization}\u0000${outcome}\u0000${code}`,
        () => labels({ organization, outcome, code }),
      ),
    );
  }

  /**
   * Counts one JWT state at `chat.boot` — the share already signed is what an
   * admin reads before switching to `required`.
   */
  jwt(organization: string, state: JwtState): void {
    increment(
      this.#jwt,
      this.#labels(
        `j\u0000${organization}\u0000${state}`,
        () => labels({ organization, state }),
      ),
    );
  }

  /** Counts a storage failure and what was done about it. */
  storeError(action: "closed" | "open"): void {
    increment(this.#storeErrors, labels({ action }));
  }

  /** Counts a policy reload attempt. */
  reload(result: "ok" | "error"): void {
    increment(this.#reloads, labels({ result }));
  }

  /** Observes one request's latency. */
  latency(method: string, seconds: number): void {
    const key = this.#labels(`m\u0000${method}`, () => labels({ method }));
    let counts = this.#latencyCounts.get(key);
    if (counts === undefined) {
      counts = new Array(LATENCY_BUCKETS.length + 1).fill(0);
      this.#latencyCounts.set(key, counts);
    }
    let bucket = LATENCY_BUCKETS.findIndex((bound) => seconds <= bound);
    if (bucket === -1) bucket = LATENCY_BUCKETS.length;
    counts[bucket]!++;
    this.#latencySums.set(key, (this.#latencySums.get(key) ?? 0) + seconds);
  }

  /**
   * Renders every series for `GET /metrics`.
   *
   * @returns The Prometheus text exposition.
   */
  render(): string {
    const lines: string[] = [];
    counter(
      lines,
      "parley_decisions_total",
      "Pipeline decisions by organization, outcome and code.",
      this.#decisions,
    );
    counter(
      lines,
      "parley_jwt_total",
      "JWT state at chat.boot by organization.",
      this.#jwt,
    );
    counter(
      lines,
      "parley_store_errors_total",
      "Storage failures by the action taken.",
      this.#storeErrors,
    );
    counter(
      lines,
      "parley_policy_reloads_total",
      "Policy reloads by result.",
      this.#reloads,
    );
    lines.push(
      "# HELP parley_request_duration_seconds RPC latency by method.",
      "# TYPE parley_request_duration_seconds histogram",
    );
    for (const [key, counts] of this.#latencyCounts) {
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
          this.#latencySums.get(key) ?? 0
        }`,
      );
      lines.push(`parley_request_duration_seconds_count{${key}} ${cumulative}`);
    }
    return lines.join("\n") + "\n";
  }
}

function labels(values: Record<string, string>): string {
  return Object.entries(values).map(([name, value]) =>
    `${name}="${
      value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll(
        "\n",
        "\\n",
      )
    }"`
  ).join(",");
}

function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function counter(
  lines: string[],
  name: string,
  help: string,
  values: Map<string, number>,
): void {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
  for (const [key, value] of values) lines.push(`${name}{${key}} ${value}`);
}
