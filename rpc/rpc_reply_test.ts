import assert from "node:assert/strict";
import { compilePolicy } from "../policy/compile.ts";
import { StoreDataError } from "../store/store_data_error.ts";
import { StoreUnavailableError } from "../store/store_unavailable_error.ts";
import type { Exchange } from "./exchange.ts";
import { Metrics } from "../observability/metrics.ts";
import { failureReply } from "./rpc_reply.ts";

const evaluator = compilePolicy(`version: 1
organizations:
  acme:
    domains: { mode: "off" }
`);

function exchange(): Exchange {
  return {
    request: new Request("http://localhost/rpc/chat.sendMessage", {
      method: "POST",
    }),
    methodName: "chat.sendMessage",
    origin: null,
    ip: "127.0.0.1",
    evaluator,
    now: Date.now(),
    limits: [],
    organizationId: "acme",
  };
}

/** `[what the store threw, status, wire code, reason, counted as a store failure]` */
const ROWS: [string, unknown, number, string, string, boolean][] = [
  [
    "an unreachable store",
    new StoreUnavailableError("PostgreSQL at x failed: connection refused"),
    503,
    "UNAVAILABLE",
    "store.unavailable",
    true,
  ],
  [
    "text the store cannot keep (a NUL on PostgreSQL)",
    new StoreDataError("Chat store: PostgreSQL refused a value", {
      kind: "text",
      engineCode: "22021",
    }),
    400,
    "BAD_REQUEST",
    "store.invalid_text",
    false,
  ],
  [
    "any other refused value (a bug)",
    new StoreDataError("Chat store: PostgreSQL refused a value", {
      kind: "other",
      engineCode: "22003",
    }),
    500,
    "INTERNAL",
    "internal.bug",
    false,
  ],
];

for (const [what, error, status, code, reason, counted] of ROWS) {
  Deno.test(`failureReply() answers ${what} with ${status} ${code}${counted ? ", counted as a store failure" : ", not counted as a store failure"}`, async () => {
    const metrics = new Metrics();
    const originalError = console.error;
    console.error = () => {}; // A 500 prints its cause; not this test's subject.
    let reply: Response;
    try {
      reply = failureReply(exchange(), error, { metrics });
    } finally {
      console.error = originalError;
    }
    assert.equal(reply.status, status);
    const body = await reply.json();
    assert.equal(body.error.code, code);
    assert.equal(body.error.reason, reason);
    assert.equal(
      /parley_store_errors_total\{action="closed"\} 1/.test(metrics.render()),
      counted,
    );
  });
}
