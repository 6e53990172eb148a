/**
 * The chat behind the widget, against the real server: identity that cannot
 * be spoofed, the agent side, live streams with resume, signed webhooks, and
 * clear errors for bad input at every method.
 */

import assert from "node:assert/strict";
import { verifyWebhookSignature } from "../chat/webhook.ts";
import { signWithJsonwebtoken } from "./jsonwebtoken_minter.ts";
import { type ServerProcess, startServer } from "./server_process.ts";
import { EventLog } from "./sse_events.ts";
import { serverStore, testEachEngine } from "./store_engines.ts";
import { acmeClaims, ORIGINS, SECRETS, testPolicy } from "./test_policy.ts";

const origin = ORIGINS.acme;
const admin = { token: SECRETS.ACME_ADMIN_KEY };

function userToken(sub: string): string {
  return signWithJsonwebtoken(
    acmeClaims({ sub, user_data: { name: "Ada" } }),
    SECRETS.ACME_JWT_SECRET,
  );
}

async function boot(
  server: ServerProcess,
  body: Record<string, unknown> = {},
  token?: string,
) {
  const reply = await server.rpc("chat.boot", {
    organizationId: "acme",
    ...body,
  }, {
    origin,
    ...(token === undefined ? {} : { token }),
  });
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body.data;
}

/** Opens `chat.stream` for a session, from the shop's origin. */
function openStream(
  server: ServerProcess,
  session: string,
  options: { lastEventId?: string; signal: AbortSignal },
): Promise<Response> {
  return fetch(`${server.baseUrl}/rpc/chat.stream`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Origin: origin,
      Authorization: `Bearer ${session}`,
      ...(options.lastEventId === undefined
        ? {}
        : { "Last-Event-ID": options.lastEventId }),
    },
    body: "{}",
    signal: options.signal,
  });
}

/** Sends a visitor message; the first one creates the conversation. */
async function send(server: ServerProcess, session: string, text: string) {
  const reply = await server.rpc("chat.sendMessage", { text }, {
    origin,
    token: session,
  });
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body.data as {
    message: { id: string; text: string };
    conversationId: string;
  };
}

testEachEngine(
  "identity: a verified user keeps their history, an unverified claim unlocks nothing",
  async (engine, t) => {
    await using server = await startServer({
      ...await serverStore(engine),
      policy: testPolicy(),
      env: SECRETS,
    });
    const laptop = await boot(server, {}, userToken("user_123"));
    const { conversationId } = await send(
      server,
      laptop.session.token,
      "My order is late",
    );

    await t.step(
      "the same user on another device with a fresh token sees the conversation",
      async () => {
        const phone = await boot(server, {}, userToken("user_123"));
        assert.equal(phone.conversation.id, conversationId);
        assert.deepEqual(
          phone.conversation.messages.map((m: { text: string }) => m.text),
          ["My order is late"],
        );
      },
    );

    await t.step(
      "an anonymous boot claiming the same user_id sees none of it",
      async () => {
        const impostor = await boot(server, {
          user_id: "user_123",
          email: "ada@example.com",
        });
        assert.equal(impostor.user.verified, false);
        assert.equal(impostor.conversation, null);
        const listed = await server.rpc("chat.listMessages", {}, {
          origin,
          token: impostor.session.token,
        });
        assert.deepEqual(listed.body.data.messages, []);
      },
    );

    await t.step(
      "a visitor id is the anonymous visitor's only key back",
      async () => {
        const first = await boot(server);
        const sent = await send(server, first.session.token, "hello");
        const again = await boot(server, { visitorId: first.visitorId });
        assert.equal(again.conversation.id, sent.conversationId);
        const forged = await boot(server, { visitorId: "not a server id!" });
        assert.notEqual(forged.visitorId, "not a server id!");
        assert.equal(forged.conversation, null);
      },
    );
  },
);

