import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import type { ChatMessage } from "../rpc/wire.ts";
import {
  DELIVERY_HEADER,
  type MessageCreatedEvent,
  SIGNATURE_HEADER,
  signWebhook,
  verifyWebhookSignature,
  WebhookDispatcher,
  type WebhookOutcome,
} from "./webhook.ts";

const SECRET = "whsec_0123456789abcdef0123456789abcdef";

interface Received {
  body: string;
  signature: string | null;
  delivery: string | null;
  attempt: string | null;
}

interface Receiver {
  url: string;
  received: Received[];
  [Symbol.asyncDispose](): Promise<void>;
}

/** A real HTTP receiver on 127.0.0.1; `reply` picks the status per request. */
function startReceiver(
  reply: (count: number) => number | Promise<number>,
): Receiver {
  const received: Received[] = [];
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    async (request) => {
      received.push({
        body: await request.text(),
        signature: request.headers.get(SIGNATURE_HEADER),
        delivery: request.headers.get(DELIVERY_HEADER),
        attempt: request.headers.get("Parley-Attempt"),
      });
      return new Response(null, { status: await reply(received.length) });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/hooks/parley`,
    received,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

function messageEvent(text: string): MessageCreatedEvent {
  const message: ChatMessage = {
    id: "019400000000000000a1b2c3",
    text,
    author: "visitor",
    at: "2026-01-15T12:00:00.000Z",
  };
  return {
    type: "message.created",
    organizationId: "acme",
    conversationId: "conv-1",
    message,
  };
}

/** Collects outcomes; `final()` resolves at the first final outcome. */
function outcomeLog(): {
  outcomes: WebhookOutcome[];
  onOutcome: (outcome: WebhookOutcome) => void;
  final: Promise<WebhookOutcome>;
} {
  const outcomes: WebhookOutcome[] = [];
  let resolveFinal: (outcome: WebhookOutcome) => void = () => {};
  const final = new Promise<WebhookOutcome>((resolve) => {
    resolveFinal = resolve;
  });
  return {
    outcomes,
    final,
    onOutcome(outcome) {
      outcomes.push(outcome);
      if (outcome.final) resolveFinal(outcome);
    },
  };
}

Deno.test("signWebhook() signs t.body with HMAC-SHA256, Stripe-style", async () => {
  const body = '{"hello":"world"}';
  const expected = createHmac("sha256", SECRET)
    .update(`1767225600.${body}`)
    .digest("hex");
  assert.equal(
    await signWebhook(SECRET, body, 1_767_225_600),
    `t=1767225600,v1=${expected}`,
  );
});

Deno.test("verifyWebhookSignature() accepts an authentic, fresh request", async () => {
  const body = '{"id":"x"}';
  const now = 1_767_225_600_000;
  const header = await signWebhook(SECRET, body, now / 1000);
  assert.equal(
    await verifyWebhookSignature(SECRET, header, body, { now }),
    true,
  );
  // During a secret rotation a sender may add a second v1 entry.
  const other = await signWebhook(
    "another-secret-of-enough-length!!",
    body,
    now / 1000,
  );
  const rotated = `${header},v1=${other.split("v1=")[1]}`;
  assert.equal(
    await verifyWebhookSignature(SECRET, rotated, body, { now }),
    true,
  );
});

const forgeries: [string, (header: string) => string, string, number][] = [
  ["a tampered body", (header) => header, '{"id":"y"}', 0],
  ["a wrong secret", () => "", '{"id":"x"}', 0],
  ["a replay outside the tolerance", (header) => header, '{"id":"x"}', 301],
  ["a timestamp from the future", (header) => header, '{"id":"x"}', -301],
  ["a missing v1", (header) => header.split(",")[0] ?? "", '{"id":"x"}', 0],
  ["a malformed header", () => "garbage", '{"id":"x"}', 0],
  [
    "a moved timestamp",
    (header) => header.replace(/t=\d+/, "t=1767225601"),
    '{"id":"x"}',
    0,
  ],
];
for (const [attack, forge, body, skewSec] of forgeries) {
  Deno.test(`verifyWebhookSignature() rejects ${attack}`, async () => {
    const now = 1_767_225_600_000;
    const genuine = await signWebhook(SECRET, '{"id":"x"}', now / 1000);
    const header = attack === "a wrong secret"
      ? await signWebhook(
        "not-the-secret-but-just-as-long!!!",
        body,
        now / 1000,
      )
      : forge(genuine);
    assert.equal(
      await verifyWebhookSignature(SECRET, header, body, {
        now: now + skewSec * 1000,
      }),
      false,
    );
  });
}

Deno.test("verifyWebhookSignature() rejects a missing header", async () => {
  assert.equal(await verifyWebhookSignature(SECRET, null, "{}"), false);
});

Deno.test("WebhookDispatcher delivers a correctly signed payload", async () => {
  await using receiver = startReceiver(() => 204);
  const log = outcomeLog();
  const dispatcher = new WebhookDispatcher({ onOutcome: log.onOutcome });
  try {
    dispatcher.deliver(
      { url: receiver.url, secret: SECRET },
      messageEvent("Where is my order?"),
    );
    const outcome = await log.final;
    assert.equal(outcome.ok, true);
    assert.equal(outcome.status, 204);
    assert.equal(receiver.received.length, 1);
    const [request] = receiver.received;
    assert.ok(request);
    assert.equal(
      await verifyWebhookSignature(SECRET, request.signature, request.body),
      true,
    );
    assert.equal(request.delivery, "conv-1.019400000000000000a1b2c3");
    assert.deepEqual(JSON.parse(request.body), {
      id: "conv-1.019400000000000000a1b2c3",
      type: "message.created",
      organizationId: "acme",
      conversationId: "conv-1",
      message: messageEvent("Where is my order?").message,
    });
    assert.doesNotMatch(request.body, new RegExp(SECRET));
  } finally {
    await dispatcher.close();
  }
});

Deno.test("WebhookDispatcher retries a failing receiver and delivers on the third attempt", async () => {
  await using receiver = startReceiver((count) => count <= 2 ? 500 : 200);
  const log = outcomeLog();
  const dispatcher = new WebhookDispatcher({
    baseDelayMs: 10,
    onOutcome: log.onOutcome,
  });
  try {
    dispatcher.deliver(
      { url: receiver.url, secret: SECRET },
      messageEvent("Hi"),
    );
    const final = await log.final;
    assert.equal(final.ok, true);
    assert.deepEqual(
      log.outcomes.map((outcome) => [outcome.attempt, outcome.status]),
      [[1, 500], [2, 500], [3, 200]],
    );
    assert.deepEqual(
      receiver.received.map((request) => request.attempt),
      ["1", "2", "3"],
    );
    assert.equal(new Set(receiver.received.map((r) => r.delivery)).size, 1);
    for (const request of receiver.received) {
      assert.equal(
        await verifyWebhookSignature(SECRET, request.signature, request.body),
        true,
      );
    }
  } finally {
    await dispatcher.close();
  }
});

Deno.test("WebhookDispatcher gives up after maxAttempts", async () => {
  await using receiver = startReceiver(() => 503);
  const log = outcomeLog();
  const dispatcher = new WebhookDispatcher({
    maxAttempts: 3,
    baseDelayMs: 5,
    onOutcome: log.onOutcome,
  });
  try {
    dispatcher.deliver(
      { url: receiver.url, secret: SECRET },
      messageEvent("Hi"),
    );
    const final = await log.final;
    assert.equal(final.ok, false);
    assert.equal(final.attempt, 3);
    assert.equal(receiver.received.length, 3);
    // The delivery leaves the pending set once its last report has returned.
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(dispatcher.pending, 0);
  } finally {
    await dispatcher.close();
  }
});

Deno.test("WebhookDispatcher never lets a hanging receiver block deliver()", async () => {
  let release: () => void = () => {};
  const hanging = new Promise<number>((resolve) => {
    release = () => resolve(200);
  });
  await using receiver = startReceiver(() => hanging);
  const log = outcomeLog();
  const dispatcher = new WebhookDispatcher({
    maxAttempts: 2,
    baseDelayMs: 5,
    timeoutMs: 100,
    onOutcome: log.onOutcome,
  });
  try {
    const started = performance.now();
    for (let index = 0; index < 20; index++) {
      dispatcher.deliver(
        { url: receiver.url, secret: SECRET },
        messageEvent(`message ${index}`),
      );
    }
    assert.ok(performance.now() - started < 50);
    assert.equal(dispatcher.pending, 20);
    const final = await log.final;
    assert.equal(final.ok, false);
    assert.equal(final.error, "timeout");
    assert.equal(final.attempt, 2);
  } finally {
    await dispatcher.close();
    release();
  }
});

Deno.test("WebhookDispatcher retries an unreachable receiver", async () => {
  const receiver = startReceiver(() => 200);
  const url = receiver.url;
  await receiver[Symbol.asyncDispose](); // nothing listens on the port now
  const log = outcomeLog();
  const dispatcher = new WebhookDispatcher({
    maxAttempts: 2,
    baseDelayMs: 5,
    onOutcome: log.onOutcome,
  });
  try {
    dispatcher.deliver({ url, secret: SECRET }, messageEvent("Hi"));
    const final = await log.final;
    assert.equal(final.ok, false);
    assert.equal(log.outcomes.length, 2);
    assert.ok(final.error);
  } finally {
    await dispatcher.close();
  }
});

Deno.test("WebhookDispatcher.close() cancels pending retries and leaves no timers", async () => {
  await using receiver = startReceiver(() => 500);
  const log = outcomeLog();
  const first = Promise.withResolvers<void>();
  const dispatcher = new WebhookDispatcher({
    baseDelayMs: 60_000,
    onOutcome(outcome) {
      log.onOutcome(outcome);
      first.resolve();
    },
  });
  dispatcher.deliver({ url: receiver.url, secret: SECRET }, messageEvent("Hi"));
  await first.promise;
  assert.equal(dispatcher.pending, 1);
  const started = performance.now();
  await dispatcher.close();
  assert.ok(performance.now() - started < 1_000);
  assert.equal(dispatcher.pending, 0);
  assert.equal(receiver.received.length, 1);
  dispatcher.deliver(
    { url: receiver.url, secret: SECRET },
    messageEvent("Late"),
  );
  assert.equal(dispatcher.pending, 0);
});

Deno.test("WebhookDispatcher reports a full queue instead of growing without bound", async () => {
  let release: () => void = () => {};
  const hanging = new Promise<number>((resolve) => {
    release = () => resolve(200);
  });
  await using receiver = startReceiver(() => hanging);
  const log = outcomeLog();
  const dispatcher = new WebhookDispatcher({
    maxPending: 2,
    onOutcome: log.onOutcome,
  });
  try {
    for (let index = 0; index < 3; index++) {
      dispatcher.deliver(
        { url: receiver.url, secret: SECRET },
        messageEvent(`m${index}`),
      );
    }
    const final = await log.final;
    assert.equal(final.error, "queue-full");
    assert.equal(dispatcher.pending, 2);
  } finally {
    await dispatcher.close();
    release();
  }
});
