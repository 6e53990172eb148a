import assert from "node:assert/strict";
import { compilePolicy } from "../policy/compile.ts";
import type { Decision } from "../policy/types.ts";
import type {
  SecurityCount,
  SecurityCounterStore,
} from "../store/security_counter_store.ts";
import { StoreUnavailableError } from "../store/store_unavailable_error.ts";
import { signWithJsonwebtoken } from "../tests/jsonwebtoken_minter.ts";
import { testEachEngine } from "../tests/store_engines.ts";
import {
  HOUR_MS,
  hourStart,
  MAX_ORIGINS_PER_HOUR,
  ORIGIN_LABEL,
  SecurityTally,
} from "./security_tally.ts";

const NEW_SECRET = "tally-new-secret-0123456789abcdef0123456";
const OLD_SECRET = "tally-old-secret-0123456789abcdef0123456";
const SHOP = "https://shop.example";
/** Twenty minutes into an hour. */
const T0 = Date.UTC(2026, 11, 1, 9, 20);

const evaluator = compilePolicy(
  `version: 1
organizations:
  shop:
    domains: { mode: report, allow: [shop.example] }
    jwt:
      mode: optional
      keys:
        - { id: "2026-11", secret: { env: NEW } }
        - { id: "2026-08", secret: { env: OLD } }
`,
  { env: { NEW: NEW_SECRET, OLD: OLD_SECRET } },
);

function token(secret: string, kid: string, claims: object = {}): string {
  const now = Math.floor(T0 / 1000);
  return signWithJsonwebtoken(
    {
      iss: SHOP,
      aud: "chat-widget",
      sub: "user_1",
      org_id: "shop",
      iat: now,
      exp: now + 300,
      ...claims,
    },
    secret,
    { keyid: kid },
  );
}

function boot(origin: string | null, bearer?: string): Promise<Decision> {
  return evaluator.evaluate({
    organizationId: "shop",
    origin,
    method: "chat.boot",
    now: T0,
    ...(bearer === undefined ? {} : { token: bearer }),
  });
}

/** The stored counts as `metric/key → count`, for one hour. */
function byMetric(
  counts: readonly SecurityCount[],
  hour = hourStart(T0),
): Record<string, number> {
  return Object.fromEntries(
    counts.filter((count) => count.hour === hour)
      .map((count) => [`${count.metric}/${count.key}`, count.count])
      .sort(([a], [b]) => String(a).localeCompare(String(b))),
  );
}

testEachEngine(
  "SecurityTally counts boots by token state, key, reason and origin, and flush() adds them to the store",
  async (engine) => {
    await using store = await engine.open();
    const tally = new SecurityTally(store.securityCounters, {
      flushIntervalMs: 0,
      now: () => T0,
    });
    const decisions = [
      await boot(SHOP, token(NEW_SECRET, "2026-11")),
      await boot(SHOP, token(NEW_SECRET, "2026-11")),
      await boot(SHOP, token(OLD_SECRET, "2026-08")),
      await boot(SHOP),
      await boot("https://elsewhere.example"),
      await boot(null),
      await boot(SHOP, token(NEW_SECRET, "2026-11", { exp: 1 })),
      await boot(SHOP, token("a-guess-0123456789abcdef0123456789", "2026-11")),
      await boot(SHOP, "not-a-jwt"),
    ];
    decisions.forEach((decision, index) =>
      tally.boot("shop", T0 + index, decision, index === 5 ? null : SHOP)
    );
    tally.adminKeyFailure("shop", T0);
    tally.blocked("shop", T0);
    tally.blocked("shop", T0);
    await tally.flush();
    const counts = await store.securityCounters.read(
      "shop",
      hourStart(T0),
      hourStart(T0) + HOUR_MS,
    );
    assert.deepEqual(byMetric(counts), {
      "auth/admin_key": 1,
      "auth/blocked": 2,
      "boot/absent": 3,
      "boot/invalid": 3,
      "boot/verified": 3,
      "invalid/jwt.expired": 1,
      "invalid/jwt.malformed": 1,
      "invalid/jwt.signature": 1,
      "key/2026-08": 1,
      "key/2026-11": 2,
      "origin/(none)": 1,
      "origin/https://elsewhere.example": 1,
      "origin/https://shop.example": 7,
      "refused/https://shop.example": 3,
      "report/(none)": 1,
      "report/https://elsewhere.example": 1,
      "unverified/(none)": 1,
      "unverified/https://elsewhere.example": 1,
      "unverified/https://shop.example": 1,
    });
    const oldKey = counts.find((count) => count.key === "2026-08");
    assert.equal(oldKey?.lastSeen, T0 + 2, "a key's last use");
    await tally.close();
  },
);