testEachEngine(
  "agents see an anonymous visitor by a reference, never the visitorId: stable on every host, and booting with it starts a new, empty conversation",
  async (engine) => {
    const location = await engine.location();
    await using server = await startServer({
      store: location,
      policy: testPolicy(),
      env: SECRETS,
    });
    const grace = await boot(server, { name: "Grace" });
    const credential: string = grace.visitorId;
    const { conversationId: graceConversation } = await send(
      server,
      grace.session.token,
      "My card ends in 4242",
    );
    const other = await boot(server);
    const { conversationId: otherConversation } = await send(
      server,
      other.session.token,
      "Hello",
    );

    const listed = await server.rpc("agent.listConversations", {
      organizationId: "acme",
    }, admin);
    assert.equal(listed.status, 200);
    const summary = listed.body.data.conversations.find((
      conversation: { id: string },
    ) => conversation.id === graceConversation);
    const reference: string = summary.visitor.id;
    assert.match(reference, /^v\.[A-Za-z0-9_-]{22}$/);
    assert.notEqual(
      listed.body.data.conversations.find((conversation: { id: string }) =>
        conversation.id === otherConversation
      ).visitor.id,
      reference,
      "two visitors, one reference",
    );
    const read = await server.rpc("agent.getConversation", {
      organizationId: "acme",
      conversationId: graceConversation,
    }, admin);
    assert.equal(read.body.data.conversation.visitor.id, reference);

    // The live stream's conversation events carry the reference too.
    const controller = new AbortController();
    const stream = new EventLog(
      await fetch(`${server.baseUrl}/rpc/agent.stream`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Authorization: `Bearer ${SECRETS.ACME_ADMIN_KEY}`,
        },
        body: JSON.stringify({ organizationId: "acme" }),
        signal: controller.signal,
      }),
    );
    try {
      const assigned = await server.rpc("agent.assign", {
        organizationId: "acme",
        conversationId: graceConversation,
        agentId: listed.body.data.agent.id,
      }, admin);
      assert.equal(assigned.body.data.conversation.visitor.id, reference);
      const event = await stream.next((event) =>
        event.event === "conversation" &&
        event.data.conversationId === graceConversation
      );
      assert.equal(event.data.conversation.visitor.id, reference);
    } finally {
      controller.abort();
      await stream.ended.catch(() => {});
    }
    for (
      const text of [listed, read].map((reply) => JSON.stringify(reply.body))
    ) {
      assert.ok(
        !text.includes(credential),
        "an agent reply carries the visitorId",
      );
    }
    assert.ok(
      !JSON.stringify(stream.events).includes(credential),
      "the agent stream carries the visitorId",
    );

    // Stable: the visitor back, and another host sharing the store.
    await boot(server, { visitorId: credential });
    await using second = await startServer({
      store: location,
      policy: testPolicy(),
      env: SECRETS,
    });
    const elsewhere = await second.rpc("agent.getConversation", {
      organizationId: "acme",
      conversationId: graceConversation,
    }, admin);
    assert.equal(elsewhere.body.data.conversation.visitor.id, reference);

    // Booting with what agents see reaches nothing of the visitor's.
    const impostor = await boot(server, { visitorId: reference });
    assert.notEqual(impostor.visitorId, reference);
    assert.notEqual(impostor.visitorId, credential);
    assert.equal(impostor.conversation, null);
    const history = await server.rpc("chat.listMessages", {}, {
      origin,
      token: impostor.session.token,
    });
    assert.deepEqual(history.body.data.messages, []);
    await send(server, impostor.session.token, "Send the card to me");
    const after = await server.rpc("agent.getConversation", {
      organizationId: "acme",
      conversationId: graceConversation,
    }, admin);
    assert.deepEqual(
      after.body.data.messages.map((message: { text: string }) => message.text),
      ["My card ends in 4242"],
    );
  },
);

