/**
 * What watching the store for outages (`store/outage_watch.ts`) adds to each
 * store call: the same call on a Deno KV file, straight and through the
 * watching proxy, side by side in one run. Run:
 * `deno bench -A bench/outage_watch_bench.ts`.
 *
 * `settings.getOrCreate` of a setting that exists is one KV read, the
 * cheapest call a request makes; `ping()` the same through the store itself.
 *
 * @module
 */

import { createKvStore } from "../store/kv/kv_store.ts";
import { watchOutages } from "../store/outage_watch.ts";

const dir = Deno.makeTempDirSync({ prefix: "parley_outage_bench_" });
const kv = await Deno.openKv(`${dir}/kv.sqlite`);
const straight = createKvStore(kv, { location: dir, closeKv: false });
const watched = watchOutages(straight, { log: () => {} });
const create = () => new Uint8Array(32);
await straight.settings.getOrCreate("bench", create);
globalThis.addEventListener("unload", () => {
  kv.close();
  Deno.removeSync(dir, { recursive: true });
});

Deno.bench({
  name: "settings.getOrCreate, straight",
  group: "read",
  baseline: true,
  async fn() {
    await straight.settings.getOrCreate("bench", create);
  },
});

Deno.bench({
  name: "settings.getOrCreate, watched for outages",
  group: "read",
  async fn() {
    await watched.settings.getOrCreate("bench", create);
  },
});

Deno.bench({
  name: "ping, straight",
  group: "ping",
  baseline: true,
  async fn() {
    await straight.ping();
  },
});

Deno.bench({
  name: "ping, watched for outages",
  group: "ping",
  async fn() {
    await watched.ping();
  },
});
