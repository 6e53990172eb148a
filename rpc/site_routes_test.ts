import assert from "node:assert/strict";
import { Metrics } from "../observability/metrics.ts";
import { compilePolicy } from "../policy/compile.ts";
import { staticPolicy } from "../policy_source/policy_source.ts";
import type { Store } from "../store/store.ts";
import { testEachEngine } from "../tests/store_engines.ts";
import { serveSite, type SiteAssets, type SiteStatus } from "./site_routes.ts";

const policy = staticPolicy(compilePolicy(`version: 1
organizations:
  acme:
    domains: { mode: "off" }
`));
const WIDGET = { code: "boot()", sri: "sha384-abc", etag: '"w1"' };
const ASSETS: SiteAssets = {
  widget: WIDGET,
  pages: { home: "<!doctype html><title>Demo</title>" },
};

function statusOf(store: Store, streams: number): SiteStatus {
  return { store, policy, metrics: new Metrics(), streams: { size: streams } };
}

function get(path: string, headers: HeadersInit = {}): Request {
  return new Request(`http://parley.test${path}`, { headers });
}

testEachEngine(
  "serveSite() serves /healthz from the store and the policy in force, and /metrics as Prometheus text",
  async (engine) => {
    await using store = await engine.open();
    const status = statusOf(store, 2);
    const health = await serveSite(get("/healthz"), "/healthz", {}, status);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), {
      status: "ok",
      organizations: 1,
      policyRevision: policy.current.revision,
      lastReloadError: null,
      policyErrors: [],
      store: "ok",
      engine: engine.name,
      streams: 2,
    });
    const metrics = await serveSite(get("/metrics"), "/metrics", {}, status);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get("content-type") ?? "", /^text\/plain/);
    await metrics.body?.cancel();
  },
);

testEachEngine(
  "serveSite() answers 304 to a matching ETag, 404 for a part it was not given or an unknown path, 405 for a POST",
  async (engine) => {
    await using store = await engine.open();
    const status = statusOf(store, 0);
    const rows: [Request, string, SiteAssets, number][] = [
      [get("/widget.js"), "/widget.js", ASSETS, 200],
      [
        get("/widget.js", { "If-None-Match": '"w1"' }),
        "/widget.js",
        ASSETS,
        304,
      ],
      [get("/widget.js"), "/widget.js", {}, 404],
      [get("/"), "/", ASSETS, 200],
      [get("/agent"), "/agent", ASSETS, 404],
      [get("/nowhere"), "/nowhere", ASSETS, 404],
      [
        new Request("http://parley.test/", { method: "POST" }),
        "/",
        ASSETS,
        405,
      ],
    ];
    for (const [request, path, assets, expected] of rows) {
      const response = await serveSite(request, path, assets, status);
      assert.equal(response.status, expected, `${request.method} ${path}`);
      await response.body?.cancel();
    }
  },
);
