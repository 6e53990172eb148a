import assert from "node:assert/strict";
import { Metrics } from "./metrics.ts";

Deno.test("Metrics.render() counts each label set apart and escapes label values", () => {
  const metrics = new Metrics();
  metrics.decision("acme", "allowed", "OK");
  metrics.decision("acme", "allowed", "OK");
  metrics.decision("acme", "rejected", "DOMAIN_NOT_ALLOWED");
  metrics.decision('we"ird\\org\n', "allowed", "OK");
  metrics.jwt("acme", "verified");
  metrics.storeError("closed");
  metrics.throttleBlock("acme");
  metrics.throttleBlock("acme");
  metrics.reload("ok", "acme.yaml");
  metrics.reload("error", "beta.yaml");
  metrics.reload("error", "beta.yaml");
  const lines = metrics.render().split("\n");
  for (
    const line of [
      'parley_decisions_total{organization="acme",outcome="allowed",code="OK"} 2',
      'parley_decisions_total{organization="acme",outcome="rejected",code="DOMAIN_NOT_ALLOWED"} 1',
      'parley_decisions_total{organization="we\\"ird\\\\org\\n",outcome="allowed",code="OK"} 1',
      'parley_jwt_total{organization="acme",state="verified"} 1',
      'parley_store_errors_total{action="closed"} 1',
      'parley_auth_throttle_blocks_total{organization="acme"} 2',
      'parley_policy_reloads_total{file="acme.yaml",result="ok"} 1',
      'parley_policy_reloads_total{file="beta.yaml",result="error"} 2',
    ]
  ) assert.ok(lines.includes(line), `missing ${line}`);
});

Deno.test("Metrics.render() writes a cumulative latency histogram per method", () => {
  const metrics = new Metrics();
  metrics.latency("chat.boot", 0.0008);
  metrics.latency("chat.boot", 0.004);
  metrics.latency("chat.boot", 9);
  const lines = metrics.render().split("\n");
  for (
    const line of [
      'parley_request_duration_seconds_bucket{method="chat.boot",le="0.001"} 1',
      'parley_request_duration_seconds_bucket{method="chat.boot",le="0.005"} 2',
      'parley_request_duration_seconds_bucket{method="chat.boot",le="2.5"} 2',
      'parley_request_duration_seconds_bucket{method="chat.boot",le="+Inf"} 3',
      'parley_request_duration_seconds_count{method="chat.boot"} 3',
    ]
  ) assert.ok(lines.includes(line), `missing ${line}`);
});
