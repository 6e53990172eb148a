/**
 * What a page view costs the server, per 1,000 page views of a realistic
 * mix, driven by the widget's own session logic against a real server
 * process: public requests (what the per-IP limit counts), session calls,
 * token verifications, store statements on PostgreSQL, stream-seconds,
 * server CPU-seconds (what the run cost over what the idle server spends in
 * as long, measured for 10 s before it; each server first serves 100
 * uncounted visits, so its code is compiled and its pools open, as a server
 * that has been up a while), and the page views per second one server
 * process sustains (a second run of the same kind of mix, 1,000 visits with
 * no dwell and 64 visitors at once, so the server is busy and batches what it can: its
 * page views over its CPU-seconds, one core's worth, which the 2-core
 * machine it shares with the visitors cannot show directly).
 *
 * The mix: visits by new visitors and by returning ones (30%), about 5
 * page views a visit (geometric), each page held for `--dwell` ms; 3% of
 * visits open the panel on their second page, write, and get an agent's
 * reply (a bench agent on `agent.stream` answers, and closes the
 * conversation once the visit ends); 5% of visitors carry a JWT.
 *
 * Each visitor is a `localStorage` of its own (a Map, found through an
 * `AsyncLocalStorage`, so concurrent visitors never share one) and every
 * page view is a new `ChatSession` of the widget's own code, as a page load
 * makes one: this checkout's, and with `--compare DIR` another checkout's
 * (e.g. main before this change, whose page view is getConfig + boot + a
 * stream for the page's life), each against its own server, on the same
 * mix, in the same run. The widget's DOM is not driven; the browser tests
 * (`tests/e2e/page_views_test.ts`) cover it in Chromium.
 *
 * Run: `deno task bench:pageviews [--visits 300] [--concurrency 24]
 * [--dwell 1000] [--load-visits 1000] [--load-concurrency 64]
 * [--engine postgres|kv]
 * [--compare DIR] [--seed 1]`.
 *
 * @module
 */

import jwt from "jsonwebtoken";
import { AsyncLocalStorage } from "node:async_hooks";
import { startCluster } from "../tests/postgres_cluster.ts";
import { type ServerProcess, startServer } from "../tests/server_process.ts";
import { benchFlags, engineFlag, wholeFlag } from "./bench_flags.ts";
import { cpuSeconds } from "./process_usage.ts";

const flags = benchFlags({
  visits: "300",
  concurrency: "24",
  dwell: "1000",
  "load-concurrency": "64",
  "load-visits": "1000",
  engine: "postgres",
  compare: undefined,
  seed: "1",
});
const VISITS = wholeFlag("visits", flags.visits, 1, 100_000);
const CONCURRENCY = wholeFlag("concurrency", flags.concurrency, 1, 1_000);
const DWELL_MS = wholeFlag("dwell", flags.dwell, 0, 600_000);
const LOAD_CONCURRENCY = wholeFlag(
  "load-concurrency",
  flags["load-concurrency"],
  1,
  1_000,
);
const LOAD_VISITS = wholeFlag("load-visits", flags["load-visits"], 1, 100_000);
const SEED = wholeFlag("seed", flags.seed, 0, 2 ** 31);
const ENGINE = engineFlag(flags.engine);

const ORIGIN = "https://bench.example";
const ORGANIZATION = "bench";
const JWT_SECRET = "page-views-bench-jwt-secret-0123456789abcdef";
const ADMIN_KEY = "page-views-bench-admin-key-0123456789abcdef";
/** The mix the module doc describes: shares of visits, page views a visit. */
const MIX = {
  returning: 0.3,
  chat: 0.03,
  jwt: 0.05,
  meanPages: 5,
} as const;
/** How long the idle server is watched before a run, milliseconds. */
const IDLE_MS = 10_000;
/** Visits (2 pages each, new visitors) before a run, not counted. */
const WARMUP_VISITS = 100;

const POLICY = `version: 1
defaults:
  limits: { organization: 100000000/minute, ip: 100000000/minute }
server: { maxStreamsPerIp: 100000, maxStreams: 100000 }
organizations:
  ${ORGANIZATION}:
    name: Bench Inc.
    domains: { mode: enforce, allow: [bench.example] }
    jwt:
      mode: optional
      keys: [{ id: k1, secret: { env: BENCH_JWT_SECRET } }]
    limits: { session: 100000/minute, agent: 100000000/minute }
    widget: { title: Bench, greeting: "Hello", color: "#0b5fff" }
    admin:
      keys: [{ id: agent, name: Bench Agent, secret: { env: BENCH_ADMIN_KEY } }]
`;

