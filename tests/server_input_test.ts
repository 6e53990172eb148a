/**
 * Input the wire refuses before any store sees it, on both engines: control
 * characters in string parameters (`param.control_character`), a
 * `Last-Event-ID` that is not one of the stream's event ids (400 before any
 * stream byte), and a cursor that is not one. None of it reads as an
 * outage: no 503, nothing in `parley_store_errors_total`.
 */

import assert from "node:assert/strict";
import { signWithJsonwebtoken } from "./jsonwebtoken_minter.ts";
import { type ServerProcess, startServer } from "./server_process.ts";
import { serverStore, testEachEngine } from "./store_engines.ts";
import { acmeClaims, ORIGINS, SECRETS, testPolicy } from "./test_policy.ts";

const origin = ORIGINS.acme;
const admin = { token: SECRETS.ACME_ADMIN_KEY };

async function boot(server: ServerProcess, token?: string) {
  const reply = await server.rpc("chat.boot", { organizationId: "acme" }, {
    origin,
    ...(token === undefined ? {} : { token }),
  });
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body.data;
}

/** A session with a conversation (one message written). */
async function chatting(server: ServerProcess) {
  const visitor = await boot(server);
  const sent = await server.rpc("chat.sendMessage", { text: "Hello" }, {
    origin,
    token: visitor.session.token,
  });
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  return {
    session: visitor.session.token as string,
    conversationId: sent.body.data.conversationId as string,
    messageId: sent.body.data.message.id as string,
  };
}

async function storeErrors(server: ServerProcess): Promise<number> {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
  return [...text.matchAll(/^parley_store_errors_total\{[^}]*\} (\d+)$/gm)]
    .reduce((sum, match) => sum + Number(match[1]), 0);
}

type Call = (
  server: ServerProcess,
  chat: Awaited<ReturnType<typeof chatting>>,
) => Promise<{ status: number; body: { error?: { reason?: string } } }>;

const visitorCall =
  (method: string, body: Record<string, unknown>): Call => (server, chat) =>
    server.rpc(method, body, { origin, token: chat.session });
const agentCall = (
  method: string,
  body: (chat: Awaited<ReturnType<typeof chatting>>) => Record<string, unknown>,
): Call =>
(server, chat) =>
  server.rpc(method, { organizationId: "acme", ...body(chat) }, admin);

/** `[where, what, the call]`: each refused with param.control_character. */
const CONTROL_CHARACTER_ROWS: [string, string, Call][] = [
  [
    "message text",
    "a NUL",
    visitorCall("chat.sendMessage", { text: "Where\u0000is my order?" }),
  ],
  [
    "message text",
    "a terminal escape",
    visitorCall("chat.sendMessage", { text: "\u001b[2JWhere is my order?" }),
  ],
  [
    "message text",
    "DEL",
    visitorCall("chat.sendMessage", { text: "Where is\u007f my order?" }),
  ],
  [
    "message text",
    "a C1 control (NEL)",
    visitorCall("chat.sendMessage", { text: "Where is\u0085 my order?" }),
  ],
  [
    "the contact",
    "a NUL",
    visitorCall("chat.setContact", { email: "ada\u0000@example.com" }),
  ],
  [
    "the page",
    "a NUL in its title",
    visitorCall("chat.setPage", {
      url: `${origin}/cart`,
      title: "Cart\u0000",
    }),
  ],
  [
    "the page",
    "a NUL in its URL",
    visitorCall("chat.setPage", { url: `${origin}/cart\u0000` }),
  ],
  [
    "the boot's name",
    "a NUL",
    (server) =>
      server.rpc("chat.boot", { organizationId: "acme", name: "Ada\u0000" }, {
        origin,
      }),
  ],
  [
    "the boot's page",
    "a line feed in its title",
    (server) =>
      server.rpc("chat.boot", {
        organizationId: "acme",
        page: { url: `${origin}/`, title: "Home\nPage" },
      }, { origin }),
  ],
  [
    "the boot's visitorId",
    "a NUL",
    (server) =>
      server.rpc(
        "chat.boot",
        { organizationId: "acme", visitorId: "v\u0000" },
        {
          origin,
        },
      ),
  ],
  [
    "the organization id",
    "a NUL",
    (server) =>
      server.rpc("chat.getConfig", { organizationId: "acme\u0000" }, {
        origin,
      }),
  ],
  [
    "conversationId",
    "a NUL",
    agentCall(
      "agent.getConversation",
      (chat) => ({ conversationId: `${chat.conversationId}\u0000` }),
    ),
  ],
  [
    "an agent's reply",
    "a bell",
    agentCall(
      "agent.reply",
      (chat) => ({ conversationId: chat.conversationId, text: "Sure\u0007" }),
    ),
  ],
  [
    "the inbox cursor",
    "a NUL",
    agentCall("agent.listConversations", () => ({ cursor: "c1.1.a\u0000" })),
  ],
];

