/**
 * The chat a support team runs, against the real server process: named
 * agents and assignment, typing both ways, presence, the visitor's page and
 * contact, the unanswered webhook, and the budgets of sessions and agents.
 */

import assert from "node:assert/strict";
import { verifyWebhookSignature } from "../chat/webhook.ts";
import { EventLog } from "./sse_events.ts";
import { type ServerProcess, startServer, waitFor } from "./server_process.ts";
import {
  serverStore,
  testEachEngine,
  type TestEngine,
} from "./store_engines.ts";

const ORIGIN = "https://shop.acme.com";
const KEYS = {
  ADA: "support-ada-key-0123456789abcdef0123456789",
  GRACE: "support-grace-key-0123456789abcdef012345678",
  WEBHOOK: "support-webhook-secret-0123456789abcdef0123",
};
const ADA = { id: "ada", name: "Ada Lovelace" };
const GRACE = { id: "grace", name: "Grace Hopper" };

function policy(webhookUrl = "http://127.0.0.1:9/unused"): string {
  return `version: 1
defaults:
  limits: { organization: 1000/minute, ip: 1000/minute }
# The test receivers listen on loopback: the operator allows it, as in
# local development.
server: { trustProxy: 1, allowWebhookHosts: [127.0.0.1] }
organizations:
  acme:
    name: Acme Inc.
    domains: { mode: enforce, allow: ["*.acme.com"] }
    jwt: { mode: "off" }
    limits: { session: 5/minute, agent: 8/minute }
    widget: { unansweredAfter: 1s }
    admin:
      keys:
        - { id: ada, name: "Ada Lovelace", secret: { env: ADA_KEY } }
        - { id: grace, name: "Grace Hopper", secret: { env: GRACE_KEY } }
    webhook:
      url: ${webhookUrl}
      secret: { env: WEBHOOK_SECRET }
  roomy:
    domains: { mode: enforce, allow: ["*.acme.com"] }
    jwt: { mode: "off" }
    admin:
      keys: [{ id: ada, name: "Ada", secret: { env: ADA_KEY } }]
`;
}

const ENV = {
  ADA_KEY: KEYS.ADA,
  GRACE_KEY: KEYS.GRACE,
  WEBHOOK_SECRET: KEYS.WEBHOOK,
};

async function start(
  engine: TestEngine,
  webhookUrl?: string,
): Promise<ServerProcess> {
  return await startServer({
    ...await serverStore(engine),
    policy: policy(webhookUrl),
    env: ENV,
  });
}

/** One boot from its own client IP (so per-IP limits never mix tests up). */
let visitors = 0;
async function boot(
  server: ServerProcess,
  body: Record<string, unknown> = {},
  organizationId = "acme",
) {
  const ip = `10.1.0.${++visitors % 250}`;
  const reply = await server.rpc("chat.boot", { organizationId, ...body }, {
    origin: ORIGIN,
    headers: { "X-Forwarded-For": ip },
  });
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  const token: string = reply.body.data.session.token;
  return {
    data: reply.body.data,
    call: (method: string, args: Record<string, unknown> = {}) =>
      server.rpc(method, args, {
        origin: ORIGIN,
        token,
        headers: { "X-Forwarded-For": ip },
      }),
    token,
  };
}

/** The visitor's first message, which creates their conversation; its id. */
async function firstMessage(
  visitor: Awaited<ReturnType<typeof boot>>,
  body: Record<string, unknown> = { text: "Hello?" },
): Promise<string> {
  const reply = await visitor.call("chat.sendMessage", body);
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body.data.conversationId;
}

function agent(server: ServerProcess, key: string, organizationId = "acme") {
  return (method: string, args: Record<string, unknown> = {}) =>
    server.rpc(method, { organizationId, ...args }, { token: key });
}

async function openStream(
  server: ServerProcess,
  method: "chat.stream" | "agent.stream",
  bearer: string,
  signal: AbortSignal,
): Promise<EventLog> {
  const response = await fetch(`${server.baseUrl}/rpc/${method}`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Origin: ORIGIN,
      Authorization: `Bearer ${bearer}`,
    },
    body: JSON.stringify(
      method === "agent.stream" ? { organizationId: "acme" } : {},
    ),
    signal,
  });
  assert.equal(response.status, 200);
  return new EventLog(response);
}

