import assert from "node:assert/strict";
import type {
  AgentIdentity,
  AgentStreamEvent,
  ChatMessage,
  ConversationSummary,
  RpcData,
  RpcParams,
} from "../wire/mod.ts";
import { DEFAULT_ALERT_SETTINGS, InboxAlerts } from "./inbox_alerts.ts";
import {
  type AgentCallMethod,
  CREDENTIALS_KEY,
  type InboxDetails,
  type InboxEvents,
  type InboxList,
  InboxSession,
  type InboxTransport,
  type StreamOptions,
} from "./inbox_session.ts";
import { WidgetError } from "./widget_error.ts";

const ADA: AgentIdentity = { id: "ada", name: "Ada Lovelace" };
const GRACE: AgentIdentity = { id: "grace", name: "Grace Hopper" };
const ADA_KEY = "ada-key-0123456789abcdef0123456789";
const CREDENTIALS = { organizationId: "acme", key: ADA_KEY };

function conversation(
  id: string,
  fields: Partial<ConversationSummary> = {},
): ConversationSummary {
  return {
    id,
    visitor: { id: `v.${id.padEnd(22, "x")}`, name: `Visitor ${id}` },
    verified: false,
    status: "open",
    lastMessage: null,
    updatedAt: "2026-05-01T10:00:00.000Z",
    trimmed: 0,
    assignee: null,
    ...fields,
  };
}

function message(
  id: string,
  text: string,
  author: "visitor" | "agent" = "visitor",
): ChatMessage {
  return {
    id,
    text,
    author,
    at: "2026-05-01T10:00:00.000Z",
    ...(author === "agent" ? { agent: ADA } : {}),
  };
}

/** One `agent.stream` the session opened, driven by the test. */
interface FakeStream {
  readonly params: RpcParams<"agent.stream">;
  readonly key: string;
  readonly lastEventId: string;
  readonly signal: AbortSignal;
  /** Sends an event (with an id, when it has one). */
  send(event: AgentStreamEvent, id?: string): void;
  /** The server ends the stream. */
  end(): void;
  /** The connection breaks. */
  fail(): void;
}

type Handlers = {
  [M in AgentCallMethod]: (
    params: RpcParams<M>,
  ) => RpcData<M> | Promise<RpcData<M>>;
};

/** The server as the session sees it: `agent.*` calls and streams, recorded. */
class FakeServer implements InboxTransport {
  readonly calls: { method: string; params: unknown; key: string }[] = [];
  readonly streams: FakeStream[] = [];
  conversations: ConversationSummary[] = [];
  readonly messages = new Map<string, ChatMessage[]>();
  /** Refuses every call with this error. */
  refuse: WidgetError | undefined;
  readonly handlers: Handlers = {
    "agent.listConversations": ({ filter }) => ({
      conversations: this.conversations.filter((listed) =>
        filter === "mine"
          ? listed.assignee?.id === ADA.id
          : filter === "unassigned"
          ? listed.assignee === null
          : true
      ),
      agent: ADA,
      agents: [ADA, GRACE],
    }),
    "agent.getConversation": ({ conversationId }) => ({
      conversation: this.#find(conversationId),
      messages: this.messages.get(conversationId) ?? [],
    }),
    "agent.reply": ({ text }) => ({
      message: { ...message("m-reply", text, "agent") },
    }),
    "agent.assign": ({ conversationId, agentId }) => {
      const assignee = [ADA, GRACE].find(({ id }) => id === agentId) ?? null;
      return { conversation: this.#update(conversationId, { assignee }) };
    },
    "agent.close": ({ conversationId }) => ({
      conversation: this.#update(conversationId, { status: "closed" }),
    }),
    "agent.typing": () => ({}),
    "agent.securityReport": () => {
      throw new WidgetError({ code: "INTERNAL", message: "not in this fake" });
    },
  };

  call<M extends AgentCallMethod>(
    method: M,
    params: RpcParams<M>,
    key: string,
  ): Promise<RpcData<M>> {
    this.calls.push({ method, params, key });
    if (this.refuse !== undefined) return Promise.reject(this.refuse);
    const handler: Handlers[M] = this.handlers[method];
    return Promise.resolve().then(() => handler(params));
  }

  listen(
    params: RpcParams<"agent.stream">,
    key: string,
    options: StreamOptions,
    onEvent: (event: AgentStreamEvent, lastEventId: string) => void,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      let lastId = options.lastEventId;
      options.opened();
      this.streams.push({
        params,
        key,
        lastEventId: options.lastEventId,
        signal: options.signal,
        send(event, id) {
          if (id !== undefined) lastId = id;
          onEvent(event, lastId);
        },
        end: () => resolve(),
        fail: () =>
          reject(new WidgetError({ code: "UNAVAILABLE", message: "cut" })),
      });
      options.signal.addEventListener("abort", () => resolve());
    });
  }

  /** The calls of one method, their parameters in order. */
  paramsOf(method: string): unknown[] {
    return this.calls.filter((call) => call.method === method).map((call) =>
      call.params
    );
  }

  #find(id: string): ConversationSummary {
    const found = this.conversations.find((listed) => listed.id === id);
    if (found === undefined) {
      throw new WidgetError({ code: "BAD_REQUEST", message: "no such" });
    }
    return found;
  }

  #update(
    id: string,
    change: Partial<ConversationSummary>,
  ): ConversationSummary {
    const next = { ...this.#find(id), ...change };
    this.conversations = this.conversations.map((listed) =>
      listed.id === id ? next : listed
    );
    return next;
  }
}

