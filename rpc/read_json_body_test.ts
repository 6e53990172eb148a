import assert from "node:assert/strict";
import { readJsonBody } from "./read_json_body.ts";
import { RpcError } from "./rpc_error.ts";

function post(body: BodyInit, contentType = "application/json"): Request {
  return new Request("http://parley.test/rpc/chat.getConfig", {
    method: "POST",
    headers: { "Content-Type": contentType },
    body,
  });
}

function streamOf(text: string, chunkSize: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset += chunkSize));
    },
  });
}

/**
 * Half of a JSON body, then the error Deno's HTTP server fails the read with;
 * with `declared`, sent with a `Content-Length` (read by `arrayBuffer()`).
 */
function cutShort(error: Error, declared = false): Request {
  const half = new TextEncoder().encode('{"organizationId":');
  let sent = false;
  return new Request("http://parley.test/rpc/chat.getConfig", {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      ...(declared ? { "Content-Length": String(2 * half.length) } : {}),
    },
    body: new ReadableStream({
      pull(controller) {
        if (sent) return controller.error(error);
        sent = true;
        controller.enqueue(half);
      },
    }),
  });
}

const closedMidBody = () =>
  new Deno.errors.BadResource(
    "Cannot read request body as underlying resource unavailable",
  );
const resetMidBody = () =>
  new Deno.errors.Http("unexpected EOF while reading HTTP/1 body");

const refusals: {
  name: string;
  request: () => Request;
  code: string;
  reason: string;
}[] = [
  {
    name: "a form body",
    request: () => post("a=1", "application/x-www-form-urlencoded"),
    code: "UNSUPPORTED_MEDIA_TYPE",
    reason: "body.content_type",
  },
  {
    name: "no content type",
    request: () => post("{}", ""),
    code: "UNSUPPORTED_MEDIA_TYPE",
    reason: "body.content_type",
  },
  {
    name: "a declared length over the limit",
    request: () => post("x".repeat(2000)),
    code: "PAYLOAD_TOO_LARGE",
    reason: "body.too_large",
  },
  {
    name: "a streamed body over the limit",
    request: () => post(streamOf(`{"a":"${"x".repeat(5000)}"}`, 100)),
    code: "PAYLOAD_TOO_LARGE",
    reason: "body.too_large",
  },
  {
    name: "malformed JSON",
    request: () => post("{"),
    code: "BAD_REQUEST",
    reason: "body.malformed_json",
  },
  {
    name: "an empty body",
    request: () => post(""),
    code: "BAD_REQUEST",
    reason: "body.malformed_json",
  },
  {
    name: "an array",
    request: () => post("[]"),
    code: "BAD_REQUEST",
    reason: "body.not_object",
  },
  {
    name: "null",
    request: () => post("null"),
    code: "BAD_REQUEST",
    reason: "body.not_object",
  },
  {
    name: "deep nesting",
    request: () => post(`{"a":${"[".repeat(40)}${"]".repeat(40)}}`),
    code: "BAD_REQUEST",
    reason: "body.too_deep",
  },
  {
    name: "invalid UTF-8",
    request: () => post(new Uint8Array([0x7b, 0xff, 0x7d])),
    code: "BAD_REQUEST",
    reason: "body.encoding",
  },
  {
    name: "a streamed body whose client closed the connection mid-body",
    request: () => cutShort(closedMidBody()),
    code: "BAD_REQUEST",
    reason: "body.aborted",
  },
  {
    // arrayBuffer() words the same BadResource as "Cannot read body as …".
    name: "a declared body whose client closed the connection mid-body",
    request: () => cutShort(closedMidBody(), true),
    code: "BAD_REQUEST",
    reason: "body.aborted",
  },
  {
    name: "a streamed body whose client reset the connection mid-body",
    request: () => cutShort(resetMidBody()),
    code: "BAD_REQUEST",
    reason: "body.aborted",
  },
  {
    name: "a declared body whose client reset the connection mid-body",
    request: () => cutShort(resetMidBody(), true),
    code: "BAD_REQUEST",
    reason: "body.aborted",
  },
];

for (const row of refusals) {
  Deno.test(`readJsonBody() refuses ${row.name}`, async () => {
    await assert.rejects(
      readJsonBody(row.request(), 1024),
      (error: unknown) => {
        assert.ok(error instanceof RpcError);
        assert.equal(error.code, row.code);
        assert.equal(error.reason, row.reason);
        return true;
      },
    );
  });
}

Deno.test("readJsonBody() reads an object, declared or streamed", async () => {
  assert.deepEqual(
    await readJsonBody(post('{"organizationId":"acme"}'), 1024),
    { organizationId: "acme" },
  );
  const streamed = await readJsonBody(
    post(streamOf('{"organizationId":"acme","n":[1,2]}', 3)),
    1024,
  );
  assert.deepEqual(streamed, { organizationId: "acme", n: [1, 2] });
  const charset = await readJsonBody(
    post('{"a":"é"}', "application/json; charset=utf-8"),
    1024,
  );
  assert.deepEqual(charset, { a: "é" });
});

Deno.test("readJsonBody() ignores brackets inside strings when measuring depth", async () => {
  const body = JSON.stringify({ text: "[".repeat(100) });
  assert.deepEqual(await readJsonBody(post(body), 1024), {
    text: "[".repeat(100),
  });
});

const otherFailures: { name: string; error: () => Error }[] = [
  { name: "a TypeError", error: () => new TypeError("Body already consumed") },
  {
    name: "a BadResource with another message",
    error: () => new Deno.errors.BadResource("Bad resource ID"),
  },
  {
    name: "an Http error with another message",
    error: () => new Deno.errors.Http("invalid HTTP/1 request: Invalid"),
  },
];

for (const row of otherFailures) {
  Deno.test(`readJsonBody() passes on ${row.name} from a body read (a bug, not body.aborted)`, async () => {
    const error = row.error();
    await assert.rejects(
      readJsonBody(cutShort(error), 1024),
      (thrown: unknown) => thrown === error,
    );
  });
}