testEachEngine(
  "SecurityTally sums what several flushes and processes add",
  async (engine) => {
    await using store = await engine.open();
    await using second = await engine.open(store.location);
    const first = new SecurityTally(store.securityCounters, {
      flushIntervalMs: 0,
      now: () => T0,
    });
    const other = new SecurityTally(second.securityCounters, {
      flushIntervalMs: 0,
      now: () => T0,
    });
    const decision = await boot(SHOP);
    first.boot("shop", T0, decision, SHOP);
    await first.flush();
    first.boot("shop", T0, decision, SHOP);
    other.boot("shop", T0, decision, SHOP);
    other.boot("shop", T0, decision, SHOP);
    await Promise.all([first.flush(), other.flush()]);
    await first.flush(); // nothing new: adds nothing
    const counts = await store.securityCounters.read(
      "shop",
      hourStart(T0),
      hourStart(T0) + HOUR_MS,
    );
    assert.equal(byMetric(counts)["boot/absent"], 4);
    assert.equal(byMetric(counts)["origin/https://shop.example"], 4);
  },
);

testEachEngine(
  "SecurityTally counts each boot in its own hour, also around the turn of an hour",
  async (engine) => {
    await using store = await engine.open();
    const tally = new SecurityTally(store.securityCounters, {
      flushIntervalMs: 0,
      now: () => T0 + HOUR_MS,
    });
    const decision = await boot(SHOP);
    const nextHour = hourStart(T0) + HOUR_MS;
    tally.boot("shop", nextHour - 1, decision, SHOP);
    tally.boot("shop", nextHour, decision, SHOP);
    // Arrived before the turn, counted after it.
    tally.boot("shop", nextHour - 2, decision, SHOP);
    tally.boot("shop", nextHour + 1, decision, SHOP);
    await tally.flush();
    const counts = await store.securityCounters.read(
      "shop",
      hourStart(T0),
      nextHour + HOUR_MS,
    );
    assert.equal(byMetric(counts, hourStart(T0))["boot/absent"], 2);
    assert.equal(byMetric(counts, nextHour)["boot/absent"], 2);
  },
);

testEachEngine(
  "SecurityTally counts origins past the per-hour cap as (other)",
  async (engine) => {
    await using store = await engine.open();
    const tally = new SecurityTally(store.securityCounters, {
      flushIntervalMs: 0,
      now: () => T0,
    });
    for (let index = 0; index < MAX_ORIGINS_PER_HOUR + 20; index++) {
      const origin = `https://site-${index}.example`;
      tally.boot("shop", T0, await boot(origin), origin);
    }
    const long = `https://${"a".repeat(250)}.example`;
    tally.boot("shop", T0, await boot(long), long);
    await tally.flush();
    const origins = byMetric(
      (await store.securityCounters.read(
        "shop",
        hourStart(T0),
        hourStart(T0) + HOUR_MS,
      )).filter((count) => count.metric === "origin"),
    );
    assert.equal(Object.keys(origins).length, MAX_ORIGINS_PER_HOUR + 1);
    assert.equal(origins[`origin/${ORIGIN_LABEL.other}`], 21);
    assert.equal(origins["origin/https://site-0.example"], 1);
  },
);