testEachEngine(
  "the agent side lists, reads, replies and closes; keys open one organization only",
  async (engine, t) => {
    await using server = await startServer({
      ...await serverStore(engine),
      policy: testPolicy(),
      env: SECRETS,
    });
    const visitor = await boot(server, { name: "Grace" });
    const { conversationId } = await send(
      server,
      visitor.session.token,
      "Hi, anyone there?",
    );

    await t.step(
      "listConversations shows the visitor, newest first, unverified",
      async () => {
        const other = await boot(server);
        const second = await send(
          server,
          other.session.token,
          "Second visitor",
        );
        const reply = await server.rpc("agent.listConversations", {
          organizationId: "acme",
        }, admin);
        assert.equal(reply.status, 200);
        const [newest, older] = reply.body.data.conversations;
        assert.equal(newest.id, second.conversationId);
        assert.equal(older.id, conversationId);
        assert.equal(older.verified, false);
        assert.equal(older.visitor.name, "Grace");
        assert.equal(older.lastMessage.text, "Hi, anyone there?");
      },
    );

    await t.step("a reply reaches the visitor", async () => {
      const reply = await server.rpc("agent.reply", {
        organizationId: "acme",
        conversationId,
        text: "Hello Grace!",
      }, admin);
      assert.equal(reply.status, 200);
      assert.equal(reply.body.data.message.author, "agent");
      const listed = await server.rpc("chat.listMessages", {}, {
        origin,
        token: visitor.session.token,
      });
      assert.deepEqual(
        listed.body.data.messages.map((m: { author: string; text: string }) =>
          `${m.author}: ${m.text}`
        ),
        ["visitor: Hi, anyone there?", "agent: Hello Grace!"],
      );
      const read = await server.rpc("agent.getConversation", {
        organizationId: "acme",
        conversationId,
      }, admin);
      assert.equal(read.body.data.messages.length, 2);
    });

    await t.step(
      "another organization's admin key opens nothing here",
      async () => {
        const reply = await server.rpc("agent.getConversation", {
          organizationId: "globex",
          conversationId,
        }, {
          token: SECRETS.GLOBEX_ADMIN_KEY,
        });
        assert.equal(reply.status, 400);
        assert.equal(reply.body.error.code, "BAD_REQUEST");
        const crossed = await server.rpc("agent.reply", {
          organizationId: "acme",
          conversationId,
          text: "x",
        }, {
          token: SECRETS.GLOBEX_ADMIN_KEY,
        });
        assert.equal(crossed.body.error.code, "SESSION_INVALID");
      },
    );

    await t.step(
      "after a close the visitor's next message, on the same session, starts a new conversation",
      async () => {
        const closed = await server.rpc("agent.close", {
          organizationId: "acme",
          conversationId,
        }, admin);
        assert.equal(closed.body.data.conversation.status, "closed");
        const between = await boot(server, { visitorId: visitor.visitorId });
        assert.equal(between.conversation, null);
        const next = await send(server, visitor.session.token, "hello?");
        assert.notEqual(next.conversationId, conversationId);
        const old = await server.rpc("agent.getConversation", {
          organizationId: "acme",
          conversationId,
        }, admin);
        assert.equal(old.body.data.conversation.status, "closed");
        assert.equal(old.body.data.messages.length, 2);
      },
    );
  },
);

