import assert from "node:assert/strict";
import { ERROR_STATUS, type ErrorCode } from "../wire/mod.ts";
import {
  networkError,
  WidgetError,
  widgetErrorFromWire,
} from "./widget_error.ts";

for (const code of Object.keys(ERROR_STATUS) as ErrorCode[]) {
  Deno.test(`widgetErrorFromWire() keeps the wire code ${code}`, () => {
    const error = widgetErrorFromWire(
      { code, message: "x" },
      ERROR_STATUS[code],
    );
    assert.ok(error instanceof Error);
    assert.ok(error instanceof WidgetError);
    assert.equal(error.code, code);
  });
}

Deno.test("widgetErrorFromWire() carries retryAfter and reason", () => {
  const limited = widgetErrorFromWire({
    code: "RATE_LIMITED",
    message: "x",
    retryAfter: 12,
  }, 429);
  assert.equal(limited.retryAfter, 12);
  const expired = widgetErrorFromWire({
    code: "JWT_INVALID",
    message: "x",
    reason: "jwt.expired",
  }, 401);
  assert.equal(expired.reason, "jwt.expired");
  assert.equal(expired.retryAfter, undefined);
});

const oddReplies: {
  name: string;
  error: unknown;
  status: number;
  code: ErrorCode;
}[] = [
  {
    name: "an unknown code from a newer server",
    error: { code: "NEW_THING" },
    status: 400,
    code: "INTERNAL",
  },
  {
    name: "a missing error object on 429",
    error: undefined,
    status: 429,
    code: "RATE_LIMITED",
  },
  {
    name: "a missing error object on 502",
    error: undefined,
    status: 502,
    code: "UNAVAILABLE",
  },
  {
    name: "an inherited property name as code",
    error: { code: "toString" },
    status: 400,
    code: "INTERNAL",
  },
];
for (const row of oddReplies) {
  Deno.test(`widgetErrorFromWire() maps ${row.name} to ${row.code}`, () => {
    const error = widgetErrorFromWire(row.error, row.status);
    assert.equal(error.code, row.code);
    assert.equal(typeof error.message, "string");
  });
}

Deno.test("widgetErrorFromWire() ignores a negative or non-numeric retryAfter", () => {
  assert.equal(
    widgetErrorFromWire({ code: "RATE_LIMITED", retryAfter: -1 }, 429)
      .retryAfter,
    undefined,
  );
  assert.equal(
    widgetErrorFromWire({ code: "RATE_LIMITED", retryAfter: "9" }, 429)
      .retryAfter,
    undefined,
  );
});

Deno.test("networkError() is UNAVAILABLE with reason network", () => {
  const error = networkError("offline");
  assert.equal(error.code, "UNAVAILABLE");
  assert.equal(error.reason, "network");
});