// ---- the mix -----------------------------------------------------------------

/** A small seeded PRNG (mulberry32), so both checkouts get the same mix. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

interface Visit {
  readonly visitor: number;
  readonly pages: number;
  /** The page (0-based) on which the visitor writes, if they do. */
  readonly chatOn?: number;
}

function plan(
  seed = SEED,
  count = VISITS,
): { visits: Visit[]; withJwt: Set<number> } {
  const next = random(seed);
  const visits: Visit[] = [];
  const withJwt = new Set<number>();
  let visitors = 0;
  for (let i = 0; i < count; i++) {
    const returning = visitors > 0 && next() < MIX.returning;
    const visitor = returning ? Math.floor(next() * visitors) : visitors++;
    if (!returning && next() < MIX.jwt) withJwt.add(visitor);
    let pages = 1;
    while (next() > 1 / MIX.meanPages && pages < 30) pages++;
    const chats = next() < MIX.chat;
    visits.push({
      visitor,
      pages,
      ...(chats ? { chatOn: Math.min(1, pages - 1) } : {}),
    });
  }
  return { visits, withJwt };
}

// ---- the browser the widget code runs in ---------------------------------------

/** Each visitor's `localStorage`, found through the async context of its visit. */
const visitorStorage = new AsyncLocalStorage<Storage>();
Object.defineProperty(globalThis, "localStorage", {
  configurable: true,
  get: () => visitorStorage.getStore(),
});

function newStorage(): Storage {
  const items = new Map<string, string>();
  return {
    get length() {
      return items.size;
    },
    clear: () => items.clear(),
    getItem: (key) => items.get(key) ?? null,
    key: (index) => [...items.keys()][index] ?? null,
    removeItem: (key) => void items.delete(key),
    setItem: (key, value) => void items.set(key, String(value)),
  };
}

/** What the run's fetch saw: stream time, and calls by method. */
const seen = { streamMs: 0, calls: new Map<string, number>() };
const realFetch = globalThis.fetch;
/**
 * The page's fetch: sends the page's `Origin` (a browser would), and times
 * every `chat.stream` from its reply to its end.
 */
globalThis.fetch = async (input, init) => {
  const url = String(input instanceof Request ? input.url : input);
  const method = /\/rpc\/([\w.]+)$/.exec(url)?.[1];
  const headers = new Headers(init?.headers);
  headers.set("Origin", ORIGIN);
  const response = await realFetch(input, { ...init, headers });
  if (method !== undefined) {
    seen.calls.set(method, (seen.calls.get(method) ?? 0) + 1);
  }
  if (method !== "chat.stream" || !response.ok || response.body === null) {
    return response;
  }
  const opened = performance.now();
  let open = true;
  const closed = () => {
    if (!open) return;
    open = false;
    seen.streamMs += performance.now() - opened;
  };
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          closed();
          controller.close();
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        closed();
        controller.error(error);
      }
    },
    cancel(reason) {
      closed();
      return reader.cancel(reason);
    },
  });
  return new Response(body, {
    status: response.status,
    headers: response.headers,
  });
};

/** A page view's session, as both checkouts' `ChatSession` have it. */
interface PageSession {
  start(): Promise<unknown>;
  send(text: string): Promise<unknown>;
  close(): void;
  /** This checkout's widget only: the panel opened or closed. */
  setPanelOpen?(open: boolean): void;
}

type SessionClass = new (options: Record<string, unknown>) => PageSession;

async function sessionClass(root: string): Promise<SessionClass> {
  const module = await import(new URL("widget/chat_session.ts", root).href);
  return module.ChatSession as SessionClass;
}

// ---- the agent -------------------------------------------------------------------

/** An agent with the inbox open: answers each visitor's message, closes on request. */
async function startAgent(baseUrl: string) {
  const controller = new AbortController();
  const conversations = new Map<string, string>();
  const call = (method: string, body: Record<string, unknown>) =>
    realFetch(`${baseUrl}/rpc/${method}`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Authorization: `Bearer ${ADMIN_KEY}`,
      },
      body: JSON.stringify({ organizationId: ORGANIZATION, ...body }),
    }).then((response) => response.body?.cancel());
  const response = await realFetch(`${baseUrl}/rpc/agent.stream`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Authorization: `Bearer ${ADMIN_KEY}`,
    },
    body: JSON.stringify({ organizationId: ORGANIZATION }),
    signal: controller.signal,
  });
  if (!response.ok) throw new Error(`agent.stream: ${response.status}`);
  const reading = (async () => {
    let buffer = "";
    for await (
      const text of response.body!.pipeThrough(new TextDecoderStream())
    ) {
      buffer += text;
      let end: number;
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!frame.includes("event: message")) continue;
        const data = JSON.parse(/^data: (.*)$/m.exec(frame)?.[1] ?? "{}");
        if (data.author !== "visitor") continue;
        conversations.set(data.text, data.conversationId);
        void call("agent.reply", {
          conversationId: data.conversationId,
          text: "Thanks, we are on it.",
        });
      }
    }
  })().catch(() => {});
  return {
    /** Closes the conversation in which `text` was written. */
    close: async (text: string) => {
      const conversationId = conversations.get(text);
      if (conversationId) await call("agent.close", { conversationId });
    },
    async stop() {
      controller.abort();
      await reading;
    },
  };
}