testEachEngine(
  "agents are named on their messages everywhere, and the first to reply is assigned",
  async (engine) => {
    await using server = await start(engine);
    const visitor = await boot(server);
    const conversationId = await firstMessage(visitor);
    const controller = new AbortController();
    try {
      const visitorStream = await openStream(
        server,
        "chat.stream",
        visitor.token,
        controller.signal,
      );
      const ada = agent(server, KEYS.ADA);
      const grace = agent(server, KEYS.GRACE);
      const graceStream = await openStream(
        server,
        "agent.stream",
        KEYS.GRACE,
        controller.signal,
      );
      const reply = await ada("agent.reply", { conversationId, text: "Hi!" });
      assert.deepEqual(reply.body.data.message.agent, ADA);
      await grace("agent.reply", { conversationId, text: "Me too" });
      // Live, on both sides.
      const live = await visitorStream.next((event) =>
        event.data.text === "Hi!"
      );
      assert.deepEqual(live.data.agent, ADA);
      const seen = await graceStream.next((event) => event.data.text === "Hi!");
      assert.deepEqual(seen.data.agent, ADA);
      // Listed, and in the next boot's history.
      const listed = await visitor.call("chat.listMessages");
      assert.deepEqual(
        listed.body.data.messages.map((m: { agent?: unknown }) => m.agent),
        [undefined, ADA, GRACE],
      );
      const again = await boot(server, { visitorId: visitor.data.visitorId });
      assert.deepEqual(again.data.conversation.messages[1].agent, ADA);
      const { body } = await grace("agent.getConversation", { conversationId });
      assert.deepEqual(body.data.conversation.assignee, ADA);
      assert.deepEqual(body.data.messages[2].agent, GRACE);
    } finally {
      controller.abort();
    }
  },
);

testEachEngine(
  "agent.assign hands a conversation over, and the inbox filters all, mine and unassigned",
  async (engine) => {
    await using server = await start(engine);
    const ada = agent(server, KEYS.ADA);
    const grace = agent(server, KEYS.GRACE);
    const ids: string[] = [];
    for (const text of ["first", "second", "third"]) {
      const visitor = await boot(server);
      ids.push(await firstMessage(visitor, { text }));
    }
    const [first, second, third] = ids as [string, string, string];
    await ada("agent.reply", { conversationId: first, text: "mine" });
    const handed = await ada("agent.assign", {
      conversationId: second,
      agentId: "grace",
    });
    assert.deepEqual(handed.body.data.conversation.assignee, GRACE);
    await ada("agent.assign", { conversationId: third, agentId: "ada" });
    const unassigned = await ada("agent.assign", {
      conversationId: third,
      agentId: null,
    });
    assert.equal(unassigned.body.data.conversation.assignee, null);
    const view = async (call: typeof ada, filter: string) =>
      (await call("agent.listConversations", { filter })).body.data;
    assert.deepEqual(
      (await view(ada, "mine")).conversations.map((c: { id: string }) => c.id),
      [first],
    );
    assert.deepEqual(
      (await view(grace, "mine")).conversations.map((c: { id: string }) =>
        c.id
      ),
      [second],
    );
    assert.deepEqual(
      (await view(grace, "unassigned")).conversations.map((c: { id: string }) =>
        c.id
      ),
      [third],
    );
    const all = await view(grace, "all");
    assert.equal(all.conversations.length, 3);
    assert.deepEqual(all.agent, GRACE);
    assert.deepEqual(all.agents, [ADA, GRACE]);
    assert.doesNotMatch(JSON.stringify(all), /support-.*-key/);
  },
);

