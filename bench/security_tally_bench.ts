/**
 * What counting a boot for the security report costs the hot path:
 * `SecurityTally.boot()` against one `Map` increment (the baseline), for a
 * verified boot (token state, key, origin) and a refused one with an invalid
 * token (state, reason, origin, refusal), and the flush every 5 s adds on a
 * KV file. Run: `deno bench -A bench/security_tally_bench.ts`.
 *
 * @module
 */

import { compileSpec } from "../policy/compile.ts";
import { mintUserToken } from "../policy/mint_user_token.ts";
import {
  testingOrganization,
  testingPolicy,
  testingSecret,
} from "../policy/testing_spec.ts";
import { SecurityTally } from "../observability/security_tally.ts";
import { KvSecurityCounterStore } from "../store/kv/kv_security_counter_store.ts";

const SECRET = testingSecret("bench-tally");
const ORIGIN = "https://shop.example";

const evaluator = compileSpec(testingPolicy([
  testingOrganization("shop", {
    allow: ["shop.example"],
    jwtMode: "optional",
    keys: [{ id: "k1", secret: SECRET }],
  }),
]));
const verified = await evaluator.evaluate({
  organizationId: "shop",
  origin: ORIGIN,
  method: "chat.boot",
  token: await mintUserToken({
    secret: SECRET,
    kid: "k1",
    organizationId: "shop",
    subject: "u1",
    issuer: ORIGIN,
    now: Date.now(),
    expiresInMs: 600_000,
  }),
});
const invalid = await evaluator.evaluate({
  organizationId: "shop",
  origin: ORIGIN,
  method: "chat.boot",
  token: "not-a-jwt",
});
if (!verified.identity.verified || invalid.code !== "JWT_INVALID") {
  throw new Error("The bench's decisions are not what it measures");
}

const dir = Deno.makeTempDirSync({ prefix: "parley_tally_bench_" });
const kv = await Deno.openKv(`${dir}/kv.sqlite`);
globalThis.addEventListener("unload", () => {
  kv.close();
  Deno.removeSync(dir, { recursive: true });
});
const tally = new SecurityTally(new KvSecurityCounterStore(kv), {
  flushIntervalMs: 0,
});
const now = Date.now();
const counts = new Map<string, number>();

Deno.bench({
  name: "one Map increment (baseline)",
  group: "count a boot",
  baseline: true,
  fn() {
    counts.set("shop", (counts.get("shop") ?? 0) + 1);
  },
});

Deno.bench({
  name: "SecurityTally.boot() verified",
  group: "count a boot",
  fn() {
    tally.boot("shop", now, verified, ORIGIN);
  },
});

Deno.bench({
  name: "SecurityTally.boot() invalid token",
  group: "count a boot",
  fn() {
    tally.boot("shop", now, invalid, ORIGIN);
  },
});

Deno.bench({
  name: "flush() of one organization's hour to a KV file",
  group: "flush",
  async fn() {
    for (let i = 0; i < 100; i++) tally.boot("shop", now, verified, ORIGIN);
    tally.boot("shop", now, invalid, ORIGIN);
    await tally.flush();
  },
});
