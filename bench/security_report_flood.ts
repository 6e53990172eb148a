/**
 * The security report after a week-long origin flood: every hour of the 7
 * days kept holds the most an organization can hold — 100 origins plus
 * `(other)`, in each of the four origin metrics — and `agent.securityReport`
 * reads the whole week.
 *
 * Measured in one run on one store: the read as it is now (the store sums the
 * origins over the window and returns only those the report lists:
 * `readSecurityReport`), against the read before it (every hourly count read
 * into memory, then summed: `read()` + `buildSecurityReport()`), and the RPC
 * itself, `agent.securityReport {hours: 168}` from a real server process on
 * that store (median of the rounds, and the slowest).
 *
 * Run: `deno run -A bench/security_report_flood.ts [--engine kv|postgres]
 * [--rounds 5]` (`postgres` starts a throwaway cluster, as the tests do).
 *
 * @module
 */

import { compilePolicy } from "../policy/compile.ts";
import {
  buildSecurityReport,
  readSecurityReport,
} from "../observability/security_report.ts";
import {
  HOUR_MS,
  hourStart,
  KEPT_HOURS,
  MAX_ORIGINS_PER_HOUR,
  ORIGIN_CAP,
  ORIGIN_LABEL,
  ORIGIN_METRICS,
  SecurityTally,
} from "../observability/security_tally.ts";
import type { SecurityCount } from "../store/security_counter_store.ts";
import { openStore } from "../store/open_store.ts";
import { startCluster } from "../tests/postgres_cluster.ts";
import { startServer } from "../tests/server_process.ts";
import { benchFlags, engineFlag, wholeFlag } from "./bench_flags.ts";

const flags = benchFlags({ engine: "kv", rounds: "5" });
const ENGINE = engineFlag(flags.engine);
const ROUNDS = wholeFlag("rounds", flags.rounds, 1, 50);

const ADMIN_KEY = "flood-bench-admin-key-0123456789abcdef012";
const POLICY = `version: 1
organizations:
  shop:
    domains: { mode: report, allow: [shop.example] }
    jwt: { mode: optional, keys: [{ id: k1, secret: { env: SHOP_SECRET } }] }
    admin:
      keys: [{ secret: { env: SHOP_ADMIN_KEY } }]
`;
const ENV = {
  SHOP_SECRET: "flood-bench-secret-0123456789abcdef012345",
  SHOP_ADMIN_KEY: ADMIN_KEY,
};
const organization = compilePolicy(POLICY, { env: ENV }).organization("shop")!
  .spec;

/** A week at the cap: every hour, 100 origins and (other) in each origin metric. */
function floodedWeek(now: number): SecurityCount[] {
  const counts: SecurityCount[] = [];
  const current = hourStart(now);
  for (let age = 0; age < KEPT_HOURS; age++) {
    const hour = current - age * HOUR_MS;
    const at = (n: number) => ({
      organizationId: "shop",
      hour,
      count: n,
      lastSeen: hour + 1,
    });
    counts.push({ ...at(5_000), metric: "boot", key: "absent" });
    counts.push({ ...at(40), metric: "boot", key: "verified" });
    counts.push({ ...at(40), metric: "key", key: "k1" });
    for (let i = 0; i <= MAX_ORIGINS_PER_HOUR; i++) {
      const key = i === MAX_ORIGINS_PER_HOUR
        ? ORIGIN_LABEL.other
        : `https://h${age}-site-${i}.attacker.example`;
      for (const metric of ORIGIN_METRICS) {
        counts.push({ ...at(1 + (i % 7)), metric, key });
      }
    }
  }
  return counts;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function timed(run: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  return times;
}

await using cluster = ENGINE === "postgres" ? await startCluster() : undefined;
const dir = await Deno.makeTempDir({ prefix: "parley_flood_bench_" });
const location = cluster === undefined
  ? `${dir}/kv.sqlite`
  : await cluster.createDatabase();
const now = Date.now();
const flood = floodedWeek(now);
const store = await openStore(location);
// Before: the counts as the adapters stored them without a cap (on KV, one
// entry per origin, metric and hour), read whole and summed in memory.
const beforeDir = await Deno.makeTempDir({ prefix: "parley_flood_before_" });
const beforeStore = cluster === undefined
  ? await openStore(`${beforeDir}/kv.sqlite`)
  : store;
try {
  for (let start = 0; start < flood.length; start += 5_000) {
    const chunk = flood.slice(start, start + 5_000);
    await store.securityCounters.add(chunk, ORIGIN_CAP);
    if (beforeStore !== store) await beforeStore.securityCounters.add(chunk);
  }
  const tally = new SecurityTally(store.securityCounters, {
    flushIntervalMs: 0,
  });
  const parts = { counters: store.securityCounters, tally };
  const current = hourStart(now);
  const before = await timed(async () => {
    const counts = await beforeStore.securityCounters.read(
      "shop",
      current - (KEPT_HOURS - 1) * HOUR_MS,
      current + HOUR_MS,
    );
    return buildSecurityReport(counts, { organization, hours: 168, now });
  });
  const after = await timed(() =>
    readSecurityReport(parts, organization, 168, now)
  );
  const report = await readSecurityReport(parts, organization, 168, now);
  if (report.origins.length !== 50) throw new Error("The report lists no 50");
  const window = [
    current - (KEPT_HOURS - 1) * HOUR_MS,
    current + HOUR_MS,
  ] as const;
  const rowsBefore =
    (await beforeStore.securityCounters.read("shop", ...window)).length;
  const rowsNow = (await store.securityCounters.readSummed("shop", ...window, {
    metrics: ORIGIN_METRICS,
    fromHour: window[0],
    limit: 50,
    rankBy: "origin",
    restKey: ORIGIN_LABEL.rest,
  })).length;
  await tally.close();
  if (beforeStore !== store) await beforeStore.close();
  await store.close();

  await using server = await startServer({
    policy: POLICY,
    env: ENV,
    store: location,
  });
  const rpc = await timed(async () => {
    const reply = await server.rpc("agent.securityReport", {
      organizationId: "shop",
      hours: 168,
    }, { token: ADMIN_KEY });
    if (reply.status !== 200) throw new Error(`RPC answered ${reply.status}`);
  });

  const row = (name: string, times: number[]) =>
    `| ${name} | ${median(times).toFixed(0)} ms | ${
      Math.max(...times).toFixed(0)
    } ms |`;
  console.log(
    `Security report of a week at the origin cap on ${
      ENGINE === "kv" ? "a KV file" : "PostgreSQL"
    }: ${flood.length.toLocaleString("en")} stored counts, ${ROUNDS} rounds\n`,
  );
  console.log("| read | median | slowest |");
  console.log("| --- | ---: | ---: |");
  console.log(row("every hourly count into memory (before)", before));
  console.log(row("summed in the store (now)", after));
  console.log(row("agent.securityReport {hours: 168}, server process", rpc));
  console.log(
    `\nnow/before: ${
      (median(after) / median(before)).toFixed(2)
    }; counts read into the server's memory: ${
      rowsBefore.toLocaleString("en")
    } before, ${rowsNow.toLocaleString("en")} now`,
  );
} finally {
  for (const each of [dir, beforeDir]) {
    await Deno.remove(each, { recursive: true }).catch(() => {});
  }
}