testEachEngine(
  "typing reaches the other side's stream both ways, and never one's own",
  async (engine) => {
    await using server = await start(engine);
    const visitor = await boot(server);
    const conversationId = await firstMessage(visitor);
    const controller = new AbortController();
    try {
      const visitorStream = await openStream(
        server,
        "chat.stream",
        visitor.token,
        controller.signal,
      );
      const inbox = await openStream(
        server,
        "agent.stream",
        KEYS.ADA,
        controller.signal,
      );
      assert.equal((await visitor.call("chat.typing")).status, 200);
      const fromVisitor = await inbox.next((event) => event.event === "typing");
      assert.deepEqual(fromVisitor.data, { conversationId, author: "visitor" });
      assert.equal(fromVisitor.id, undefined, "typing is live only");
      const ada = agent(server, KEYS.ADA);
      assert.equal((await ada("agent.typing", { conversationId })).status, 200);
      const fromAgent = await visitorStream.next((event) =>
        event.event === "typing"
      );
      assert.deepEqual(fromAgent.data, {
        conversationId,
        author: "agent",
        agent: ADA,
      });
      assert.deepEqual(
        visitorStream.events.filter((event) =>
          event.event === "typing" && event.data.author === "visitor"
        ),
        [],
      );
    } finally {
      controller.abort();
    }
  },
);

testEachEngine(
  "agentsOnline follows the inbox: true while an agent.stream is open, false once it closes",
  async (engine) => {
    await using server = await start(engine);
    /** What getConfig and a boot say, in that order. */
    const online = async (): Promise<[boolean, boolean]> => {
      const config = await server.rpc("chat.getConfig", {
        organizationId: "acme",
      }, { origin: ORIGIN });
      const booted = await boot(server);
      return [config.body.data.agentsOnline, booted.data.agentsOnline];
    };
    assert.deepEqual(await online(), [false, false]);
    assert.equal((await boot(server)).data.withinHours, true, "no hours: open");
    const controller = new AbortController();
    await openStream(server, "agent.stream", KEYS.GRACE, controller.signal);
    assert.deepEqual(await online(), [true, true]);
    controller.abort();
    await waitFor(async () => (await online()).every((value) => !value));
  },
);

testEachEngine(
  "the visitor's page and contact reach agents; a page elsewhere is dropped",
  async (engine) => {
    await using server = await start(engine);
    const page = {
      url: "https://shop.acme.com/cart?step=2",
      title: "Your cart",
      referrer: "https://www.example.com/",
    };
    // Nothing is stored before the first message: the page goes with it.
    const visitor = await boot(server, { page });
    assert.equal(visitor.data.conversation, null);
    const early = await visitor.call("chat.setPage", { url: page.url });
    assert.equal(early.body.data.page, null);
    const conversationId = await firstMessage(visitor, { text: "Hi", page });
    const ada = agent(server, KEYS.ADA);
    const read = async () =>
      (await ada("agent.getConversation", { conversationId })).body.data
        .conversation;
    assert.deepEqual((await read()).page, page);
    // SPA navigation on the same origin, then one to another site.
    const moved = await visitor.call("chat.setPage", {
      url: "https://shop.acme.com/checkout",
    });
    assert.deepEqual(moved.body.data.page, {
      url: "https://shop.acme.com/checkout",
    });
    const elsewhere = await visitor.call("chat.setPage", {
      url: "https://evil.example/phish",
      title: "Click me",
    });
    assert.equal(elsewhere.body.data.page, null);
    assert.deepEqual((await read()).page, {
      url: "https://shop.acme.com/checkout",
    });
    const offOrigin = await boot(server);
    const offOriginId = await firstMessage(offOrigin, {
      text: "Hi",
      page: { url: "https://evil.example/" },
    });
    assert.equal(
      (await ada("agent.getConversation", {
        conversationId: offOriginId,
      })).body.data.conversation.page,
      undefined,
    );
    // A returning visitor's boot records its page on the open conversation.
    const back = await boot(server, {
      visitorId: visitor.data.visitorId,
      page: { url: "https://shop.acme.com/orders" },
    });
    assert.equal(back.data.conversation.id, conversationId);
    assert.deepEqual((await read()).page, {
      url: "https://shop.acme.com/orders",
    });

    const contact = await visitor.call("chat.setContact", {
      email: " ada@example.com ",
    });
    assert.deepEqual(contact.body.data.contact, { email: "ada@example.com" });
    assert.deepEqual((await read()).contact, { email: "ada@example.com" });
    const again = await boot(server, { visitorId: visitor.data.visitorId });
    assert.deepEqual(again.data.conversation.contact, {
      email: "ada@example.com",
    });
  },
);

