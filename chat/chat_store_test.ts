import assert from "node:assert/strict";
import {
  testEachEngine,
  type TestEngine,
  type TestStore,
} from "../tests/store_engines.ts";
import { ChatError } from "./chat_error.ts";
import {
  ChatStore,
  type ChatStoreOptions,
  type Conversation,
  type Participant,
} from "./chat_store.ts";
import { LiveFeed } from "./live_feed.ts";
import type { WatchEvent, WatchListener } from "./live_watch.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

interface Fixture {
  store: ChatStore;
  live: LiveFeed;
  records: TestStore;
  engine: TestEngine;
  clock: { ms: number };
  /** The chat on a second connection to the same store: another process or host. */
  elsewhere(options?: ChatStoreOptions): Promise<ChatStore>;
}

/** A chat store on a fresh store of `engine`, with a clock the test moves. */
async function withStore(
  engine: TestEngine,
  options: ChatStoreOptions,
  run: (fixture: Fixture) => Promise<void>,
): Promise<void> {
  await using records = await engine.open();
  const opened: TestStore[] = [];
  const clock = { ms: Date.UTC(2026, 0, 15, 12) };
  const fixture: Fixture = {
    records,
    engine,
    clock,
    store: new ChatStore(records.conversations, {
      now: () => clock.ms,
      ...options,
    }),
    live: new LiveFeed(records.conversations, records.changes),
    async elsewhere(elsewhereOptions = options) {
      const other = await engine.open(records.location);
      opened.push(other);
      return new ChatStore(other.conversations, {
        now: () => clock.ms,
        ...elsewhereOptions,
      });
    },
  };
  try {
    await run(fixture);
  } finally {
    for (const other of opened) await other[Symbol.asyncDispose]();
  }
}

function visitor(store: ChatStore): Participant {
  return { kind: "visitor", visitorId: store.newVisitorId() };
}

/** A new anonymous visitor's conversation in `acme`. */
function newVisitorConversation(store: ChatStore): Promise<Conversation> {
  return store.openConversation("acme", visitor(store), {});
}

async function appendMany(
  fixture: Fixture,
  organizationId: string,
  conversationId: string,
  texts: string[],
  keep?: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (const text of texts) {
    fixture.clock.ms += 1;
    const message = await fixture.store.append(
      organizationId,
      conversationId,
      "visitor",
      text,
      keep === undefined ? {} : { keep },
    );
    ids.push(message.id);
  }
  return ids;
}

async function assertChatError(
  promise: Promise<unknown>,
  code: ChatError["code"],
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ChatError, String(error));
    assert.equal(error.code, code);
    return true;
  });
}

/** Each event's message text; a `closed` event reads `"(closed)"`. */
function texts(events: readonly WatchEvent[]): string[] {
  return events.map((event) =>
    event.kind === "message" ? event.message.text : "(closed)"
  );
}