/** What the page was told, in order. */
class PageRecord implements InboxEvents {
  readonly statuses: string[] = [];
  readonly signedInAs: (AgentIdentity | undefined)[] = [];
  readonly signedOutFor: string[] = [];
  readonly failures: { text: string; keyRefused: boolean; code: string }[] = [];
  readonly lists: InboxList[] = [];
  readonly opened: {
    details: InboxDetails;
    messages: readonly ChatMessage[];
  }[] = [];
  readonly details: InboxDetails[] = [];
  readonly added: ChatMessage[] = [];
  readonly typing: (string | undefined)[] = [];

  status(text: string): void {
    this.statuses.push(text);
  }
  signedIn(me: AgentIdentity | undefined): void {
    this.signedInAs.push(me);
  }
  signedOut(reason: string): void {
    this.signedOutFor.push(reason);
  }
  signInFailed(
    error: { text: string; keyRefused: boolean },
    code: string,
  ): void {
    this.failures.push({ ...error, code });
  }
  listChanged(list: InboxList): void {
    this.lists.push(list);
  }
  conversationOpened(
    details: InboxDetails,
    messages: readonly ChatMessage[],
  ): void {
    this.opened.push({ details, messages });
  }
  detailsChanged(details: InboxDetails): void {
    this.details.push(details);
  }
  messageAdded(added: ChatMessage): void {
    this.added.push(added);
  }
  typingChanged(label: string | undefined): void {
    this.typing.push(label);
  }

  get list(): InboxList {
    const last = this.lists.at(-1);
    assert.ok(last, "no list was shown");
    return last;
  }
}