testEachEngine(
  "control characters in any string parameter are refused with 400 param.control_character, and none counts as a store failure",
  async (engine, t) => {
    await using server = await startServer({
      ...await serverStore(engine),
      policy: testPolicy(),
      env: SECRETS,
    });
    const chat = await chatting(server);
    for (const [where, what, call] of CONTROL_CHARACTER_ROWS) {
      await t.step(`${what} in ${where}`, async () => {
        const reply = await call(server, chat);
        assert.equal(reply.status, 400, JSON.stringify(reply.body));
        assert.equal(reply.body.error?.reason, "param.control_character");
      });
    }
    assert.equal(await storeErrors(server), 0);
  },
);

testEachEngine(
  "message text keeps tab, line feed and carriage return",
  async (engine) => {
    await using server = await startServer({
      ...await serverStore(engine),
      policy: testPolicy(),
      env: SECRETS,
    });
    const chat = await chatting(server);
    const text = "Order 42:\n\tthe blue one\r\n\tthe red one";
    const sent = await server.rpc("chat.sendMessage", { text }, {
      origin,
      token: chat.session,
    });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const read = await server.rpc("agent.getConversation", {
      organizationId: "acme",
      conversationId: chat.conversationId,
    }, admin);
    assert.equal(read.body.data.messages.at(-1).text, text);
  },
);