/** The next `count` events of a watch (those `keep` keeps), or a failure after `timeoutMs`. */
async function take(
  iterator: AsyncIterator<WatchEvent>,
  count: number,
  timeoutMs = 5_000,
  keep: (event: WatchEvent) => boolean = () => true,
): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Watch gave ${events.length} of ${count}`)),
      timeoutMs,
    );
  });
  try {
    while (events.length < count) {
      const result = await Promise.race([iterator.next(), timeout]);
      if (result.done) break;
      if (keep(result.value)) events.push(result.value);
    }
  } finally {
    clearTimeout(timer);
  }
  return events;
}

/**
 * Waits until a watch opened without a cursor has caught up: where it
 * starts (a conversation's newest message, the organization's feed head) is
 * read then, so an event written while it starts may or may not count as
 * newer. A typing notice is never read back, so hearing one means the watch
 * is live. Notices go out until one is heard, since one written before the
 * organization's hub knows its feed head is not delivered.
 */
async function untilLive(
  iterator: AsyncIterator<WatchEvent>,
  store: ChatStore,
  conversationId: string,
): Promise<void> {
  const next = iterator.next();
  for (let attempt = 0; attempt < 50; attempt++) {
    await store.typing("acme", conversationId, "agent", ADA);
    let timer: number | undefined;
    const heard = await Promise.race([
      next,
      new Promise<undefined>((resolve) => timer = setTimeout(resolve, 100)),
    ]);
    // The test's own end must not find this wait still pending.
    clearTimeout(timer);
    if (heard === undefined) continue;
    assert.equal(heard.done ? "(done)" : heard.value.kind, "typing");
    return;
  }
  throw new Error("The watch did not go live");
}

/** Live events other than typing notices. */
const notTyping = (event: WatchEvent) => event.kind !== "typing";

testEachEngine(
  "openConversation() lets a verified user continue on another device",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store } = fixture;
      const user: Participant = { kind: "user", subject: "user-42" };
      const laptop = await store.openConversation("acme", user, {
        userId: "user-42",
        name: "Ada",
      });
      assert.equal(laptop.verified, true);
      await store.append("acme", laptop.id, "visitor", "Hello from the laptop");

      const phone = await store.openConversation("acme", user, {
        email: "ada@example.com",
      });
      assert.equal(phone.id, laptop.id);
      assert.deepEqual(phone.attributes, {
        userId: "user-42",
        email: "ada@example.com",
        name: "Ada",
      });
      const history = await store.listMessages("acme", phone.id);
      assert.deepEqual(history.map((message) => message.text), [
        "Hello from the laptop",
      ]);
    });
  },
);

testEachEngine(
  "openConversation() never lets an unverified user_id reach a user's history",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store } = fixture;
      const user = await store.openConversation(
        "acme",
        { kind: "user", subject: "user-42" },
        { userId: "user-42" },
      );
      await store.append("acme", user.id, "visitor", "My private question");

      const impostor = await store.openConversation("acme", visitor(store), {
        userId: "user-42",
        email: "ada@example.com",
      });
      assert.notEqual(impostor.id, user.id);
      assert.equal(impostor.verified, false);
      assert.deepEqual(await store.listMessages("acme", impostor.id), []);
    });
  },
);

testEachEngine(
  "openConversation() keeps each visitor id to its own conversation",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store } = fixture;
      const ada = visitor(store);
      const first = await store.openConversation("acme", ada, {});
      const again = await store.openConversation("acme", ada, {});
      const other = await newVisitorConversation(store);
      assert.equal(again.id, first.id);
      assert.notEqual(other.id, first.id);
    });
  },
);

testEachEngine(
  "openConversation() ends concurrent boots of one participant with one conversation",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store } = fixture;
      const participant = visitor(store);
      const opened = await Promise.all(
        Array.from(
          { length: 12 },
          (_, index) =>
            store.openConversation("acme", participant, {
              name: `Tab ${index}`,
            }),
        ),
      );
      assert.equal(
        new Set(opened.map((conversation) => conversation.id)).size,
        1,
      );
      // Everything acme has is purged at once: one conversation was stored.
      assert.equal(
        await fixture.records.conversations.purge("acme", Infinity),
        1,
      );
    });
  },
);

testEachEngine(
  "openConversation() refuses a visitor id it could not have issued",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store } = fixture;
      assert.match(store.newVisitorId(), /^[A-Za-z0-9_-]{24}$/);
      for (
        const visitorId of ["", "short", "x".repeat(65), "../../etc", "a b"]
      ) {
        await assertChatError(
          store.openConversation("acme", { kind: "visitor", visitorId }, {}),
          "participant-invalid",
        );
      }
      await assertChatError(
        store.openConversation("acme", { kind: "user", subject: "" }, {}),
        "participant-invalid",
      );
    });
  },
);

testEachEngine(
  "append() and listMessages() keep order and page with after and limit",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store } = fixture;
      const conversation = await newVisitorConversation(store);
      const texts = Array.from({ length: 7 }, (_, index) => `m${index}`);
      const ids = await appendMany(fixture, "acme", conversation.id, texts);
      assert.deepEqual([...ids].sort(), ids);

      const all = await store.listMessages("acme", conversation.id);
      assert.deepEqual(all.map((message) => message.text), texts);
      assert.equal(all[0]?.author, "visitor");

      const first = await store.listMessages("acme", conversation.id, {
        limit: 3,
      });
      assert.deepEqual(first.map((message) => message.text), [
        "m0",
        "m1",
        "m2",
      ]);
      const second = await store.listMessages("acme", conversation.id, {
        after: first.at(-1)?.id ?? "",
        limit: 3,
      });
      assert.deepEqual(second.map((message) => message.text), [
        "m3",
        "m4",
        "m5",
      ]);
      const rest = await store.listMessages("acme", conversation.id, {
        after: second.at(-1)?.id ?? "",
        limit: 3,
      });
      assert.deepEqual(rest.map((message) => message.text), ["m6"]);
      assert.deepEqual(
        await store.listMessages("acme", conversation.id, {
          after: ids[6] ?? "",
        }),
        [],
      );
      const current = await store.getConversation("acme", conversation.id);
      const recent = await store.recentMessages(current!, 2);
      assert.deepEqual(recent.map((message) => message.text), ["m5", "m6"]);
      assert.deepEqual(
        await store.recentMessages(conversation, 2),
        [],
        "the conversation as opened had no messages",
      );
    });
  },
);

testEachEngine(
  "append() keeps ids increasing when the clock stands still or steps back",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store, clock } = fixture;
      const conversation = await newVisitorConversation(store);
      const ids = [];
      for (const step of [0, 0, -5_000, 0, 10]) {
        clock.ms += step;
        ids.push(
          (await store.append("acme", conversation.id, "agent", "x")).id,
        );
      }
      assert.deepEqual([...ids].sort(), ids);
      assert.equal(new Set(ids).size, ids.length);
    });
  },
);

testEachEngine(
  "append() updates the conversation's lastMessage and updatedAt",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store, clock } = fixture;
      const conversation = await newVisitorConversation(store);
      clock.ms += 60_000;
      const message = await store.append(
        "acme",
        conversation.id,
        "agent",
        "Hi",
      );
      const stored = await store.getConversation("acme", conversation.id);
      assert.deepEqual(stored?.lastMessage, message);
      assert.equal(stored?.updatedAt, new Date(clock.ms).toISOString());
      assert.equal(stored?.messageCount, 1);
    });
  },
);

testEachEngine("append() refuses blank and overlong text", async (engine) => {
  await withStore(engine, { maxMessageLength: 10 }, async (fixture) => {
    const { store } = fixture;
    const conversation = await newVisitorConversation(store);
    for (const text of ["", "   \n", "x".repeat(11)]) {
      await assertChatError(
        store.append("acme", conversation.id, "visitor", text),
        "message-invalid",
      );
    }
    await store.append("acme", conversation.id, "visitor", "x".repeat(10));
  });
});

testEachEngine(
  "append() drops the oldest messages beyond the per-conversation bound",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store } = fixture;
      const conversation = await newVisitorConversation(store);
      const texts = Array.from({ length: 8 }, (_, index) => `m${index}`);
      await appendMany(fixture, "acme", conversation.id, texts, 5);
      const kept = await store.listMessages("acme", conversation.id);
      assert.deepEqual(kept.map((message) => message.text), [
        "m3",
        "m4",
        "m5",
        "m6",
        "m7",
      ]);
      const stored = await store.getConversation("acme", conversation.id);
      assert.equal(stored?.messageCount, 5);
      assert.equal(stored?.trimmed, 3, "the trimmed messages are counted");
    });
  },
);

testEachEngine(
  "ChatStore keeps another organization's conversation out of reach",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store } = fixture;
      const participant = visitor(store);
      const acme = await store.openConversation("acme", participant, {});
      await store.append("acme", acme.id, "visitor", "Acme only");

      assert.equal(await store.getConversation("globex", acme.id), undefined);
      await assertChatError(
        store.append("globex", acme.id, "agent", "Hello"),
        "conversation-not-found",
      );
      await assertChatError(
        store.listMessages("globex", acme.id),
        "conversation-not-found",
      );
      assert.equal(await store.close("globex", acme.id), undefined);
      const sameVisitorElsewhere = await store.openConversation(
        "globex",
        participant,
        {},
      );
      assert.notEqual(sameVisitorElsewhere.id, acme.id);
      assert.deepEqual(
        await store.listMessages("globex", sameVisitorElsewhere.id),
        [],
      );
      assert.deepEqual(
        (await store.listConversations("globex")).conversations,
        [],
      );
    });
  },
);

testEachEngine(
  "close() ends a conversation; the participant's next open starts a new one",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store } = fixture;
      const participant = visitor(store);
      const first = await store.openConversation("acme", participant, {});
      await store.append("acme", first.id, "visitor", "Thanks, bye");
      const closed = await store.close("acme", first.id);
      assert.equal(closed?.status, "closed");
      assert.equal((await store.close("acme", first.id))?.status, "closed");
      await assertChatError(
        store.append("acme", first.id, "agent", "Anything else?"),
        "conversation-closed",
      );

      const second = await store.openConversation("acme", participant, {});
      assert.notEqual(second.id, first.id);
      assert.equal(second.status, "open");
      assert.deepEqual(await store.listMessages("acme", second.id), []);
      assert.equal(
        (await store.listMessages("acme", first.id))[0]?.text,
        "Thanks, bye",
      );
    });
  },
);

testEachEngine(
  "listConversations() lists conversations with messages, newest first, in pages",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store, clock } = fixture;
      const ids: string[] = [];
      for (let index = 0; index < 5; index++) {
        const conversation = await store.openConversation(
          "acme",
          visitor(store),
          { name: `Visitor ${index}` },
        );
        clock.ms += 1_000;
        await store.append(
          "acme",
          conversation.id,
          "visitor",
          `hello ${index}`,
        );
        ids.push(conversation.id);
      }
      await newVisitorConversation(store); // no messages
      clock.ms += 1_000;
      await store.append("acme", ids[1] ?? "", "agent", "Back to you");

      const first = await store.listConversations("acme", { limit: 2 });
      assert.deepEqual(
        first.conversations.map((conversation) => conversation.id),
        [ids[1], ids[4]],
      );
      assert.equal(first.conversations[0]?.lastMessage?.text, "Back to you");
      assert.ok(first.cursor);
      const second = await store.listConversations("acme", {
        limit: 2,
        cursor: first.cursor,
      });
      assert.deepEqual(
        second.conversations.map((conversation) => conversation.id),
        [ids[3], ids[2]],
      );
      const last = await store.listConversations("acme", {
        limit: 2,
        ...(second.cursor === undefined ? {} : { cursor: second.cursor }),
      });
      assert.deepEqual(
        last.conversations.map((conversation) => conversation.id),
        [ids[0]],
      );
      assert.equal(last.cursor, undefined);
      await assertChatError(
        store.listConversations("acme", { cursor: "not a cursor!" }),
        "cursor-invalid",
      );
    });
  },
);

testEachEngine(
  "LiveFeed delivers messages appended after it starts",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store } = fixture;
      const conversation = await newVisitorConversation(store);
      await store.append(
        "acme",
        conversation.id,
        "visitor",
        "before the watch",
      );
      const controller = new AbortController();
      const iterator = fixture.live.conversation("acme", conversation.id, {
        signal: controller.signal,
      })[Symbol.asyncIterator]();
      await untilLive(iterator, store, conversation.id);
      const arriving = take(iterator, 2, 5_000, notTyping);
      await store.append("acme", conversation.id, "visitor", "one");
      await store.append("acme", conversation.id, "agent", "two");
      const events = await arriving;
      assert.deepEqual(texts(events), ["one", "two"]);
      const second = events[1];
      assert.ok(second?.kind === "message");
      assert.equal(second.message.author, "agent");
      assert.equal(second.cursor, second.message.id);
      assert.equal(events[0]?.conversationId, conversation.id);
      controller.abort();
      assert.equal((await iterator.next()).done, true);
    });
  },
);

testEachEngine(
  "LiveFeed resumes from after without loss or duplicates",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store } = fixture;
      const conversation = await newVisitorConversation(store);
      const ids = await appendMany(fixture, "acme", conversation.id, [
        "a",
        "b",
        "c",
      ]);
      const controller = new AbortController();
      const iterator = fixture.live.conversation("acme", conversation.id, {
        after: ids[0] ?? "",
        signal: controller.signal,
      })[Symbol.asyncIterator]();
      const arriving = take(iterator, 4);
      await appendMany(fixture, "acme", conversation.id, ["d", "e"]);
      const events = await arriving;
      assert.deepEqual(texts(events), [
        "b",
        "c",
        "d",
        "e",
      ]);
      controller.abort();
      assert.equal((await iterator.next()).done, true);
    });
  },
);

testEachEngine(
  "LiveFeed of a conversation ends with a closed event once an agent closes it",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store } = fixture;
      const conversation = await newVisitorConversation(store);
      const controller = new AbortController();
      // From its first message: the new conversation has none before "bye".
      const iterator = fixture.live.conversation("acme", conversation.id, {
        after: "",
        signal: controller.signal,
      })[Symbol.asyncIterator]();
      const arriving = take(iterator, 2);
      const last = await store.append("acme", conversation.id, "agent", "bye");
      await store.close("acme", conversation.id);
      const events = await arriving;
      assert.deepEqual(texts(events), ["bye", "(closed)"]);
      assert.deepEqual(events[1], {
        kind: "closed",
        conversationId: conversation.id,
        cursor: last.id,
      });
      // The watch ends by itself: nothing more can arrive.
      assert.equal((await iterator.next()).done, true);
      assert.equal(controller.signal.aborted, false);
    });
  },
);

testEachEngine(
  "LiveFeed of an already closed conversation delivers the rest after the cursor, then closed",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store } = fixture;
      const conversation = await newVisitorConversation(store);
      const first = await store.append("acme", conversation.id, "visitor", "a");
      await store.append("acme", conversation.id, "agent", "b");
      await store.close("acme", conversation.id);
      const events: WatchEvent[] = [];
      for await (
        const event of fixture.live.conversation("acme", conversation.id, {
          after: first.id,
          signal: new AbortController().signal,
        })
      ) events.push(event);
      assert.deepEqual(texts(events), ["b", "(closed)"]);
    });
  },
);

testEachEngine(
  "LiveFeed of a whole organization reports a close and goes on",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store } = fixture;
      const first = await newVisitorConversation(store);
      const second = await newVisitorConversation(store);
      await store.append("acme", first.id, "visitor", "hello");
      const controller = new AbortController();
      const iterator = fixture.live.organization("acme", {
        signal: controller.signal,
      })[Symbol.asyncIterator]();
      await untilLive(iterator, store, first.id);
      const arriving = take(iterator, 3, 5_000, notTyping);
      await store.close("acme", first.id);
      await store.append("acme", second.id, "visitor", "still here");
      await store.close("acme", second.id);
      const events = await arriving;
      assert.deepEqual(
        events.map((event, i) => [event.conversationId, texts(events)[i]]),
        [[first.id, "(closed)"], [second.id, "still here"], [
          second.id,
          "(closed)",
        ]],
      );
      controller.abort();
      assert.equal((await iterator.next()).done, true);
    });
  },
);

testEachEngine(
  "LiveFeed of an unknown conversation fails with conversation-not-found",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const controller = new AbortController();
      const iterator = fixture.live.conversation(
        "acme",
        "no-such-conversation",
        {
          signal: controller.signal,
        },
      )[Symbol.asyncIterator]();
      await assertChatError(iterator.next(), "conversation-not-found");
    });
  },
);

testEachEngine(
  "LiveFeed of a whole organization delivers every conversation's messages and resumes",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store } = fixture;
      const first = await newVisitorConversation(store);
      const second = await newVisitorConversation(store);
      const elsewhere = await store.openConversation(
        "globex",
        visitor(store),
        {},
      );
      await store.append("acme", first.id, "visitor", "old news");

      const controller = new AbortController();
      const iterator = fixture.live.organization("acme", {
        signal: controller.signal,
      })[Symbol.asyncIterator]();
      await untilLive(iterator, store, first.id);
      const arriving = take(iterator, 3, 5_000, notTyping);
      await store.append("acme", first.id, "visitor", "first");
      await store.append("globex", elsewhere.id, "visitor", "not acme");
      await store.append("acme", second.id, "visitor", "second");
      await store.append("acme", first.id, "agent", "third");
      const events = await arriving;
      assert.deepEqual(
        events.map((event, i) => [event.conversationId, texts(events)[i]]),
        [[first.id, "first"], [second.id, "second"], [first.id, "third"]],
      );
      controller.abort();
      assert.equal((await iterator.next()).done, true);

      // Resume after the first event, as a reconnecting agent stream would.
      const resumed = new AbortController();
      const again = fixture.live.organization("acme", {
        after: events[0]?.kind === "message" ? events[0].cursor : "",
        signal: resumed.signal,
      })[Symbol.asyncIterator]();
      const replay = take(again, 3);
      await store.append("acme", second.id, "visitor", "fourth");
      assert.deepEqual(
        texts(await replay),
        ["second", "third", "fourth"],
      );
      resumed.abort();
      assert.equal((await again.next()).done, true);
      await assertChatError(
        fixture.live.organization("acme", {
          after: "forged",
          signal: new AbortController().signal,
        })[Symbol.asyncIterator]().next(),
        "cursor-invalid",
      );
    });
  },
);

/** A pushed watch's listener that collects what it hears. */
class Heard implements WatchListener {
  readonly events: WatchEvent[] = [];
  ended: { error?: unknown } | undefined;
  event(event: WatchEvent): void {
    this.events.push(event);
  }
  end(error?: unknown): void {
    this.ended = { error };
  }
  /** Waits until `count` events or the end arrived. */
  async until(count: number, timeoutMs = 5_000): Promise<WatchEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < count && this.ended === undefined) {
      if (Date.now() > deadline) {
        throw new Error(`Heard ${this.events.length} of ${count}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.events;
  }
}