testEachEngine(
  "a visitor message no agent answers in widget.unansweredAfter fires conversation.unanswered once, signed; an answered one does not",
  async (engine) => {
    const received: { type: string; body: string; signature: string | null }[] =
      [];
    const receiver = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen() {} },
      async (request) => {
        const body = await request.text();
        received.push({
          type: JSON.parse(body).type,
          body,
          signature: request.headers.get("Parley-Signature"),
        });
        return new Response(null, { status: 204 });
      },
    );
    try {
      await using server = await start(
        engine,
        `http://127.0.0.1:${receiver.addr.port}/hooks`,
      );
      const ignored = await boot(server);
      const answered = await boot(server);
      const ignoredId = await firstMessage(ignored, {
        text: "Is anyone there?",
      });
      await ignored.call("chat.sendMessage", { text: "Hello??" });
      await ignored.call("chat.setContact", { email: "ada@example.com" });
      const answeredId = await firstMessage(answered, {
        text: "Quick question",
      });
      await agent(server, KEYS.ADA)("agent.reply", {
        conversationId: answeredId,
        text: "Yes?",
      });
      await waitFor(() =>
        Promise.resolve(
          received.filter(({ type }) => type === "conversation.unanswered")
                .length === 1 &&
            received.filter(({ type }) => type === "message.created").length ===
              3,
        )
      );
      // Past the delay for the answered one too: still one.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      const unanswered = received.filter(({ type }) =>
        type === "conversation.unanswered"
      );
      assert.equal(unanswered.length, 1);
      const [event] = unanswered;
      const payload = JSON.parse(event!.body);
      assert.equal(payload.conversationId, ignoredId);
      assert.equal(payload.organizationId, "acme");
      assert.deepEqual(payload.contact, { email: "ada@example.com" });
      assert.equal(payload.message.text, "Is anyone there?");
      assert.equal(
        await verifyWebhookSignature(
          KEYS.WEBHOOK,
          event!.signature,
          event!.body,
        ),
        true,
      );
    } finally {
      await receiver.shutdown();
    }
  },
);

testEachEngine(
  "session calls spend the session's own budget, not the IP's or the organization's",
  async (engine) => {
    await using server = await start(engine);
    const visitor = await boot(server);
    const statuses: number[] = [];
    let refusal;
    for (let i = 0; i < 6; i++) {
      const reply = await visitor.call("chat.sendMessage", { text: `m${i}` });
      statuses.push(reply.status);
      if (reply.status === 429) refusal = reply;
      else {
        assert.match(
          reply.headers.get("ratelimit-policy") ?? "",
          /^"session";q=5;w=60$/,
        );
      }
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
    assert.equal(refusal!.body.error.reason, "limit.session");
    assert.ok(Number(refusal!.headers.get("retry-after")) > 0);
    // Another session of the same IP is not affected, nor are boots.
    const neighbour = await boot(server);
    assert.equal(
      (await neighbour.call("chat.sendMessage", { text: "hi" })).status,
      200,
    );
  },
);

testEachEngine(
  "agent calls spend the agent's own budget; another agent is not affected",
  async (engine) => {
    await using server = await start(engine);
    const ada = agent(server, KEYS.ADA);
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) {
      statuses.push((await ada("agent.listConversations")).status);
    }
    assert.deepEqual(statuses, [...new Array(8).fill(200), 429]);
    const refused = await ada("agent.listConversations");
    assert.equal(refused.body.error.reason, "limit.agent");
    const grace = await agent(server, KEYS.GRACE)("agent.listConversations");
    assert.equal(grace.status, 200);
    assert.match(
      grace.headers.get("ratelimit-policy") ?? "",
      /^"agent";q=8;w=60$/,
    );
  },
);

