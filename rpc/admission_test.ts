import assert from "node:assert/strict";
import { compilePolicy } from "../policy/compile.ts";
import { staticPolicy } from "../policy_source/policy_source.ts";
import { testEachEngine } from "../tests/store_engines.ts";
import { type Admission, admit } from "./admission.ts";
import type { RpcCall } from "./exchange.ts";
import { METHODS } from "./methods/table.ts";
import { Params } from "./params.ts";
import { RpcError } from "./rpc_error.ts";
import { startServices } from "./services.ts";

const evaluator = compilePolicy(`version: 1
organizations:
  acme:
    domains: { mode: enforce, allow: [acme.com] }
    limits: { ip: 5/minute, organization: 100/minute }
`);
/** 30 s into a minute: every per-minute window has 30 s left. */
const NOW = Date.UTC(2026, 0, 1, 12, 0, 30);

function getConfig(origin: string): RpcCall {
  return {
    request: new Request("http://parley.test/rpc/chat.getConfig", {
      method: "POST",
      headers: { Origin: origin },
    }),
    methodName: "chat.getConfig",
    origin,
    ip: "203.0.113.7",
    evaluator,
    now: NOW,
  };
}

/** What an admission says, as plain values: verdict, code, limits charged, organization. */
function summary(admission: Admission) {
  return {
    admitted: admission.admitted,
    code: admission.admitted
      ? null
      : admission.refusal instanceof RpcError
      ? admission.refusal.code
      : admission.refusal.name,
    charged: admission.charged.map((limit) => limit.name),
    organizationId: admission.organizationId,
  };
}

/** `[what, origin, body, the admission as plain values]` */
const ROWS: [string, string, Record<string, unknown>, unknown][] = [
  [
    "admits an allowed origin, charging the IP and organization limits (the failed authentications only peeked at)",
    "https://acme.com",
    { organizationId: "acme" },
    {
      admitted: true,
      code: null,
      charged: ["ip", "organization"],
      organizationId: "acme",
    },
  ],
  [
    "refuses a foreign origin, charging the IP limit alone",
    "https://evil.example",
    { organizationId: "acme" },
    {
      admitted: false,
      code: "DOMAIN_NOT_ALLOWED",
      charged: ["ip"],
      organizationId: "acme",
    },
  ],
  [
    "refuses an organization the policy does not know, charging the shared IP bucket and naming the organization asked for",
    "https://acme.com",
    { organizationId: "nope" },
    {
      admitted: false,
      code: "ORGANIZATION_NOT_FOUND",
      charged: ["ip"],
      organizationId: "nope",
    },
  ],
  [
    "refuses a malformed organizationId before any limit, naming no organization",
    "https://acme.com",
    { organizationId: 7 },
    {
      admitted: false,
      code: "BAD_REQUEST",
      charged: [],
      organizationId: null,
    },
  ],
];

for (const [what, origin, body, expected] of ROWS) {
  testEachEngine(`admit() ${what}`, async (engine) => {
    await using store = await engine.open();
    const services = startServices(store, staticPolicy(evaluator), {
      now: () => NOW,
    });
    try {
      const admission = await admit(
        getConfig(origin),
        METHODS["chat.getConfig"]!,
        new Params(body),
        services,
      );
      assert.deepEqual(summary(admission), expected);
      if (admission.admitted) {
        assert.equal(admission.context.organization.spec.id, "acme");
        assert.ok(admission.context.decision?.allowed);
      }
    } finally {
      await services.close();
    }
  });
}