testEachEngine(
  "LiveFeed.prepare() holds what the feed brings until follow(), so a read made after prepare() needs no catch-up read",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store } = fixture;
      const conversation = await newVisitorConversation(store);
      const other = await newVisitorConversation(store);
      const pending = fixture.live.prepare("acme");
      await pending.ready;
      const shown = await store.append(
        "acme",
        conversation.id,
        "visitor",
        "read",
      );
      // Between the caller's read and follow(): held, then delivered.
      await store.append("acme", conversation.id, "agent", "held");
      await store.append("acme", other.id, "agent", "someone else's");
      await new Promise((resolve) => setTimeout(resolve, 50));
      const heard = new Heard();
      const watch = pending.follow(conversation.id, shown.id, heard);
      await store.append("acme", conversation.id, "agent", "live");
      assert.deepEqual(texts(await heard.until(2)), ["held", "live"]);
      await store.close("acme", conversation.id);
      await heard.until(3);
      assert.deepEqual(texts(heard.events), ["held", "live", "(closed)"]);
      assert.deepEqual(heard.ended, { error: undefined });
      watch.stop();
    });
  },
);

testEachEngine(
  "LiveFeed.prepare() then cancel() leaves nothing registered, and a lingering hub ends with close()",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const live = new LiveFeed(
        fixture.records.conversations,
        fixture.records.changes,
        { lingerMs: 60_000 },
      );
      const pending = live.prepare("acme");
      await pending.ready;
      pending.cancel();
      pending.cancel();
      assert.equal(live.watchedOrganizations, 1, "the hub lingers");
      const conversation = await newVisitorConversation(fixture.store);
      const heard = new Heard();
      // From its first message: "hi" is heard however the watch's start and
      // the append interleave (the default, after the newest, is read as the
      // watch starts and may already include it).
      const watch = live.watchConversation(
        "acme",
        conversation.id,
        { after: "" },
        heard,
      );
      await fixture.store.append("acme", conversation.id, "agent", "hi");
      assert.deepEqual(texts(await heard.until(1)), ["hi"]);
      watch.stop();
      assert.equal(live.watchedOrganizations, 1);
      live.close();
      assert.equal(live.watchedOrganizations, 0);
      assert.equal(fixture.live.watchedOrganizations, 0);
    });
  },
);