// ---- one run -------------------------------------------------------------------

interface Figures {
  readonly pageViews: number;
  readonly seconds: number;
  /** Server CPU over the run, less what the idle server spends in as long. */
  readonly cpuSeconds: number;
  /** What the idle server (agent connected) spends a second: timers, sweeps, polls. */
  readonly idleCpuPerSecond: number;
  readonly streamSeconds: number;
  readonly publicRequests: number;
  readonly sessionCalls: number;
  readonly verifications: number;
  readonly statements: number | undefined;
  readonly errors: Map<string, number>;
  readonly clientCalls: Map<string, number>;
  /** The no-dwell run: page views, wall seconds and server CPU-seconds. */
  readonly throughput: {
    readonly pageViews: number;
    readonly seconds: number;
    readonly cpuSeconds: number;
  };
}

/** Counters of `/metrics`, by series (`name{labels}`). */
async function scrape(baseUrl: string): Promise<Map<string, number>> {
  const text = await (await realFetch(`${baseUrl}/metrics`)).text();
  const series = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^([a-z_]+(?:\{[^}]*\})?) ([\d.e+-]+)$/.exec(line);
    if (match) series.set(match[1]!, Number(match[2]));
  }
  return series;
}

function sum(
  series: Map<string, number>,
  match: (name: string) => boolean,
): number {
  let total = 0;
  for (const [name, value] of series) if (match(name)) total += value;
  return total;
}

const PUBLIC_METHODS = ["chat.boot", "chat.getConfig", "chat.getJWTDocs"];