/** A storage that keeps what it is given (sessionStorage's part the session uses). */
class MemoryStorage {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

/** A session on a fake server and page, with a clock and hidden-tab switch. */
function setUp() {
  const server = new FakeServer();
  const page = new PageRecord();
  const storage = new MemoryStorage();
  const effects = {
    titles: [] as string[],
    sounds: 0,
    notices: [] as { title: string; body: string }[],
  };
  let hidden = false;
  let now = 0;
  const alerts = new InboxAlerts({
    hidden: () => hidden,
    focused: () => !hidden,
    notificationsAllowed: () => true,
    setTitle: (title) => effects.titles.push(title),
    playSound: () => effects.sounds++,
    notify: ({ title, body }) => effects.notices.push({ title, body }),
  }, DEFAULT_ALERT_SETTINGS);
  const waits: number[] = [];
  const session = new InboxSession({
    transport: server,
    events: page,
    alerts,
    credentialStore: storage,
    hidden: () => hidden,
    wait: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
    random: () => 0,
    now: () => now,
    timers: { setTimeout: () => 1, clearTimeout: () => {} },
  });
  return {
    server,
    page,
    storage,
    effects,
    waits,
    session,
    hide: (value: boolean) => hidden = value,
    advance: (ms: number) => now += ms,
  };
}

/** Lets every pending promise and microtask run. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 5; turn++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** A set-up signed in to acme, with its stream open. */
async function signedIn(conversations: ConversationSummary[] = []) {
  const setup = setUp();
  setup.server.conversations = conversations;
  assert.equal(await setup.session.signIn(CREDENTIALS), true);
  await settle();
  return setup;
}

function stream(server: FakeServer, index = -1): FakeStream {
  const found = server.streams.at(index);
  assert.ok(found, "no stream was opened");
  return found;
}

Deno.test("signIn() proves the key with a list read, keeps it for the tab, says who signed in, and goes live", async () => {
  const { server, page, storage } = await signedIn([conversation("c1")]);
  assert.deepEqual(server.calls[0], {
    method: "agent.listConversations",
    params: { organizationId: "acme", filter: "all" },
    key: ADA_KEY,
  });
  assert.deepEqual(page.signedInAs, [ADA]);
  assert.deepEqual(page.list.conversations.map(({ id }) => id), ["c1"]);
  assert.equal(storage.getItem(CREDENTIALS_KEY), JSON.stringify(CREDENTIALS));
  assert.deepEqual(stream(server).params, { organizationId: "acme" });
  assert.equal(stream(server).key, ADA_KEY);
  assert.equal(page.statuses.at(-1), "Live");
});

Deno.test("signIn() with a refused key says so for that organization, keeps nothing and opens no stream", async () => {
  const { server, page, storage, session } = setUp();
  server.refuse = new WidgetError({
    code: "SESSION_INVALID",
    message: "A valid admin key is required",
    reason: "agent.key_invalid",
  });
  assert.equal(await session.signIn(CREDENTIALS), false);
  assert.equal(page.failures.length, 1);
  assert.equal(page.failures[0]!.code, "SESSION_INVALID");
  assert.equal(page.failures[0]!.keyRefused, true);
  assert.match(page.failures[0]!.text, /not accepted for organization “acme”/);
  assert.equal(storage.getItem(CREDENTIALS_KEY), null);
  assert.deepEqual(server.streams, []);
  assert.deepEqual(page.signedInAs, []);
});

Deno.test("restore() signs in with the tab's kept credentials, and ignores none or garbage", async () => {
  for (const kept of [null, "not json", '{"organizationId":3}']) {
    const { session, storage, server } = setUp();
    if (kept !== null) storage.setItem(CREDENTIALS_KEY, kept);
    assert.equal(session.restore(), false, String(kept));
    assert.deepEqual(server.calls, []);
  }
  const { session, storage, server, page } = setUp();
  storage.setItem(CREDENTIALS_KEY, JSON.stringify(CREDENTIALS));
  assert.equal(session.restore(), true);
  await settle();
  assert.deepEqual(page.signedInAs, [ADA]);
  assert.equal(server.streams.length, 1);
});

Deno.test("open() reads the conversation, marks it selected and read, and hands the page its details and messages", async () => {
  const { server, page, session, effects } = await signedIn([
    conversation("c1"),
    conversation("c2"),
  ]);
  server.messages.set("c2", [message("m1", "Hello")]);
  stream(server).send({
    event: "message",
    data: { conversationId: "c2", ...message("m1", "Hello") },
  }, "1");
  await settle();
  assert.deepEqual([...page.list.unread], ["c2"]);
  assert.equal(effects.titles.at(-1), "(1) Parley inbox");

  await session.open("c2");
  assert.deepEqual(server.paramsOf("agent.getConversation").at(-1), {
    organizationId: "acme",
    conversationId: "c2",
  });
  assert.equal(page.list.selected, "c2");
  assert.deepEqual([...page.list.unread], []);
  assert.equal(effects.titles.at(-1), "Parley inbox");
  const opened = page.opened.at(-1)!;
  assert.equal(opened.details.conversation.id, "c2");
  assert.deepEqual(opened.details.me, ADA);
  assert.deepEqual(opened.details.agents, [ADA, GRACE]);
  assert.deepEqual(opened.messages, [message("m1", "Hello")]);
});

Deno.test("a visitor message in the open conversation of a visible tab shows in the thread, unread nowhere, and stops their typing line", async () => {
  const { server, page, session, effects } = await signedIn([
    conversation("c1"),
  ]);
  await session.open("c1");
  stream(server).send({
    event: "typing",
    data: { conversationId: "c1", author: "visitor" },
  });
  assert.deepEqual(page.typing, ["Visitor c1 is typing…"]);
  stream(server).send({
    event: "message",
    data: { conversationId: "c1", ...message("m2", "Still there?") },
  }, "2");
  await settle();
  assert.deepEqual(page.added, [message("m2", "Still there?")]);
  assert.deepEqual(page.typing, ["Visitor c1 is typing…", undefined]);
  assert.deepEqual([...page.list.unread], []);
  assert.equal(effects.sounds, 0);
  assert.deepEqual(effects.notices, []);
});

Deno.test("a visitor message while the tab is hidden marks the conversation unread, chimes and notifies with the visitor's name", async () => {
  const { server, page, session, effects, hide } = await signedIn([
    conversation("c1", { visitor: { id: "v.ref", name: "Pat" } }),
  ]);
  await session.open("c1");
  hide(true);
  stream(server).send({
    event: "message",
    data: { conversationId: "c1", ...message("m3", "Hello?") },
  }, "3");
  await settle();
  assert.deepEqual([...page.list.unread], ["c1"]);
  assert.equal(effects.sounds, 1);
  assert.deepEqual(effects.notices, [{
    title: "Pat (unverified)",
    body: "Hello?",
  }]);
  hide(false);
  session.tabShown();
  assert.deepEqual([...page.list.unread], []);
});

Deno.test("a message of a conversation the list does not have yet alerts once the list read names its visitor", async () => {
  const { server, effects, hide } = await signedIn([]);
  hide(true);
  server.conversations = [
    conversation("c9", { visitor: { id: "v.ref", name: "New Shopper" } }),
  ];
  stream(server).send({
    event: "message",
    data: { conversationId: "c9", ...message("m1", "Hi") },
  }, "4");
  await settle();
  assert.deepEqual(effects.notices, [{
    title: "New Shopper (unverified)",
    body: "Hi",
  }]);
});

Deno.test("reply() sends the trimmed text to the open conversation and shows it; a refused reply says why and keeps the text", async () => {
  const { server, page, session } = await signedIn([conversation("c1")]);
  assert.equal(await session.reply("nobody open"), false, "no conversation");
  await session.open("c1");
  assert.equal(await session.reply("   "), false, "blank");
  assert.equal(await session.reply("  On its way.  "), true);
  assert.deepEqual(server.paramsOf("agent.reply"), [{
    organizationId: "acme",
    conversationId: "c1",
    text: "On its way.",
  }]);
  assert.equal(page.added.at(-1)?.text, "On its way.");

  server.refuse = new WidgetError({
    code: "RATE_LIMITED",
    message: "Slow down",
    retryAfter: 3,
  });
  assert.equal(await session.reply("Again"), false);
  assert.equal(page.statuses.at(-1), "Reply failed: RATE_LIMITED");
});

Deno.test("typed() tells the visitor at most once per 3 s, and at once again after a reply", async () => {
  const { server, session, advance } = await signedIn([conversation("c1")]);
  session.typed("ignored: nothing open");
  await session.open("c1");
  session.typed("H");
  session.typed("He");
  session.typed("   ");
  advance(2_999);
  session.typed("Hel");
  advance(1);
  session.typed("Hell");
  await settle();
  assert.equal(server.paramsOf("agent.typing").length, 2);
  await session.reply("Hello");
  session.typed("N");
  await settle();
  assert.deepEqual(server.paramsOf("agent.typing").at(-1), {
    organizationId: "acme",
    conversationId: "c1",
  });
  assert.equal(server.paramsOf("agent.typing").length, 3);
});

const ASSIGNMENTS: [
  string,
  (session: InboxSession) => Promise<void>,
  string | null,
][] = [
  [
    "assignToMe() assigns it to the agent signed in",
    (s) => s.assignToMe(),
    "ada",
  ],
  ["unassign() assigns it to nobody", (s) => s.unassign(), null],
  [
    "handOver() assigns it to the agent chosen",
    (s) => s.handOver("grace"),
    "grace",
  ],
];

for (const [name, act, agentId] of ASSIGNMENTS) {
  Deno.test(`${name}, shows the new assignee and reads the list again`, async () => {
    const { server, page, session } = await signedIn([
      conversation("c1", { assignee: GRACE }),
    ]);
    await session.open("c1");
    const reads = server.paramsOf("agent.listConversations").length;
    await act(session);
    assert.deepEqual(server.paramsOf("agent.assign"), [{
      organizationId: "acme",
      conversationId: "c1",
      agentId,
    }]);
    assert.equal(
      page.details.at(-1)?.conversation.assignee?.id ?? null,
      agentId,
    );
    assert.equal(server.paramsOf("agent.listConversations").length, reads + 1);
  });
}

Deno.test("a refused assignment says why and leaves the details as they were", async () => {
  const { server, page, session } = await signedIn([conversation("c1")]);
  await session.open("c1");
  server.refuse = new WidgetError({ code: "UNAVAILABLE", message: "down" });
  await session.assignToMe();
  assert.equal(page.statuses.at(-1), "Assign failed: UNAVAILABLE");
  assert.equal(page.details.length, 0);
});

Deno.test("closeConversation() closes the open conversation, reads it again closed, and the list after", async () => {
  const { server, page, session } = await signedIn([conversation("c1")]);
  await session.open("c1");
  await session.closeConversation();
  assert.deepEqual(server.paramsOf("agent.close"), [{
    organizationId: "acme",
    conversationId: "c1",
  }]);
  assert.equal(page.opened.at(-1)?.details.conversation.status, "closed");
  assert.equal(page.list.conversations[0]?.status, "closed");
});

Deno.test("stream events follow the open conversation: another agent's assignment and a close show in its details; another conversation's change only in the list", async () => {
  const { server, page, session } = await signedIn([
    conversation("c1"),
    conversation("c2"),
  ]);
  await session.open("c1");
  const reads = server.paramsOf("agent.listConversations").length;
  stream(server).send({
    event: "conversation",
    data: {
      conversationId: "c2",
      conversation: conversation("c2", { assignee: GRACE }),
    },
  }, "5");
  assert.equal(page.details.length, 0, "c2 is not open");
  stream(server).send({
    event: "conversation",
    data: {
      conversationId: "c1",
      conversation: conversation("c1", { assignee: GRACE }),
    },
  }, "6");
  assert.deepEqual(page.details.at(-1)?.conversation.assignee, GRACE);
  stream(server).send({
    event: "closed",
    data: { conversationId: "c1", reason: "conversation.closed" },
  }, "7");
  assert.equal(page.details.at(-1)?.conversation.status, "closed");
  await settle();
  assert.equal(server.paramsOf("agent.listConversations").length, reads + 3);
});

Deno.test("the first agent reply in an unassigned open conversation reads its details again (the server assigned it)", async () => {
  const { server, session } = await signedIn([conversation("c1")]);
  await session.open("c1");
  const reads = server.paramsOf("agent.getConversation").length;
  stream(server).send({
    event: "message",
    data: { conversationId: "c1", ...message("m4", "On it", "agent") },
  }, "8");
  await settle();
  assert.equal(server.paramsOf("agent.getConversation").length, reads + 1);
});

Deno.test("a stream that breaks says so, reconnects after a backoff from its last event id, and says Live again", async () => {
  const { server, page, waits } = await signedIn([conversation("c1")]);
  stream(server).send({
    event: "closed",
    data: { conversationId: "c1", reason: "conversation.closed" },
  }, "41");
  stream(server).fail();
  await settle();
  assert.ok(page.statuses.includes("Reconnecting…"));
  assert.equal(waits.length, 1);
  assert.equal(server.streams.length, 2);
  assert.equal(stream(server).lastEventId, "41");
  assert.equal(page.statuses.at(-1), "Live");
});

Deno.test("a stream the server ends because the key left the policy signs out, forgetting the key", async () => {
  const { server, page, storage } = await signedIn([conversation("c1")]);
  stream(server).send({
    event: "closed",
    data: { reason: "agent.key_invalid" },
  });
  stream(server).end();
  await settle();
  assert.deepEqual(page.signedOutFor, [
    "This key is no longer valid: sign in again",
  ]);
  assert.equal(storage.getItem(CREDENTIALS_KEY), null);
  assert.equal(server.streams.length, 1, "no reconnect");
});

Deno.test("signOut() ends the stream and forgets the key and the unread conversations", async () => {
  const { server, page, storage, session, effects, hide } = await signedIn([
    conversation("c1"),
  ]);
  hide(true);
  stream(server).send({
    event: "message",
    data: { conversationId: "c1", ...message("m5", "Hi") },
  }, "9");
  await settle();
  assert.equal(effects.titles.at(-1), "(1) Parley inbox");
  session.signOut();
  await settle();
  assert.equal(stream(server).signal.aborted, true);
  assert.equal(storage.getItem(CREDENTIALS_KEY), null);
  assert.equal(effects.titles.at(-1), "Parley inbox");
  assert.deepEqual(page.signedOutFor, ["Signed out"]);
  assert.equal(server.streams.length, 1, "no reconnect");
  assert.equal(session.organizationId, undefined);
});

Deno.test("showView() reads the list with the view; a read answered after a newer one is dropped", async () => {
  const { server, page, session } = await signedIn([
    conversation("c1", { assignee: ADA }),
    conversation("c2"),
  ]);
  let release: (() => void) | undefined;
  const list = server.handlers["agent.listConversations"];
  server.handlers["agent.listConversations"] = (params) =>
    params.filter === "all"
      ? new Promise((resolve) => release = () => resolve(list(params)))
      : list(params);
  const stale = session.showView("all");
  await settle();
  await session.showView("mine");
  release?.();
  await stale;
  assert.equal(page.list.view, "mine");
  assert.deepEqual(page.list.conversations.map(({ id }) => id), ["c1"]);
});

Deno.test("showView() that cannot read the list says so", async () => {
  const { server, page, session } = await signedIn([]);
  server.refuse = new WidgetError({ code: "UNAVAILABLE", message: "down" });
  await session.showView("unassigned");
  assert.equal(page.statuses.at(-1), "Could not load the list");
});