testEachEngine(
  "LiveFeed.watchConversation() pushes the rest after a cursor, then live, to its listener; stop() silences it",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store } = fixture;
      const conversation = await newVisitorConversation(store);
      const ids = await appendMany(fixture, "acme", conversation.id, [
        "a",
        "b",
      ]);
      const heard = new Heard();
      const watch = fixture.live.watchConversation(
        "acme",
        conversation.id,
        { after: ids[0] },
        heard,
      );
      await heard.until(1);
      await store.append("acme", conversation.id, "agent", "c");
      assert.deepEqual(texts(await heard.until(2)), ["b", "c"]);
      watch.stop();
      await store.append("acme", conversation.id, "agent", "d");
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(texts(heard.events), ["b", "c"]);
      assert.equal(heard.ended, undefined, "a stopped watch is not ended");
      assert.equal(fixture.live.watchedOrganizations, 0);
      assert.throws(
        () =>
          fixture.live.watchConversation("acme", conversation.id, {
            after: "forged",
          }, heard),
        (error: unknown) =>
          error instanceof ChatError && error.code === "cursor-invalid",
      );
    });
  },
);

testEachEngine(
  "LiveFeed sees messages that another process appends to the same store",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store } = fixture;
      const conversation = await newVisitorConversation(store);
      const controller = new AbortController();
      const iterator = fixture.live.conversation("acme", conversation.id, {
        after: "",
        signal: controller.signal,
      })[Symbol.asyncIterator]();
      const arriving = take(iterator, 3, 15_000);
      await runAppendWorkers(fixture.records.location, conversation.id, 1, 3);
      const events = await arriving;
      assert.equal(events.length, 3);
      controller.abort();
      assert.equal((await iterator.next()).done, true);
    });
  },
);

