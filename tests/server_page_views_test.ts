/**
 * What a page view costs the server, against the real server process: a
 * boot carries the settings and stores nothing, the first message creates
 * the conversation with what the boot was told, and a visitor's stream
 * starts with where it stands and hears availability change.
 */

import assert from "node:assert/strict";
import { EventLog } from "./sse_events.ts";
import { type ServerProcess, startServer } from "./server_process.ts";
import {
  serverStore,
  testEachEngine,
  type TestEngine,
} from "./store_engines.ts";
import { ORIGINS, SECRETS, testPolicy } from "./test_policy.ts";

const origin = ORIGINS.acme;
const admin = { token: SECRETS.ACME_ADMIN_KEY };

async function boot(
  server: ServerProcess,
  body: Record<string, unknown> = {},
) {
  const reply = await server.rpc("chat.boot", {
    organizationId: "acme",
    ...body,
  }, { origin });
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body.data;
}

/** A session's calls, from the shop's origin. */
function session(server: ServerProcess, token: string) {
  return (method: string, body: Record<string, unknown> = {}) =>
    server.rpc(method, body, { origin, token });
}

async function start(engine: TestEngine, env: Record<string, string> = {}) {
  const store = await serverStore(engine);
  const server = await startServer({
    ...store,
    policy: testPolicy(),
    env: { ...SECRETS, ...env },
  });
  return { server, store };
}

async function openStream(
  server: ServerProcess,
  token: string,
  body: Record<string, unknown> = {},
  signal?: AbortSignal,
): Promise<EventLog> {
  const response = await fetch(`${server.baseUrl}/rpc/chat.stream`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Origin: origin,
      Authorization: `Bearer ${token}`,
    },
    body: JSON.stringify(body),
    ...(signal === undefined ? {} : { signal }),
  });
  if (response.status !== 200) {
    assert.fail(`${response.status}: ${await response.text()}`);
  }
  return new EventLog(response);
}

testEachEngine(
  "the contract: chat.boot's data.config is chat.getConfig's data",
  async (engine) => {
    await using running = (await start(engine)).server;
    const booted = await boot(running);
    const config = await running.rpc("chat.getConfig", {
      organizationId: "acme",
    }, { origin });
    assert.equal(config.status, 200);
    assert.deepEqual(booted.config, config.body.data);
    assert.equal(booted.agentsOnline, booted.config.agentsOnline);
    assert.equal(booted.withinHours, booted.config.withinHours);
  },
);

testEachEngine(
  "a boot stores nothing: visitors who never write leave no conversation and no feed entry",
  async (engine) => {
    const { server: running, store } = await start(engine);
    await using _ = running;
    const first = await boot(running, {
      name: "Ada",
      page: { url: `${origin}/` },
    });
    assert.equal(first.conversation, null);
    const again = await boot(running, { visitorId: first.visitorId });
    assert.equal(again.conversation, null);
    assert.equal(again.visitorId, first.visitorId);
    // Session calls before a first message act on nothing, and create nothing.
    const call = session(running, first.session.token);
    assert.deepEqual((await call("chat.listMessages")).body.data, {
      messages: [],
    });
    assert.deepEqual((await call("chat.typing")).body.data, {});
    assert.deepEqual(
      (await call("chat.setPage", { url: `${origin}/cart` })).body.data,
      { page: null },
    );
    await running.stop();
    await using shared = await engine.open(
      store.store ?? running.kvPath,
    );
    assert.equal(await shared.conversations.feedHead("acme"), 0);
    // Every conversation is idle before the far future: a purge counts them all.
    assert.equal(
      await shared.conversations.purge("acme", Date.now() + 86_400_000),
      0,
    );
  },
);