testEachEngine(
  "a verified token whose sub holds a NUL is refused (JWT_INVALID, jwt.sub), one whose user_data holds a NUL is kept, and neither is an outage",
  async (engine) => {
    await using server = await startServer({
      ...await serverStore(engine),
      policy: testPolicy(),
      env: SECRETS,
    });
    const badSub = await server.rpc("chat.boot", { organizationId: "acme" }, {
      origin,
      token: signWithJsonwebtoken(
        acmeClaims({ sub: "user\u000042" }),
        SECRETS.ACME_JWT_SECRET,
      ),
    });
    assert.equal(badSub.status, 401);
    assert.equal(badSub.body.error.reason, "jwt.sub");
    const user = await boot(
      server,
      signWithJsonwebtoken(
        acmeClaims({ sub: "user_7", user_data: { note: "a\u0000b" } }),
        SECRETS.ACME_JWT_SECRET,
      ),
    );
    const sent = await server.rpc("chat.sendMessage", { text: "Hi" }, {
      origin,
      token: user.session.token,
    });
    // The document keeps it as JSON's \u0000 escape on PostgreSQL too.
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const read = await server.rpc("agent.getConversation", {
      organizationId: "acme",
      conversationId: sent.body.data.conversationId,
    }, admin);
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assert.equal(await storeErrors(server), 0);
    const health = await fetch(`${server.baseUrl}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
  },
);

/** Opens a stream with a `Last-Event-ID`; the reply's status and body text. */
async function streamWith(
  server: ServerProcess,
  method: "chat.stream" | "agent.stream",
  token: string,
  lastEventId: string,
): Promise<{ status: number; text: string }> {
  const controller = new AbortController();
  const response = await fetch(`${server.baseUrl}/rpc/${method}`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Origin: origin,
      Authorization: `Bearer ${token}`,
      "Last-Event-ID": lastEventId,
    },
    body: method === "agent.stream" ? '{"organizationId":"acme"}' : "{}",
    signal: controller.signal,
  });
  if (response.status === 200) {
    controller.abort();
    await response.body?.cancel().catch(() => {});
    return { status: 200, text: "" };
  }
  return { status: response.status, text: await response.text() };
}

const MALFORMED_EVENT_IDS = [
  "not-an-id",
  "../../etc/passwd",
  "-1",
  "1e3",
  "€",
  "9".repeat(40),
];

testEachEngine(
  "a malformed Last-Event-ID is refused with 400 stream.last_event_id before any stream byte, and nothing like a stack reaches stderr",
  async (engine, t) => {
    await using server = await startServer({
      ...await serverStore(engine),
      policy: testPolicy(),
      env: SECRETS,
    });
    const chat = await chatting(server);
    const before = server.stderr().length;
    for (const lastEventId of MALFORMED_EVENT_IDS) {
      for (
        const [method, token] of [
          ["chat.stream", chat.session],
          ["agent.stream", SECRETS.ACME_ADMIN_KEY],
        ] as const
      ) {
        await t.step(
          `${method} with Last-Event-ID ${lastEventId}`,
          async () => {
            const reply = await streamWith(
              server,
              method,
              token,
              encodeURI(lastEventId),
            );
            assert.equal(reply.status, 400, reply.text);
            const body = JSON.parse(reply.text);
            assert.equal(body.error.code, "BAD_REQUEST");
            assert.equal(body.error.reason, "stream.last_event_id");
          },
        );
      }
    }
    await t.step(
      "agent.stream with a feed position it never handed out",
      async () => {
        const reply = await streamWith(
          server,
          "agent.stream",
          SECRETS.ACME_ADMIN_KEY,
          "99999",
        );
        assert.equal(reply.status, 400, reply.text);
        assert.equal(
          JSON.parse(reply.text).error.reason,
          "stream.last_event_id",
        );
      },
    );
    // The ids the streams hand out still resume them.
    assert.equal(
      (await streamWith(server, "chat.stream", chat.session, chat.messageId))
        .status,
      200,
    );
    assert.equal(
      (await streamWith(server, "agent.stream", SECRETS.ACME_ADMIN_KEY, "1"))
        .status,
      200,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stderr = server.stderr().slice(before);
    assert.doesNotMatch(stderr, /\bat \S+:\d+:\d+|Error|error/, stderr);
  },
);

testEachEngine(
  "an inbox cursor that is not one is 400 on both engines, € and made-up base64url included",
  async (engine, t) => {
    await using server = await startServer({
      ...await serverStore(engine),
      policy: testPolicy(),
      env: SECRETS,
    });
    await chatting(server);
    await chatting(server);
    const first = await server.rpc("agent.listConversations", {
      organizationId: "acme",
      limit: 1,
    }, admin);
    assert.equal(first.status, 200);
    for (
      const cursor of [
        "€",
        "not-a-cursor",
        "AmNoYXQAAmFjbWUAAmluYm94AA",
        `${first.body.data.cursor}€`,
      ]
    ) {
      await t.step(`cursor ${cursor}`, async () => {
        const reply = await server.rpc("agent.listConversations", {
          organizationId: "acme",
          cursor,
        }, admin);
        assert.equal(reply.status, 400, JSON.stringify(reply.body));
        assert.equal(reply.body.error.code, "BAD_REQUEST");
        assert.equal(reply.body.error.reason, "chat.cursor-invalid");
      });
    }
    const second = await server.rpc("agent.listConversations", {
      organizationId: "acme",
      limit: 1,
      cursor: first.body.data.cursor,
    }, admin);
    assert.equal(second.status, 200);
    assert.equal(second.body.data.conversations.length, 1);
    assert.equal(second.body.data.cursor, undefined, "the last page is full");
    assert.equal(await storeErrors(server), 0);
  },
);