testEachEngine(
  "append() from several processes on one store keeps every message in order",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store } = fixture;
      const conversation = await newVisitorConversation(store);
      await runAppendWorkers(fixture.records.location, conversation.id, 8, 20);
      const messages = await store.listMessages("acme", conversation.id, {
        limit: 200,
      });
      assert.equal(messages.length, 160);
      const ids = messages.map((message) => message.id);
      assert.equal(new Set(ids).size, 160);
      assert.deepEqual([...ids].sort(), ids);
      for (let worker = 0; worker < 8; worker++) {
        const own = messages
          .map((message) => message.text)
          .filter((text) => text.startsWith(`worker ${worker}:`));
        assert.deepEqual(
          own,
          Array.from(
            { length: 20 },
            (_, index) => `worker ${worker}: ${index}`,
          ),
        );
      }
      const stored = await store.getConversation("acme", conversation.id);
      assert.equal(stored?.messageCount, 160);
      assert.equal(stored?.lastMessage?.id, ids.at(-1));
    });
  },
);

testEachEngine(
  "purgeExpired() deletes only conversations idle past the retention",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store, clock } = fixture;
      const participant = visitor(store);
      const old = await store.openConversation("acme", participant, {});
      await store.append("acme", old.id, "visitor", "from long ago");
      const oldEmpty = await newVisitorConversation(store);
      const globex = await store.openConversation("globex", visitor(store), {});
      clock.ms += 80 * DAY_MS;
      const recent = await newVisitorConversation(store);
      await store.append("acme", recent.id, "visitor", "recent");
      clock.ms += 20 * DAY_MS;

      assert.equal(await store.purgeExpired("acme", 90 * DAY_MS), 2);
      assert.equal(await store.getConversation("acme", old.id), undefined);
      assert.equal(await store.getConversation("acme", oldEmpty.id), undefined);
      assert.ok(await store.getConversation("acme", recent.id));
      assert.ok(await store.getConversation("globex", globex.id));
      assert.deepEqual(
        await fixture.records.conversations.messages("acme", old.id, {
          limit: 10,
        }),
        [],
        "the purged conversation's messages are gone",
      );
      assert.deepEqual(
        (await store.listConversations("acme")).conversations.map((c) => c.id),
        [recent.id],
      );
      // The purged visitor starts afresh, with none of the old history.
      const next = await store.openConversation("acme", participant, {});
      assert.notEqual(next.id, old.id);
      assert.equal(await store.purgeExpired("acme", 90 * DAY_MS), 0);
    });
  },
);