testEachEngine(
  "bad input at the support methods is a clear error",
  async (engine, t) => {
    await using server = await start(engine);
    const visitor = await boot(server);
    // Another visitor's conversation, so the rows below fit `visitor`'s session budget.
    const conversationId = await firstMessage(await boot(server));
    const ada = agent(server, KEYS.ADA);
    const rows: {
      name: string;
      call: () => Promise<
        { status: number; body: { error: { code: string; reason: string } } }
      >;
      reason: string;
    }[] = [
      {
        name: "setContact without an email",
        call: () => visitor.call("chat.setContact"),
        reason: "param.email.missing",
      },
      {
        name: "setContact with a malformed email",
        call: () => visitor.call("chat.setContact", { email: "not an email" }),
        reason: "param.email.invalid",
      },
      {
        name: "setContact with an email that is not a string",
        call: () => visitor.call("chat.setContact", { email: ["a@b.c"] }),
        reason: "param.email.type",
      },
      {
        name: "setPage without a url",
        call: () => visitor.call("chat.setPage", { title: "x" }),
        reason: "param.url.missing",
      },
      {
        name: "setPage with an overlong title",
        call: () =>
          visitor.call("chat.setPage", {
            url: "https://shop.acme.com/",
            title: "x".repeat(301),
          }),
        reason: "param.title.length",
      },
      {
        name: "boot with a page that is not an object",
        call: () =>
          server.rpc("chat.boot", { organizationId: "acme", page: "/cart" }, {
            origin: ORIGIN,
          }),
        reason: "param.page.type",
      },
      {
        name: "boot with a page url that is not a string",
        call: () =>
          server.rpc("chat.boot", {
            organizationId: "acme",
            page: { url: 42 },
          }, { origin: ORIGIN }),
        reason: "param.page.url.type",
      },
      {
        name: "assign to an agent the organization does not have",
        call: () => ada("agent.assign", { conversationId, agentId: "mallory" }),
        reason: "param.agentId.unknown",
      },
      {
        name: "assign without agentId",
        call: () => ada("agent.assign", { conversationId }),
        reason: "param.agentId.missing",
      },
      {
        name: "assign an unknown conversation",
        call: () =>
          ada("agent.assign", { conversationId: "nope", agentId: "ada" }),
        reason: "param.conversationId.unknown",
      },
      {
        name: "typing in an unknown conversation",
        call: () => ada("agent.typing", { conversationId: "nope" }),
        reason: "param.conversationId.unknown",
      },
      {
        name: "listConversations with an unknown filter",
        call: () => ada("agent.listConversations", { filter: "everything" }),
        reason: "param.filter.type",
      },
    ];
    for (const row of rows) {
      await t.step(row.name, async () => {
        const reply = await row.call();
        assert.equal(reply.status, 400, JSON.stringify(reply.body));
        assert.equal(reply.body.error.code, "BAD_REQUEST");
        assert.equal(reply.body.error.reason, row.reason);
      });
    }
    await t.step("a session's own calls need a session", async () => {
      const reply = await server.rpc("chat.typing", {}, { origin: ORIGIN });
      assert.equal(reply.body.error.code, "SESSION_INVALID");
    });
  },
);

testEachEngine(
  "a conversation keeps its newest retention.messages messages, and agent.getConversation says how many were trimmed",
  async (engine) => {
    await using server = await startServer({
      ...await serverStore(engine),
      // A session budget the six calls below fit in.
      policy: policy().replace("session: 5/minute", "session: 50/minute")
        .replace(
          "    webhook:",
          "    retention: { conversations: 90d, messages: 3 }\n    webhook:",
        ),
      env: ENV,
    });
    const visitor = await boot(server);
    const conversationId = await firstMessage(visitor, { text: "one" });
    for (const text of ["two", "three", "four", "five"]) {
      assert.equal(
        (await visitor.call("chat.sendMessage", { text })).status,
        200,
      );
    }
    const { body } = await agent(server, KEYS.ADA)("agent.getConversation", {
      conversationId,
    });
    assert.equal(body.data.conversation.trimmed, 2);
    assert.deepEqual(
      body.data.messages.map((message: { text: string }) => message.text),
      ["three", "four", "five"],
    );
    const listed = await visitor.call("chat.listMessages");
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.equal(listed.body.data.messages.length, 3);
  },
);