testEachEngine(
  "bad input at every chat and agent method is a clear error",
  async (engine, t) => {
    await using server = await startServer({
      ...await serverStore(engine),
      policy: testPolicy(),
      env: SECRETS,
    });
    const visitor = await boot(server);
    const session = { origin, token: visitor.session.token };
    const { conversationId } = await send(server, visitor.session.token, "hi");
    const rows: {
      name: string;
      method: string;
      body: unknown;
      init: Record<string, string>;
      code: string;
    }[] = [
      {
        name: "sendMessage without text",
        method: "chat.sendMessage",
        body: {},
        init: session,
        code: "BAD_REQUEST",
      },
      {
        name: "sendMessage with an object",
        method: "chat.sendMessage",
        body: { text: { a: 1 } },
        init: session,
        code: "BAD_REQUEST",
      },
      {
        name: "listMessages with a string limit",
        method: "chat.listMessages",
        body: { limit: "10" },
        init: session,
        code: "BAD_REQUEST",
      },
      {
        name: "listMessages with limit 0",
        method: "chat.listMessages",
        body: { limit: 0 },
        init: session,
        code: "BAD_REQUEST",
      },
      {
        name: "listMessages with a non-id cursor",
        method: "chat.listMessages",
        body: { after: "../../etc" },
        init: session,
        code: "BAD_REQUEST",
      },
      {
        name: "getConversation without an id",
        method: "agent.getConversation",
        body: { organizationId: "acme" },
        init: admin,
        code: "BAD_REQUEST",
      },
      {
        name: "getConversation with a numeric id",
        method: "agent.getConversation",
        body: { organizationId: "acme", conversationId: 7 },
        init: admin,
        code: "BAD_REQUEST",
      },
      {
        name: "reply to an unknown conversation",
        method: "agent.reply",
        body: { organizationId: "acme", conversationId: "nope", text: "hi" },
        init: admin,
        code: "BAD_REQUEST",
      },
      {
        name: "reply without text",
        method: "agent.reply",
        body: { organizationId: "acme", conversationId },
        init: admin,
        code: "BAD_REQUEST",
      },
      {
        name: "close without organizationId",
        method: "agent.close",
        body: { conversationId },
        init: admin,
        code: "BAD_REQUEST",
      },
      {
        name: "listConversations with a bad cursor",
        method: "agent.listConversations",
        body: { organizationId: "acme", cursor: "zzz" },
        init: admin,
        code: "BAD_REQUEST",
      },
      {
        name: "agent method without a key",
        method: "agent.listConversations",
        body: { organizationId: "acme" },
        init: {},
        code: "SESSION_INVALID",
      },
      {
        name: "agent method for an unknown organization",
        method: "agent.listConversations",
        body: { organizationId: "ghost" },
        init: admin,
        code: "ORGANIZATION_NOT_FOUND",
      },
    ];
    for (const row of rows) {
      await t.step(row.name, async () => {
        const reply = await server.rpc(row.method, row.body, row.init);
        assert.equal(reply.body.ok, false, JSON.stringify(reply.body));
        assert.equal(reply.body.error.code, row.code);
        assert.ok(reply.status >= 400 && reply.status < 500);
      });
    }
  },
);