testEachEngine(
  "ChatStore loses nothing when the server restarts on the same store",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const user: Participant = { kind: "user", subject: "user-7" };
      const before = await fixture.store.openConversation("acme", user, {
        name: "Grace",
      });
      await appendMany(fixture, "acme", before.id, ["one", "two"]);

      const store = await fixture.elsewhere();
      const after = await store.openConversation("acme", user, {});
      assert.equal(after.id, before.id);
      assert.equal(after.attributes.name, "Grace");
      await store.append("acme", after.id, "agent", "three");
      assert.deepEqual(
        (await store.listMessages("acme", after.id)).map((m) => m.text),
        ["one", "two", "three"],
      );
      assert.equal(
        (await store.listConversations("acme")).conversations[0]?.id,
        before.id,
      );
    });
  },
);

/** Runs `workers` processes, each appending `count` messages to one conversation. */
async function runAppendWorkers(
  path: string,
  conversationId: string,
  workers: number,
  count: number,
): Promise<void> {
  const script = new URL("./testdata/append_worker.ts", import.meta.url);
  const outputs = await Promise.all(
    Array.from(
      { length: workers },
      (_, worker) =>
        new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            "--unstable-kv",
            script.href,
            path,
            "acme",
            conversationId,
            String(worker),
            String(count),
          ],
          stdout: "piped",
          stderr: "piped",
        }).output(),
    ),
  );
  for (const output of outputs) {
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  }
}