async function run(
  root: string,
  visits: readonly Visit[],
  withJwt: ReadonlySet<number>,
  load: readonly Visit[],
): Promise<Figures> {
  await using cluster = ENGINE === "postgres"
    ? await startCluster()
    : undefined;
  await using server: ServerProcess = await startServer({
    policy: POLICY,
    env: { BENCH_JWT_SECRET: JWT_SECRET, BENCH_ADMIN_KEY: ADMIN_KEY },
    entry: new URL("server.ts", root).href,
    ...(cluster === undefined ? {} : { store: await cluster.createDatabase() }),
  });
  const ChatSession = await sessionClass(root);
  const agent = await startAgent(server.baseUrl);
  const storages = new Map<number, Storage>();
  const busy = new Map<number, Promise<void>>();
  const errors = new Map<string, number>();
  let pageViews = 0;

  const token = (visitor: number) => {
    const now = Math.floor(Date.now() / 1000);
    return jwt.sign(
      {
        sub: `visitor-${visitor}`,
        org_id: ORGANIZATION,
        aud: "chat-widget",
        iss: ORIGIN,
        iat: now,
        exp: now + 14 * 60,
      },
      JWT_SECRET,
      { algorithm: "HS256", keyid: "k1" },
    );
  };

  /** How long a page lives: `DWELL_MS`, or 0 while measuring throughput. */
  let dwellMs = DWELL_MS;

  /** One page view: a page load makes a session, the page lives `dwellMs`. */
  async function pageView(visit: Visit, page: number, id: number) {
    let replied: () => void = () => {};
    const reply = new Promise<void>((resolve) => replied = resolve);
    const session = new ChatSession({
      apiBaseUrl: server.baseUrl,
      organizationId: ORGANIZATION,
      ...(withJwt.has(visit.visitor) ? { userJWT: token(visit.visitor) } : {}),
      page: () => ({ url: `${ORIGIN}/page-${page}`, title: `Page ${page}` }),
      onError: (error: { code: string }) =>
        errors.set(error.code, (errors.get(error.code) ?? 0) + 1),
      onMessage: (message: { author: string }) => {
        if (message.author === "agent") replied();
      },
      onConversation: () => {},
      onSettings: () => {},
      onAvailability: () => {},
      onTyping: () => {},
      onRenewed: () => {},
      onEnded: () => {},
      onConversationClosed: () => {},
    });
    await session.start();
    session.setPanelOpen?.(false);
    pageViews++;
    if (visit.chatOn === page) {
      const text = `A question from visit ${id}`;
      session.setPanelOpen?.(true);
      await session.send(text);
      await Promise.race([
        reply,
        new Promise((resolve) => setTimeout(resolve, 10_000)),
      ]);
      session.setPanelOpen?.(false);
      await new Promise((resolve) => setTimeout(resolve, dwellMs));
      session.close();
      return text;
    }
    await new Promise((resolve) => setTimeout(resolve, dwellMs));
    session.close();
    return undefined;
  }

  async function visitOnce(visit: Visit, id: number): Promise<void> {
    // A visitor's visits follow each other, as one person's would.
    await busy.get(visit.visitor);
    let storage = storages.get(visit.visitor);
    if (storage === undefined) {
      storage = newStorage();
      storages.set(visit.visitor, storage);
    }
    await visitorStorage.run(storage, async () => {
      let asked: string | undefined;
      for (let page = 0; page < visit.pages; page++) {
        asked = await pageView(visit, page, id) ?? asked;
      }
      if (asked !== undefined) await agent.close(asked);
    });
  }

  /** Runs `planned` visits, `concurrency` at a time. */
  async function drive(
    planned: readonly Visit[],
    concurrency = CONCURRENCY,
  ): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < planned.length) {
          const id = next++;
          const visit = planned[id]!;
          const done = visitOnce(visit, id);
          busy.set(visit.visitor, done.catch(() => {}));
          await done;
        }
      }),
    );
  }

  // A server that has served before: its code compiled, its pools open.
  await drive(
    Array.from({ length: WARMUP_VISITS }, (_, index) => ({
      visitor: -1 - index,
      pages: 2,
    })),
  );
  pageViews = 0;
  errors.clear();
  // The server's own background work, to take out of the page views' figure.
  const idleFrom = await cpuSeconds(server.pid);
  const idleStarted = performance.now();
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  const idleCpuPerSecond = (await cpuSeconds(server.pid) - idleFrom) /
    ((performance.now() - idleStarted) / 1000);
  const before = await scrape(server.baseUrl);
  const cpuBefore = await cpuSeconds(server.pid);
  const started = performance.now();
  seen.streamMs = 0;
  seen.calls.clear();
  await drive(visits);
  const seconds = (performance.now() - started) / 1000;
  const cpu = await cpuSeconds(server.pid) - cpuBefore -
    idleCpuPerSecond * seconds;
  const after = await scrape(server.baseUrl);
  const measured = pageViews;
  const clientCalls = new Map(seen.calls);

  // Throughput: the same kind of mix with no dwell and many at once, so the
  // server is busy and batches what it can; new visitors.
  dwellMs = 0;
  pageViews = 0;
  const loadFrom = await cpuSeconds(server.pid);
  const loadStarted = performance.now();
  await drive(
    load.map((visit) => ({ ...visit, visitor: visit.visitor + 1_000_000 })),
    LOAD_CONCURRENCY,
  );
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  const loadCpu = await cpuSeconds(server.pid) - loadFrom -
    idleCpuPerSecond * loadSeconds;
  const throughput = {
    pageViews,
    seconds: loadSeconds,
    cpuSeconds: Math.max(0.01, loadCpu),
  };
  await agent.stop();
  const delta = (match: (name: string) => boolean) =>
    sum(after, match) - sum(before, match);
  const methodOf = (name: string) =>
    /^parley_request_duration_seconds_count\{method="([^"]+)"\}$/.exec(name)
      ?.[1];
  const roundTrips = (name: string) =>
    name === "parley_store_round_trips_total";
  return {
    pageViews: measured,
    seconds,
    throughput,
    cpuSeconds: Math.max(0, cpu),
    idleCpuPerSecond,
    streamSeconds: seen.streamMs / 1000,
    publicRequests: delta((name) =>
      PUBLIC_METHODS.includes(methodOf(name) ?? "")
    ),
    sessionCalls: delta((name) =>
      (methodOf(name) ?? "").startsWith("chat.") &&
      !PUBLIC_METHODS.includes(methodOf(name)!)
    ),
    verifications: delta((name) =>
      /^parley_jwt_total\{.*state="(verified|invalid)"/.test(name)
    ),
    statements: after.has("parley_store_round_trips_total")
      ? delta(roundTrips)
      : undefined,
    errors,
    clientCalls,
  };
}

