/**
 * One RPC call through the whole handler, in process and without a socket:
 * `chat.getConfig` with an allowed `Origin` and `chat.boot` with a verified
 * HS256 token, each on its own in-memory Deno KV store. What it times is the
 * request pipeline — hygiene, admission (the evaluator, one limit chain in
 * one store step) and the reply — with none of `wrk`'s or the kernel's
 * share, so it varies less than `bench/load.ts` on a busy machine.
 *
 * With `PARLEY_BENCH_BEFORE=DIR` (another checkout of Parley, e.g.
 * `git archive main` unpacked) the same calls also run through that
 * checkout's `createHandler`, in the same process and run, grouped with this
 * tree's so `deno bench` prints the ratio.
 *
 * Run: `deno bench -A bench/pipeline_bench.ts`. On a busy machine the
 * averages carry the load's stalls; compare the p75 and p99 columns.
 *
 * @module
 */

import { mintUserToken } from "../policy/mint_user_token.ts";

const ORIGIN = "https://bench.example";
const SECRET = "bench-pipeline-secret-0123456789abcdef0123";
const POLICY = `version: 1
organizations:
  bench:
    domains: { mode: enforce, allow: [bench.example] }
    jwt:
      mode: optional
      keys: [{ id: k1, secret: { env: BENCH_SECRET } }]
    limits:
      organization: 100000000/minute
      ip: 100000000/minute
      authFailures: 100000000/minute
`;

/** What each tree's `mod.ts` gives this bench. */
interface Tree {
  compilePolicy(
    text: string,
    options: { env: (name: string) => string | undefined },
  ): unknown;
  createHandler(
    options: { policy: { current: unknown }; store: unknown },
  ): {
    (request: Request): Promise<Response>;
    close(): Promise<void>;
  };
  createKvStore(kv: Deno.Kv): { close(): Promise<void> };
}

const before = Deno.env.get("PARLEY_BENCH_BEFORE");
const trees: [string, Tree][] = [
  ["this tree", await import("../mod.ts") as unknown as Tree],
];
if (before !== undefined) {
  const url = new URL(`file://${Deno.realPathSync(before)}/mod.ts`);
  trees.push(["before", await import(url.href) as unknown as Tree]);
}

const token = await mintUserToken({
  secret: new TextEncoder().encode(SECRET),
  kid: "k1",
  organizationId: "bench",
  subject: "user_1",
  issuer: ORIGIN,
  now: Date.now(),
  expiresInMs: 600_000,
});

function call(method: string, bearer?: string): Request {
  return new Request(`http://bench.test/rpc/${method}`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Origin: ORIGIN,
      ...(bearer === undefined ? {} : { Authorization: `Bearer ${bearer}` }),
    },
    body: '{"organizationId":"bench"}',
  });
}

const closing: (() => Promise<void>)[] = [];
globalThis.addEventListener("unload", () => {
  for (const close of closing) void close();
});

const METHODS = [
  ["chat.getConfig", undefined],
  ["chat.boot", token],
] as const;

async function served(
  handler: (request: Request) => Promise<Response>,
  method: string,
  bearer: string | undefined,
): Promise<void> {
  const response = await handler(call(method, bearer));
  if (response.status !== 200) {
    throw new Error(`${method}: ${response.status}`);
  }
  await response.body?.cancel();
}

const handlers: [string, (request: Request) => Promise<Response>][] = [];
for (const [label, tree] of trees) {
  const evaluator = tree.compilePolicy(POLICY, {
    env: (name) => name === "BENCH_SECRET" ? SECRET : undefined,
  });
  const store = tree.createKvStore(await Deno.openKv(":memory:"));
  const handler = tree.createHandler({
    policy: { current: evaluator },
    store,
  });
  closing.push(async () => {
    await handler.close();
    await store.close();
  });
  // Warmed alike before any is timed, so the first registered is not the
  // one that pays for compiling the pipeline.
  for (let i = 0; i < 500; i++) {
    for (const [method, bearer] of METHODS) {
      await served(handler, method, bearer);
    }
  }
  handlers.push([label, handler]);
}

// Whatever is measured first runs slower on a busy machine (seen with
// either tree first), so each tree is measured twice, in the order A B B A.
const ORDERED = [...handlers, ...[...handlers].reverse()];
for (const [method, bearer] of METHODS) {
  ORDERED.forEach(([label, handler], index) => {
    Deno.bench({
      name: `${method} (${label}${index < handlers.length ? "" : ", again"})`,
      group: method,
      baseline: label === "before" && index < handlers.length,
      fn: () => served(handler, method, bearer),
    });
  });
}