testEachEngine(
  "openConversation() follows a conversation another process closed and replaced",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const user: Participant = { kind: "user", subject: "user-9" };
      // Two stores on one KV play two server processes.
      const other = await fixture.elsewhere();
      const first = await fixture.store.openConversation("acme", user, {});
      await other.close("acme", first.id);
      const replacement = await other.openConversation("acme", user, {});
      assert.notEqual(replacement.id, first.id);
      // This process remembered the first conversation; it must not reuse it.
      const seen = await fixture.store.openConversation("acme", user, {});
      assert.equal(seen.id, replacement.id);
      assert.equal(seen.status, "open");
    });
  },
);

const ADA = { id: "ada", name: "Ada Lovelace" };
const GRACE = { id: "grace", name: "Grace Hopper" };

testEachEngine(
  "append() by an agent names the agent, and the first agent who replies is assigned",
  async (engine) => {
    await withStore(engine, {}, async ({ store }) => {
      const conversation = await newVisitorConversation(store);
      await store.append("acme", conversation.id, "visitor", "Hello?");
      const first = await store.append("acme", conversation.id, "agent", "Hi", {
        agent: ADA,
      });
      await store.append("acme", conversation.id, "agent", "Me too", {
        agent: GRACE,
      });
      assert.deepEqual(first.agent, ADA);
      const stored = await store.getConversation("acme", conversation.id);
      assert.deepEqual(stored?.assignee, ADA, "the first replier keeps it");
      const visitorMessage = await store.append(
        "acme",
        conversation.id,
        "visitor",
        "Thanks",
      );
      assert.equal(visitorMessage.agent, undefined);
    });
  },
);

testEachEngine(
  "assign() hands a conversation over or to nobody, and listConversations() filters by assignee",
  async (engine) => {
    await withStore(engine, {}, async ({ store }) => {
      const mine = await newVisitorConversation(store);
      const theirs = await newVisitorConversation(store);
      const nobodys = await newVisitorConversation(store);
      for (const { id } of [mine, theirs, nobodys]) {
        await store.append("acme", id, "visitor", "Hello");
      }
      assert.deepEqual(
        (await store.assign("acme", mine.id, ADA))?.assignee,
        ADA,
      );
      await store.assign("acme", theirs.id, GRACE);
      await store.assign("acme", nobodys.id, ADA);
      const unassigned = await store.assign("acme", nobodys.id, null);
      assert.equal(unassigned?.assignee, undefined);
      const ids = async (assignee: string | null | undefined) =>
        (await store.listConversations("acme", {
          ...(assignee === undefined ? {} : { filter: { assignee } }),
        })).conversations.map((conversation) => conversation.id).sort();
      assert.deepEqual(await ids("ada"), [mine.id]);
      assert.deepEqual(await ids("grace"), [theirs.id]);
      assert.deepEqual(await ids(null), [nobodys.id]);
      assert.deepEqual(
        await ids(undefined),
        [mine.id, theirs.id, nobodys.id].sort(),
      );
      assert.equal(await store.assign("acme", "no-such", ADA), undefined);
    });
  },
);