// ---- the report ------------------------------------------------------------------

const { visits, withJwt } = plan();
const load = plan(SEED + 1, LOAD_VISITS);
const here = new URL("../", import.meta.url).href;
const there = flags.compare === undefined
  ? undefined
  : `file://${Deno.realPathSync(flags.compare).replace(/\/+$/, "")}/`;
const chats = visits.filter((visit) => visit.chatOn !== undefined).length;
const jwtVisitors = withJwt.size;
for (const visitor of load.withJwt) withJwt.add(visitor + 1_000_000);
console.error(
  `${visits.length} visits, ${
    visits.reduce((total, visit) => total + visit.pages, 0)
  } page views, ${chats} visits that chat, ${jwtVisitors} visitors with a JWT; ${DWELL_MS} ms a page, ${CONCURRENCY} at once, ${ENGINE}`,
);
const beforeFigures = there === undefined
  ? undefined
  : await run(there, visits, withJwt, load.visits);
const afterFigures = await run(here, visits, withJwt, load.visits);

const per1000 = (value: number, figures: Figures) =>
  value * 1000 / figures.pageViews;
const rows: [string, (figures: Figures) => number | undefined, number][] = [
  ["public requests", (f) => per1000(f.publicRequests, f), 0],
  ["session calls", (f) => per1000(f.sessionCalls, f), 0],
  ["token verifications", (f) => per1000(f.verifications, f), 0],
  [
    "store statements (PostgreSQL)",
    (f) => f.statements === undefined ? undefined : per1000(f.statements, f),
    0,
  ],
  ["stream-seconds", (f) => per1000(f.streamSeconds, f), 0],
  ["server CPU-seconds", (f) => per1000(f.cpuSeconds, f), 2],
];
const columns = beforeFigures === undefined
  ? [["this checkout", afterFigures] as const]
  : [["before", beforeFigures] as const, ["after", afterFigures] as const];
console.log(
  `\nPer 1,000 page views (${visits.length} visits, ${afterFigures.pageViews} page views, ${DWELL_MS} ms a page, ${ENGINE}):\n`,
);
console.log(
  `| per 1,000 page views | ${columns.map(([name]) => name).join(" | ")} |${
    beforeFigures ? " after / before |" : ""
  }`,
);
console.log(
  `| --- | ${columns.map(() => "---:").join(" | ")} |${
    beforeFigures ? " ---: |" : ""
  }`,
);
const show = (value: number | undefined, digits: number) =>
  value === undefined ? "–" : value.toFixed(digits);
for (const [name, read, digits] of rows) {
  const values = columns.map(([, figures]) => read(figures));
  const ratio = beforeFigures === undefined
    ? ""
    : ` ${
      values[0] ? ((values[1] ?? 0) / values[0] * 100).toFixed(1) + "%" : "–"
    } |`;
  console.log(
    `| ${name} | ${
      values.map((value) => show(value, digits)).join(" | ")
    } |${ratio}`,
  );
}
const sustained = (figures: Figures) =>
  figures.throughput.pageViews / figures.throughput.cpuSeconds;
console.log(
  `| page views per second, one server core (no dwell, ${LOAD_CONCURRENCY} at once) | ${
    columns.map(([, figures]) => sustained(figures).toFixed(0)).join(" | ")
  } |${
    beforeFigures
      ? ` ${(sustained(afterFigures) / sustained(beforeFigures)).toFixed(1)}× |`
      : ""
  }`,
);
for (const [name, figures] of columns) {
  const errors = [...figures.errors].map(([code, count]) =>
    `${code} ×${count}`
  );
  console.log(
    `\n${name}: ${figures.pageViews} page views in ${
      figures.seconds.toFixed(1)
    } s (${
      (figures.pageViews / figures.seconds).toFixed(0)
    }/s, dwell-bound), server CPU ${
      figures.cpuSeconds.toFixed(2)
    } s over the idle server's ${
      (figures.idleCpuPerSecond * 100).toFixed(1)
    }% of a core; the widget saw ${
      [...figures.clientCalls].sort().map(([method, count]) =>
        `${method} ${count}`
      ).join(", ")
    }; errors: ${
      errors.length === 0 ? "none" : errors.join(", ")
    }. Throughput run: ${figures.throughput.pageViews} page views in ${
      figures.throughput.seconds.toFixed(1)
    } s (${
      (figures.throughput.pageViews / figures.throughput.seconds).toFixed(0)
    }/s on this machine, visitors included), server CPU ${
      figures.throughput.cpuSeconds.toFixed(2)
    } s.`,
  );
}