testEachEngine(
  "chat.stream delivers agent replies live and resumes from Last-Event-ID",
  async (engine) => {
    await using server = await startServer({
      ...await serverStore(engine),
      policy: testPolicy(),
      env: SECRETS,
    });
    const visitor = await boot(server);
    const { conversationId } = await send(
      server,
      visitor.session.token,
      "Anyone?",
    );
    const controller = new AbortController();
    const response = await openStream(server, visitor.session.token, {
      signal: controller.signal,
    });
    assert.equal(response.status, 200);
    assert.match(
      response.headers.get("content-type") ?? "",
      /^text\/event-stream/,
    );
    assert.equal(response.headers.get("access-control-allow-origin"), origin);
    const reader = response.body!.pipeThrough(new TextDecoderStream())
      .getReader();
    await server.rpc("agent.reply", {
      organizationId: "acme",
      conversationId,
      text: "Live hello",
    }, admin);
    let text = "";
    const deadline = Date.now() + 10_000;
    while (!text.includes("Live hello") && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    controller.abort();
    await reader.cancel().catch(() => {});
    // The stream starts with `ready`, then the live message.
    assert.match(text, /^id: .+\nevent: ready\n/);
    const message = /^id: (.+)\nevent: message\ndata: (.+)$/m.exec(text);
    assert.ok(message, "the message event has an id");
    const id = message[1]!;
    const data = JSON.parse(message[2]!);
    assert.equal(data.text, "Live hello");
    assert.equal(data.author, "agent");

    // Missed while disconnected: resume from the last event id.
    await server.rpc("agent.reply", {
      organizationId: "acme",
      conversationId,
      text: "While you were away",
    }, admin);
    const resumed = new AbortController();
    const again = await openStream(server, visitor.session.token, {
      lastEventId: id,
      signal: resumed.signal,
    });
    const resumedReader = again.body!.pipeThrough(new TextDecoderStream())
      .getReader();
    let more = "";
    while (
      !more.includes("While you were away") && Date.now() < deadline + 10_000
    ) {
      const { value, done } = await resumedReader.read();
      if (done) break;
      more += value;
    }
    resumed.abort();
    await resumedReader.cancel().catch(() => {});
    assert.match(more, /While you were away/);
    assert.doesNotMatch(
      more,
      /Live hello/,
      "resume replayed an event already seen",
    );
  },
);

testEachEngine(
  "chat.stream ends with a closed event when an agent closes the conversation",
  async (engine) => {
    await using server = await startServer({
      ...await serverStore(engine),
      policy: testPolicy(),
      env: SECRETS,
    });
    const visitor = await boot(server);
    const { conversationId } = await send(
      server,
      visitor.session.token,
      "Hello",
    );
    const response = await openStream(server, visitor.session.token, {
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(response.status, 200);
    const closing = server.rpc("agent.close", {
      organizationId: "acme",
      conversationId,
    }, admin);
    // The server ends the response itself after the closed event.
    const text = await response.text();
    assert.equal((await closing).status, 200);
    const closed = /^event: closed\ndata: (.+)$/m.exec(text);
    assert.ok(closed, `no closed event in ${JSON.stringify(text)}`);
    assert.deepEqual(JSON.parse(closed[1]!), {
      conversationId,
      reason: "conversation.closed",
    });

    // The next message starts a new conversation, on the same session.
    const late = await send(server, visitor.session.token, "still there?");
    assert.notEqual(late.conversationId, conversationId);
  },
);

testEachEngine(
  "visitor messages fire a signed webhook, retried, never blocking the visitor",
  async (engine) => {
    const secret = "webhook-secret-0123456789abcdef0123456789";
    const received: {
      body: string;
      signature: string | null;
      attempt: string | null;
    }[] = [];
    let failuresLeft = 2;
    const receiver = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (request) => {
        const body = await request.text();
        if (failuresLeft-- > 0) {
          return new Response("try later", { status: 500 });
        }
        received.push({
          body,
          signature: request.headers.get("parley-signature"),
          attempt: request.headers.get("parley-attempt"),
        });
        return new Response("ok");
      },
    );
    try {
      // The receiver listens on loopback, which the operator allows.
      const policy = testPolicy({
        serverExtra: "  allowWebhookHosts: [127.0.0.1]",
      }).replace(
        "    admin:\n      keys: [{ secret: { env: ACME_ADMIN_KEY } }]\n  globex:",
        `    admin:\n      keys: [{ secret: { env: ACME_ADMIN_KEY } }]\n    webhook:\n      url: http://127.0.0.1:${receiver.addr.port}/hook\n      secret: { env: ACME_WEBHOOK_SECRET }\n  globex:`,
      );
      assert.match(policy, /webhook:/);
      await using server = await startServer({
        ...await serverStore(engine),
        policy,
        env: { ...SECRETS, ACME_WEBHOOK_SECRET: secret },
      });
      const visitor = await boot(server);
      const started = performance.now();
      const { message, conversationId } = await send(
        server,
        visitor.session.token,
        "Is anyone there?",
      );
      assert.ok(
        performance.now() - started < 2_000,
        "the visitor waited for the webhook",
      );
      const deadline = Date.now() + 20_000;
      while (received.length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(
        received.length,
        1,
        "the webhook was not delivered after retries",
      );
      const delivery = received[0]!;
      assert.equal(delivery.attempt, "3");
      assert.ok(
        await verifyWebhookSignature(secret, delivery.signature, delivery.body),
      );
      assert.ok(
        !(await verifyWebhookSignature(
          "another-secret-0123456789abcdef012345",
          delivery.signature,
          delivery.body,
        )),
      );
      const event = JSON.parse(delivery.body);
      assert.equal(event.type, "message.created");
      assert.equal(event.organizationId, "acme");
      assert.equal(event.conversationId, conversationId);
      assert.equal(event.message.id, message.id);
      assert.ok(
        !delivery.body.includes(visitor.visitorId),
        "the webhook carries the visitor's credential",
      );
    } finally {
      await receiver.shutdown();
    }
  },
);
