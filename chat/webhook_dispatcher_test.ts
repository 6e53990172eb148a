import assert from "node:assert/strict";
import type { OutboxItem } from "../store/outbox_store.ts";
import { testEachEngine, type TestStore } from "../tests/store_engines.ts";
import {
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  verifyWebhookSignature,
} from "./webhook.ts";
import {
  WebhookDispatcher,
  type WebhookDispatcherOptions,
  type WebhookOutcome,
} from "./webhook_dispatcher.ts";

const SECRET = "whsec_0123456789abcdef0123456789abcdef";

interface Received {
  body: string;
  signature: string | null;
  delivery: string | null;
  attempt: string | null;
}

/** A real HTTP receiver on 127.0.0.1; `reply` picks the status per request. */
function startReceiver(
  reply: (count: number) => number | Promise<number>,
): { url: string; received: Received[] } & AsyncDisposable {
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

function delivery(id: string, text = "Where is my order?"): OutboxItem {
  return {
    organizationId: "acme",
    id,
    kind: "message.created",
    body: JSON.stringify({
      id,
      type: "message.created",
      organizationId: "acme",
      conversationId: "conv-1",
      message: {
        id: "m1",
        text,
        author: "visitor",
        at: "2026-01-15T12:00:00.000Z",
      },
    }),
    dueAt: 0,
    attempts: 0,
  };
}

/** Collects outcomes; `final` resolves at the `finals`-th final outcome. */
function outcomeLog(finals = 1): {
  outcomes: WebhookOutcome[];
  onOutcome: (outcome: WebhookOutcome) => void;
  final: Promise<WebhookOutcome>;
} {
  const outcomes: WebhookOutcome[] = [];
  const { promise, resolve } = Promise.withResolvers<WebhookOutcome>();
  let seen = 0;
  return {
    outcomes,
    final: promise,
    onOutcome(outcome) {
      outcomes.push(outcome);
      if (outcome.final && ++seen === finals) resolve(outcome);
    },
  };
}

/**
 * A dispatcher on `store` aimed at `url`, running until disposed. The test
 * receivers listen on 127.0.0.1, which webhooks reach only because the
 * operator allows it (`server.allowWebhookHosts`), as in local development.
 */
function dispatcherOn(
  store: TestStore,
  url: string | undefined,
  options: Partial<WebhookDispatcherOptions> = {},
): WebhookDispatcher & AsyncDisposable {
  const dispatcher = new WebhookDispatcher(store.outbox, {
    target: () => url === undefined ? undefined : { url, secret: SECRET },
    pollMs: 20,
    baseDelayMs: 10,
    allowHosts: () => ["127.0.0.1"],
    ...options,
  });
  dispatcher.start();
  return Object.assign(dispatcher, {
    [Symbol.asyncDispose]: () => dispatcher.close(),
  });
}

testEachEngine(
  "WebhookDispatcher delivers a correctly signed payload once and empties the outbox",
  async (engine) => {
    await using store = await engine.open();
    await using receiver = startReceiver(() => 204);
    const log = outcomeLog();
    await store.outbox.enqueue([delivery("conv-1.m1")]);
    await using _dispatcher = dispatcherOn(store, receiver.url, {
      onOutcome: log.onOutcome,
    });
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
    assert.equal(request.delivery, "conv-1.m1");
    assert.equal(JSON.parse(request.body).type, "message.created");
    assert.doesNotMatch(request.body, new RegExp(SECRET));
    assert.equal(await store.outbox.size(), 0);
  },
);

testEachEngine(
  "WebhookDispatcher retries a failing receiver and delivers on the third attempt",
  async (engine) => {
    await using store = await engine.open();
    await using receiver = startReceiver((count) => count <= 2 ? 500 : 200);
    const log = outcomeLog();
    await store.outbox.enqueue([delivery("conv-1.m2", "Hi")]);
    await using _dispatcher = dispatcherOn(store, receiver.url, {
      onOutcome: log.onOutcome,
    });
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
    assert.equal(await store.outbox.size(), 0);
  },
);

testEachEngine(
  "WebhookDispatcher gives up after maxAttempts and removes the delivery",
  async (engine) => {
    await using store = await engine.open();
    await using receiver = startReceiver(() => 503);
    const log = outcomeLog();
    await store.outbox.enqueue([delivery("conv-1.m3")]);
    await using _dispatcher = dispatcherOn(store, receiver.url, {
      maxAttempts: 3,
      onOutcome: log.onOutcome,
    });
    const final = await log.final;
    assert.equal(final.ok, false);
    assert.equal(final.attempt, 3);
    assert.equal(receiver.received.length, 3);
    assert.equal(await store.outbox.size(), 0);
  },
);

testEachEngine(
  "WebhookDispatcher times out a hanging receiver and tries again",
  async (engine) => {
    await using store = await engine.open();
    const { promise: hanging, resolve: release } = Promise.withResolvers<
      number
    >();
    await using receiver = startReceiver(() => hanging);
    const log = outcomeLog();
    await store.outbox.enqueue([delivery("conv-1.m4")]);
    try {
      await using _dispatcher = dispatcherOn(store, receiver.url, {
        maxAttempts: 2,
        timeoutMs: 100,
        onOutcome: log.onOutcome,
      });
      const final = await log.final;
      assert.equal(final.ok, false);
      assert.equal(final.error, "timeout");
      assert.equal(final.attempt, 2);
    } finally {
      release(200);
    }
  },
);

testEachEngine(
  "WebhookDispatcher retries an unreachable receiver",
  async (engine) => {
    await using store = await engine.open();
    const receiver = startReceiver(() => 200);
    const url = receiver.url;
    await receiver[Symbol.asyncDispose](); // nothing listens on the port now
    const log = outcomeLog();
    await store.outbox.enqueue([delivery("conv-1.m5")]);
    await using _dispatcher = dispatcherOn(store, url, {
      maxAttempts: 2,
      onOutcome: log.onOutcome,
    });
    const final = await log.final;
    assert.equal(final.ok, false);
    assert.equal(log.outcomes.length, 2);
    assert.ok(final.error);
  },
);

testEachEngine(
  "WebhookDispatcher drops a delivery whose organization has no webhook any more",
  async (engine) => {
    await using store = await engine.open();
    const log = outcomeLog();
    await store.outbox.enqueue([delivery("conv-1.m6")]);
    await using _dispatcher = dispatcherOn(store, undefined, {
      onOutcome: log.onOutcome,
    });
    const final = await log.final;
    assert.equal(final.error, "no-webhook");
    assert.equal(await store.outbox.size(), 0);
  },
);

testEachEngine(
  "a delivery cut short by close() stays in the outbox and another host makes it once its lease lapses",
  async (engine) => {
    await using store = await engine.open();
    await using other = await engine.open(store.location);
    const { promise: hanging, resolve: release } = Promise.withResolvers<
      number
    >();
    const arrived = Promise.withResolvers<void>();
    await using receiver = startReceiver((count) => {
      arrived.resolve();
      return count === 1 ? hanging : 200;
    });
    await store.outbox.enqueue([delivery("conv-1.m7")]);
    const first = dispatcherOn(store, receiver.url, { leaseMs: 300 });
    await arrived.promise;
    await first.close(); // this host stops mid-attempt
    release(200);
    assert.equal(await store.outbox.size(), 1, "nothing was lost");
    const log = outcomeLog();
    await using _second = dispatcherOn(other, receiver.url, {
      leaseMs: 300,
      onOutcome: log.onOutcome,
    });
    const final = await log.final;
    assert.equal(final.ok, true);
    assert.equal(receiver.received.length, 2);
    assert.equal(await store.outbox.size(), 0);
  },
);

testEachEngine(
  "two hosts' dispatchers on one outbox make each delivery once",
  async (engine) => {
    await using store = await engine.open();
    await using other = await engine.open(store.location);
    await using receiver = startReceiver(() => 200);
    const log = outcomeLog(20);
    await store.outbox.enqueue(
      Array.from({ length: 20 }, (_, i) => delivery(`conv-1.n${i}`)),
    );
    await using _first = dispatcherOn(store, receiver.url, {
      onOutcome: log.onOutcome,
    });
    await using _second = dispatcherOn(other, receiver.url, {
      onOutcome: log.onOutcome,
    });
    await log.final;
    const deliveries = receiver.received.map((request) => request.delivery);
    assert.equal(deliveries.length, 20);
    assert.equal(new Set(deliveries).size, 20);
  },
);

/** A receiver name that the tests' resolvers answer for. */
const RECEIVER_NAME = "hooks.parley.test";

const RESOLVED_PRIVATE: [string, string[], string][] = [
  ["loopback", ["127.0.0.1"], "loopback"],
  ["a private network address", ["10.0.0.5"], "private"],
  ["the metadata service", ["169.254.169.254"], "metadata"],
  ["IPv6 loopback", ["::1"], "loopback"],
  ["loopback mapped into IPv6", ["::ffff:127.0.0.1"], "loopback"],
  ["a public and a private address", ["93.184.215.14", "10.0.0.5"], "private"],
];

for (const [what, addresses, kind] of RESOLVED_PRIVATE) {
  testEachEngine(
    `WebhookDispatcher refuses a public name that resolves to ${what}, records it, and does not retry`,
    async (engine) => {
      await using store = await engine.open();
      await using receiver = startReceiver(() => 200);
      const port = new URL(receiver.url).port;
      const log = outcomeLog();
      await store.outbox.enqueue([delivery("conv-1.r1")]);
      await using _dispatcher = dispatcherOn(
        store,
        `https://${RECEIVER_NAME}:${port}/hooks/parley`,
        {
          allowHosts: () => [],
          resolve: () => Promise.resolve(addresses),
          onOutcome: log.onOutcome,
        },
      );
      const final = await log.final;
      assert.deepEqual(
        log.outcomes.map(({ attempt, ok, final, error, addressKind }) => ({
          attempt,
          ok,
          final,
          error,
          addressKind,
        })),
        [{
          attempt: 1,
          ok: false,
          final: true,
          error: "private-address",
          addressKind: kind,
        }],
      );
      assert.equal(final.status, undefined);
      assert.equal(receiver.received.length, 0, "no connection was made");
      assert.equal(await store.outbox.size(), 0);
    },
  );
}

testEachEngine(
  "WebhookDispatcher resolves the name again at every attempt, so an answer that turns private is refused",
  async (engine) => {
    await using store = await engine.open();
    const asked: string[] = [];
    const log = outcomeLog();
    await store.outbox.enqueue([delivery("conv-1.r2")]);
    await using _dispatcher = dispatcherOn(
      store,
      `https://${RECEIVER_NAME}/hooks/parley`,
      {
        allowHosts: () => [],
        // The first lookup fails (retried, as any network error); the
        // second answers with an address that is not public.
        resolve: (host) => {
          asked.push(host);
          return asked.length === 1
            ? Promise.reject(new Error(`getaddrinfo ENOTFOUND ${host}`))
            : Promise.resolve(["127.0.0.1"]);
        },
        onOutcome: log.onOutcome,
      },
    );
    const final = await log.final;
    assert.deepEqual(asked, [RECEIVER_NAME, RECEIVER_NAME]);
    assert.equal(log.outcomes[0]?.final, false, "a failed lookup is retried");
    assert.equal(final.attempt, 2);
    assert.equal(final.error, "private-address");
    assert.equal(await store.outbox.size(), 0);
  },
);

testEachEngine(
  "WebhookDispatcher refuses, at delivery, a URL the policy's allowWebhookHosts no longer lets through",
  async (engine) => {
    await using store = await engine.open();
    await using receiver = startReceiver(() => 200);
    const log = outcomeLog();
    await store.outbox.enqueue([delivery("conv-1.r3")]);
    await using _dispatcher = dispatcherOn(store, receiver.url, {
      allowHosts: () => [],
      onOutcome: log.onOutcome,
    });
    const final = await log.final;
    assert.equal(final.error, "private-address");
    assert.equal(final.addressKind, "loopback");
    assert.equal(receiver.received.length, 0);
  },
);

const TLS = new URL("./testdata/webhook_tls/", import.meta.url);

testEachEngine(
  "WebhookDispatcher delivers over TLS to the address it resolved, checking the certificate against the URL's name",
  async (engine) => {
    await using store = await engine.open();
    const received: string[] = [];
    const server = Deno.serve({
      port: 0,
      hostname: "127.0.0.1",
      onListen() {},
      cert: await Deno.readTextFile(new URL("cert.pem", TLS)),
      key: await Deno.readTextFile(new URL("key.pem", TLS)),
    }, async (request) => {
      received.push(
        `${request.headers.get("host")} ${await verifyWebhookSignature(
          SECRET,
          request.headers.get(SIGNATURE_HEADER),
          await request.text(),
        )}`,
      );
      return new Response(null, { status: 204 });
    });
    try {
      const log = outcomeLog();
      await store.outbox.enqueue([delivery("conv-1.t1")]);
      await using _dispatcher = dispatcherOn(
        store,
        `https://${RECEIVER_NAME}:${server.addr.port}/hooks/parley`,
        {
          // The test CA's certificate is for a name only the tests resolve,
          // to loopback: the operator allows that name, as in development.
          allowHosts: () => [RECEIVER_NAME],
          resolve: () => Promise.resolve(["127.0.0.1"]),
          caCerts: [await Deno.readTextFile(new URL("ca.pem", TLS))],
          onOutcome: log.onOutcome,
        },
      );
      const final = await log.final;
      assert.equal(final.ok, true, final.error);
      assert.deepEqual(received, [`${RECEIVER_NAME}:${server.addr.port} true`]);
    } finally {
      await server.shutdown();
    }
  },
);

testEachEngine(
  "a hanging receiver delays only its own organization: another's webhook arrives within one attempt timeout while 200 wait",
  async (engine) => {
    await using store = await engine.open();
    const hanging = Promise.withResolvers<number>();
    let hangingNow = 0;
    let mostHangingAtOnce = 0;
    await using beta = startReceiver(() => {
      hangingNow++;
      mostHangingAtOnce = Math.max(mostHangingAtOnce, hangingNow);
      return hanging.promise;
    });
    const acmeArrived = Promise.withResolvers<number>();
    await using acme = startReceiver(() => {
      acmeArrived.resolve(performance.now());
      return 204;
    });
    const queued: OutboxItem[] = Array.from({ length: 200 }, (_, index) => ({
      ...delivery(`conv-b.m${index}`),
      organizationId: "beta",
      dueAt: index,
    }));
    await store.outbox.enqueue(queued);
    const timeoutMs = 5_000;
    try {
      await using _dispatcher = dispatcherOn(store, undefined, {
        target: (organizationId) => ({
          url: organizationId === "beta" ? beta.url : acme.url,
          secret: SECRET,
        }),
        timeoutMs,
        pollMs: 1_000,
      });
      // Beta's receiver now holds its organization's slots.
      while (beta.received.length < 4) await delay(10);
      const sent = performance.now();
      await store.outbox.enqueue([{ ...delivery("conv-a.m1"), dueAt: 1_000 }]);
      const arrived = await Promise.race([
        acmeArrived.promise,
        delay(timeoutMs).then(() => Infinity),
      ]);
      const latency = arrived - sent;
      console.log(
        `acme's webhook beside a hanging beta: ${latency.toFixed(0)} ms`,
      );
      assert.ok(latency < timeoutMs, `acme waited ${latency} ms`);
      assert.equal(acme.received.length, 1);
      assert.ok(mostHangingAtOnce <= 4, `${mostHangingAtOnce} beta at once`);
      assert.ok(await store.outbox.size() > 190, "beta's backlog waits");
    } finally {
      hanging.resolve(200);
    }
  },
);

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