testEachEngine(
  "setContact() and setPage() are stored and told to the organization's watchers",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store } = fixture;
      const conversation = await newVisitorConversation(store);
      const controller = new AbortController();
      const iterator = fixture.live.organization("acme", {
        signal: controller.signal,
      })[Symbol.asyncIterator]();
      await untilLive(iterator, store, conversation.id);
      const arriving = take(iterator, 2, 5_000, notTyping);
      await store.setContact("acme", conversation.id, "ada@example.com");
      await store.setPage("acme", conversation.id, {
        url: "https://shop.acme.com/cart",
        title: "Cart",
      });
      const events = await arriving;
      assert.deepEqual(events.map((event) => event.kind), [
        "updated",
        "updated",
      ]);
      const stored = await store.getConversation("acme", conversation.id);
      assert.deepEqual(stored?.contact, { email: "ada@example.com" });
      assert.deepEqual(stored?.page, {
        url: "https://shop.acme.com/cart",
        title: "Cart",
      });
      controller.abort();
    });
  },
);

testEachEngine(
  "typing() reaches the conversation's and the organization's watchers live, never a resumed one",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store } = fixture;
      const conversation = await newVisitorConversation(store);
      const first = await store.append("acme", conversation.id, "visitor", "a");
      const controller = new AbortController();
      const visitorSide = fixture.live.conversation("acme", conversation.id, {
        signal: controller.signal,
      })[Symbol.asyncIterator]();
      const agentSide = fixture.live.organization("acme", {
        signal: controller.signal,
      })[Symbol.asyncIterator]();
      // The organization's hub knows its feed head once the visitor's side is
      // live; a notice written before that would not be delivered.
      await untilLive(visitorSide, store, conversation.id);
      const toVisitor = take(visitorSide, 1);
      const toAgents = take(agentSide, 1);
      await store.typing("acme", conversation.id, "agent", ADA);
      assert.deepEqual(await toVisitor, [{
        kind: "typing",
        conversationId: conversation.id,
        author: "agent",
        agent: ADA,
      }]);
      assert.equal((await toAgents)[0]?.kind, "typing");
      controller.abort();
      // A stream resuming from before the typing hears only messages.
      const resumed = new AbortController();
      const again = fixture.live.conversation("acme", conversation.id, {
        after: first.id,
        signal: resumed.signal,
      })[Symbol.asyncIterator]();
      const next = take(again, 1);
      await store.append("acme", conversation.id, "visitor", "b");
      assert.deepEqual(texts(await next), ["b"]);
      resumed.abort();
    });
  },
);

testEachEngine(
  "a visitor message no agent answers enqueues one conversation.unanswered per stretch, made only while unanswered",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store, records } = fixture;
      const conversation = await newVisitorConversation(store);
      const unanswered = { webhook: true, unansweredAfterMs: 300_000 };
      const opening = await store.append(
        "acme",
        conversation.id,
        "visitor",
        "Anyone there?",
        unanswered,
      );
      await store.append(
        "acme",
        conversation.id,
        "visitor",
        "Hello?",
        unanswered,
      );
      await store.setContact("acme", conversation.id, "ada@example.com");
      // Two message.created and one unanswered check wait in the outbox.
      assert.equal(await records.outbox.size(), 3);
      const checkId = `${conversation.id}.unanswered.${opening.id}`;
      const body = JSON.parse(
        (await store.unansweredBody("acme", checkId)) ?? "null",
      );
      assert.deepEqual(body, {
        id: checkId,
        type: "conversation.unanswered",
        organizationId: "acme",
        conversationId: conversation.id,
        contact: { email: "ada@example.com" },
        message: opening,
      });
      // An agent answers: the check is no longer due.
      await store.append("acme", conversation.id, "agent", "Here!", {
        agent: ADA,
      });
      assert.equal(await store.unansweredBody("acme", checkId), undefined);
      // The visitor writes again: a new stretch, a new check.
      const again = await store.append(
        "acme",
        conversation.id,
        "visitor",
        "One more thing",
        unanswered,
      );
      assert.equal(await records.outbox.size(), 3 + 2);
      assert.ok(
        await store.unansweredBody(
          "acme",
          `${conversation.id}.unanswered.${again.id}`,
        ),
      );
    });
  },
);

testEachEngine(
  "the first agent reply tells the organization's watchers who took the conversation, once",
  async (engine) => {
    await withStore(engine, {}, async (fixture) => {
      const { store } = fixture;
      const conversation = await newVisitorConversation(store);
      await store.append("acme", conversation.id, "visitor", "Hello?");
      const controller = new AbortController();
      const iterator = fixture.live.organization("acme", {
        signal: controller.signal,
      })[Symbol.asyncIterator]();
      await untilLive(iterator, store, conversation.id);
      const arriving = take(iterator, 3, 5_000, notTyping);
      await store.append("acme", conversation.id, "agent", "Hi", {
        agent: ADA,
      });
      await store.append("acme", conversation.id, "agent", "More", {
        agent: GRACE,
      });
      const events = await arriving;
      assert.deepEqual(events.map((event) => event.kind), [
        "message",
        "updated",
        "message",
      ]);
      const updated = events[1];
      assert.ok(updated?.kind === "updated");
      assert.deepEqual(updated.conversation.assignee, ADA);
      controller.abort();
    });
  },
);