testEachEngine(
  "SecurityTally holds the per-hour cap of origins across flushes and across two processes on one store",
  async (engine) => {
    await using store = await engine.open();
    await using other = await engine.open(store.location);
    const tallies = [store, other].map((each) =>
      new SecurityTally(each.securityCounters, {
        flushIntervalMs: 0,
        now: () => T0,
      })
    );
    // Three rounds of 40 new origins from each process, each round flushed.
    let next = 0;
    for (let round = 0; round < 3; round++) {
      for (const tally of tallies) {
        for (let i = 0; i < 40; i++) {
          const origin = `https://site-${next++}.example`;
          tally.boot("shop", T0, await boot(origin), origin);
        }
      }
      await Promise.all(tallies.map((tally) => tally.flush()));
    }
    const origins = byMetric(
      (await store.securityCounters.read(
        "shop",
        hourStart(T0),
        hourStart(T0) + HOUR_MS,
      )).filter((count) => count.metric === "origin"),
    );
    assert.equal(Object.keys(origins).length, MAX_ORIGINS_PER_HOUR + 1);
    assert.equal(origins[`origin/${ORIGIN_LABEL.other}`], 240 - 100);
    assert.equal(
      Object.values(origins).reduce((sum, count) => sum + count, 0),
      240,
      "every boot is counted",
    );
    await Promise.all(tallies.map((tally) => tally.close()));
  },
);

testEachEngine(
  "SecurityTally keeps the counts of a failed flush and adds them with the next one",
  async (engine) => {
    await using store = await engine.open();
    const closed = await engine.open(store.location);
    await closed[Symbol.asyncDispose]();
    // The store this process writes to: unreachable first, then back.
    let target: SecurityCounterStore = closed.securityCounters;
    const switching: SecurityCounterStore = {
      add: (counts, cap) => target.add(counts, cap),
      read: (...args) => target.read(...args),
      readSummed: (...args) => target.readSummed(...args),
      sweep: (before) => target.sweep(before),
    };
    const tally = new SecurityTally(switching, {
      flushIntervalMs: 0,
      now: () => T0,
    });
    const decision = await boot(SHOP);
    tally.boot("shop", T0, decision, SHOP);
    await assert.rejects(tally.flush(), StoreUnavailableError);
    tally.boot("shop", T0, decision, SHOP);
    target = store.securityCounters;
    await tally.flush();
    const counts = await store.securityCounters.read(
      "shop",
      hourStart(T0),
      hourStart(T0) + HOUR_MS,
    );
    assert.equal(byMetric(counts)["boot/absent"], 2, "nothing lost");
  },
);

testEachEngine(
  "SecurityTally.close() adds what is left, and a flush asked for during another includes every earlier count",
  async (engine) => {
    await using store = await engine.open();
    const tally = new SecurityTally(store.securityCounters, {
      flushIntervalMs: 0,
      now: () => T0,
    });
    const decision = await boot(SHOP);
    tally.boot("shop", T0, decision, SHOP);
    const inFlight = tally.flush();
    tally.boot("shop", T0, decision, SHOP);
    const next = tally.flush();
    await next;
    assert.equal(
      byMetric(
        await store.securityCounters.read(
          "shop",
          hourStart(T0),
          hourStart(T0) + HOUR_MS,
        ),
      )["boot/absent"],
      2,
    );
    await inFlight;
    tally.boot("shop", T0, decision, SHOP);
    await tally.close();
    assert.equal(
      byMetric(
        await store.securityCounters.read(
          "shop",
          hourStart(T0),
          hourStart(T0) + HOUR_MS,
        ),
      )["boot/absent"],
      3,
    );
  },
);

testEachEngine(
  "SecurityTally drops counts older than the hours kept instead of writing them",
  async (engine) => {
    await using store = await engine.open();
    const tally = new SecurityTally(store.securityCounters, {
      flushIntervalMs: 0,
      now: () => T0 + 200 * HOUR_MS,
    });
    tally.boot("shop", T0, await boot(SHOP), SHOP);
    await tally.flush();
    assert.deepEqual(
      await store.securityCounters.read("shop", 0, T0 + 201 * HOUR_MS),
      [],
    );
  },
);