testEachEngine(
  "the first message creates the conversation with the boot's attributes and the page it carries",
  async (engine) => {
    await using running = (await start(engine)).server;
    const visitor = await boot(running, {
      name: "Grace",
      email: "grace@example.com",
      user_id: "u-7",
    });
    const page = { url: `${origin}/pricing`, title: "Pricing" };
    const sent = await session(running, visitor.session.token)(
      "chat.sendMessage",
      {
        text: "Is there a discount?",
        page,
      },
    );
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const { conversationId } = sent.body.data;
    const read = await running.rpc("agent.getConversation", {
      organizationId: "acme",
      conversationId,
    }, admin);
    const conversation = read.body.data.conversation;
    // Agents see a reference, never the visitor id (a credential).
    assert.match(conversation.visitor.id, /^v\./);
    assert.deepEqual(conversation.visitor, {
      id: conversation.visitor.id,
      name: "Grace",
      email: "grace@example.com",
      userId: "u-7",
    });
    assert.deepEqual(conversation.page, page);
    assert.equal(conversation.lastMessage.text, "Is there a discount?");
    const back = await boot(running, { visitorId: visitor.visitorId });
    assert.equal(back.conversation.id, conversationId);
    assert.deepEqual(
      back.conversation.messages.map((m: { text: string }) => m.text),
      ["Is there a discount?"],
    );
    // Leaving an address starts a conversation too.
    const other = await boot(running);
    const contact = await session(running, other.session.token)(
      "chat.setContact",
      {
        email: "other@example.com",
      },
    );
    assert.equal(contact.status, 200);
    assert.deepEqual(
      (await boot(running, { visitorId: other.visitorId })).conversation
        .contact,
      { email: "other@example.com" },
    );
  },
);

testEachEngine(
  "a visitor's stream starts with ready: no conversation yet, then availability as an agent comes and goes",
  async (engine) => {
    await using running = (await start(engine)).server;
    const visitor = await boot(running);
    const controller = new AbortController();
    try {
      const stream = await openStream(running, visitor.session.token, {
        recent: 50,
      }, controller.signal);
      const ready = await stream.next((event) => event.event === "ready");
      assert.equal(stream.events[0], ready, "ready comes first");
      assert.equal(ready.id, undefined, "no conversation: no cursor yet");
      assert.equal(ready.data.conversation, null);
      assert.deepEqual(ready.data.config, visitor.config);
      const agent = new AbortController();
      const inbox = await fetch(`${running.baseUrl}/rpc/agent.stream`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Authorization: `Bearer ${SECRETS.ACME_ADMIN_KEY}`,
        },
        body: JSON.stringify({ organizationId: "acme" }),
        signal: agent.signal,
      });
      assert.equal(inbox.status, 200);
      const online = await stream.next((event) =>
        event.event === "availability" && event.data.agentsOnline
      );
      assert.deepEqual(online.data, { agentsOnline: true, withinHours: true });
      agent.abort();
      await stream.next(
        (event) => event.event === "availability" && !event.data.agentsOnline,
        15_000,
      );
    } finally {
      controller.abort();
    }
  },
);

testEachEngine(
  "a returning visitor's one call: the stream's ready brings the recent messages, records the page, then live events",
  async (engine) => {
    await using running = (await start(engine)).server;
    const visitor = await boot(running);
    const call = session(running, visitor.session.token);
    const first = await call("chat.sendMessage", { text: "one" });
    const { conversationId } = first.body.data;
    await running.rpc("agent.reply", {
      organizationId: "acme",
      conversationId,
      text: "two",
    }, admin);
    const controller = new AbortController();
    try {
      const page = { url: `${origin}/orders/7`, title: "Order 7" };
      const stream = await openStream(running, visitor.session.token, {
        recent: 50,
        page,
      }, controller.signal);
      const ready = await stream.next((event) => event.event === "ready");
      assert.equal(ready.data.conversation.id, conversationId);
      const texts = ready.data.conversation.messages.map((
        m: { text: string },
      ) => m.text);
      assert.deepEqual(texts, ["one", "two"]);
      assert.equal(ready.id, ready.data.conversation.messages[1].id);
      const read = await running.rpc("agent.getConversation", {
        organizationId: "acme",
        conversationId,
      }, admin);
      assert.deepEqual(read.body.data.conversation.page, page);
      await running.rpc("agent.reply", {
        organizationId: "acme",
        conversationId,
        text: "three",
      }, admin);
      const live = await stream.next((event) => event.event === "message");
      assert.equal(live.data.text, "three");
      assert.equal(
        stream.events.filter((event) => event.event === "message").length,
        1,
        "nothing in ready is repeated",
      );
    } finally {
      controller.abort();
    }
  },
);

testEachEngine(
  "a resume cursor that is not a message id is a 400 before any stream opens",
  async (engine) => {
    await using running = (await start(engine)).server;
    const visitor = await boot(running);
    for (const after of ["../../etc", "1"]) {
      const reply = await running.rpc("chat.stream", { after }, {
        origin,
        token: visitor.session.token,
      });
      assert.equal(reply.status, 400);
      assert.equal(reply.body.error.code, "BAD_REQUEST");
      assert.equal(reply.body.error.reason, "param.after.invalid");
    }
  },
);
