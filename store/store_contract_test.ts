/**
 * The storage port's contract, one suite for every adapter: each row runs
 * unchanged on Deno KV and on PostgreSQL (when this machine has it; see
 * `tests/store_engines.ts`), and its name starts with the engine. "Two
 * hosts" are two stores opened on the same data: two KV connections to one
 * file, or two pools on one database.
 */

import assert from "node:assert/strict";
import { storeEngines, type TestStore } from "../tests/store_engines.ts";
import { ChangeListeners } from "./change_feed.ts";
import type {
  Conversation,
  FeedEvent,
  Participant,
} from "./conversation_store.ts";
import type { CounterSlot } from "./counter_store.ts";
import type { LeasedOutboxItem, OutboxItem } from "./outbox_store.ts";
import { openStore } from "./open_store.ts";
import type { ChatMessage } from "../wire/records.ts";
import { startCluster } from "../tests/postgres_cluster.ts";
import { openPostgresStore } from "./postgres/postgres_store.ts";
import { StoreUnavailableError } from "./store_unavailable_error.ts";

const MINUTE = 60_000;
const WINDOW_END = 1_800_000_000_000;

function slot(bucket: string, limit: number, extra: Partial<CounterSlot> = {}) {
  return {
    organizationId: "acme",
    bucket,
    windowMs: MINUTE,
    windowEnd: WINDOW_END,
    limit,
    ...extra,
  } satisfies CounterSlot;
}

let ids = 0;
function visitor(): Participant {
  return {
    kind: "visitor",
    visitorId: `visitor${String(++ids).padStart(8, "0")}${
      crypto.randomUUID().slice(0, 8)
    }`,
  };
}

function conversationFor(
  organizationId: string,
  participant: Participant,
  at = Date.UTC(2026, 0, 1),
): Conversation {
  return {
    id: crypto.randomUUID().replaceAll("-", "").slice(0, 22),
    organizationId,
    participant,
    verified: participant.kind === "user",
    attributes: {},
    status: "open",
    createdAt: new Date(at).toISOString(),
    updatedAt: new Date(at).toISOString(),
    messageCount: 0,
    trimmed: 0,
  };
}

async function openFresh(
  store: TestStore,
  organizationId = "acme",
  participant: Participant = visitor(),
  at?: number,
): Promise<Conversation> {
  return await store.conversations.open(organizationId, participant, {
    create: () => conversationFor(organizationId, participant, at),
    refresh: () => undefined,
  });
}

let messageClock = 0;
/** Appends a visitor message; ids grow with a shared clock. */
async function say(
  store: TestStore,
  conversation: Conversation,
  text: string,
  options: { keep?: number; outbox?: OutboxItem[]; at?: number } = {},
): Promise<{ message: ChatMessage; conversation: Conversation }> {
  const appended = await store.conversations.append(
    conversation.organizationId,
    conversation.id,
    (current) => {
      const id = (++messageClock).toString(16).padStart(24, "0");
      const at = new Date(options.at ?? Date.UTC(2026, 0, 2) + messageClock)
        .toISOString();
      const message: ChatMessage = { id, text, author: "visitor", at };
      return {
        message,
        conversation: {
          ...current,
          lastMessage: message,
          updatedAt: at,
          messageCount: current.messageCount + 1,
        },
        outbox: options.outbox ?? [],
      };
    },
    options.keep ?? 1000,
  );
  assert.ok(appended !== undefined);
  return appended;
}

function item(id: string, dueAt = 0, organizationId = "acme"): OutboxItem {
  return {
    organizationId,
    id,
    kind: "message.created",
    body: JSON.stringify({ id }),
    dueAt,
    attempts: 0,
  };
}

for (const engine of storeEngines()) {
  const test = (name: string, fn: () => Promise<void>) =>
    Deno.test({ name: `${engine.name}: ${name}`, fn });

  // ---- counters -----------------------------------------------------------

  test("charge() admits up to the limit and then refuses with the count found", async () => {
    await using store = await engine.open();
    const outcomes = await store.counters.charge(
      Array.from({ length: 5 }, () => [slot("ip:a", 3)]),
    );
    assert.deepEqual(outcomes, [
      [{ admitted: true, count: 1 }],
      [{ admitted: true, count: 2 }],
      [{ admitted: true, count: 3 }],
      [{ admitted: false, count: 3 }],
      [{ admitted: false, count: 3 }],
    ]);
    const later = await store.counters.charge([[slot("ip:a", 3)]]);
    assert.deepEqual(later, [[{ admitted: false, count: 3 }]]);
  });

  test("charge() stops a chain at its first refusal and spends nothing after it", async () => {
    await using store = await engine.open();
    await store.counters.charge([[slot("ip:b", 1)]]);
    const refused = await store.counters.charge([[
      slot("ip:b", 1),
      slot("org", 10),
    ]]);
    assert.deepEqual(refused, [[{ admitted: false, count: 1 }]]);
    const organization = await store.counters.charge([[slot("org", 10)]]);
    assert.deepEqual(organization, [[{ admitted: true, count: 1 }]]);
  });

  test("charge() counts every slot of an admitted chain, and a refusal later in a chain keeps the earlier counts", async () => {
    await using store = await engine.open();
    await store.counters.charge([[slot("org", 1)]]);
    const outcomes = await store.counters.charge([[
      slot("ip:c", 5),
      slot("org", 1),
    ]]);
    assert.deepEqual(outcomes, [[
      { admitted: true, count: 1 },
      { admitted: false, count: 1 },
    ]]);
    assert.deepEqual(await store.counters.charge([[slot("ip:c", 5)]]), [[{
      admitted: true,
      count: 2,
    }]]);
  });

  test("charge() checks a peek without counting it, and stops at a spent peek", async () => {
    await using store = await engine.open();
    const failures = slot("fail", 2, { peek: true });
    const peeked = await store.counters.charge([
      [failures, slot("ip:d", 10)],
      [failures, slot("ip:d", 10)],
    ]);
    assert.deepEqual(peeked, [
      [{ admitted: true, count: 0 }, { admitted: true, count: 1 }],
      [{ admitted: true, count: 0 }, { admitted: true, count: 2 }],
    ]);
    await store.counters.charge([[slot("fail", 2)], [slot("fail", 2)]]);
    const spent = await store.counters.charge([[failures, slot("ip:d", 10)]]);
    assert.deepEqual(spent, [[{ admitted: false, count: 2 }]]);
  });

  test("charge() decides the chains of one call in arrival order, each seeing the ones before", async () => {
    await using store = await engine.open();
    const outcomes = await store.counters.charge([
      [slot("ip:e", 5), slot("org", 2)],
      [slot("ip:f", 5), slot("org", 2)],
      [slot("ip:e", 5), slot("org", 2)],
    ]);
    assert.deepEqual(outcomes, [
      [{ admitted: true, count: 1 }, { admitted: true, count: 1 }],
      [{ admitted: true, count: 1 }, { admitted: true, count: 2 }],
      [{ admitted: true, count: 2 }, { admitted: false, count: 2 }],
    ]);
  });

  test("charge() keeps windows apart: the next window and another window length start at zero", async () => {
    await using store = await engine.open();
    await store.counters.charge([[slot("ip:g", 1)]]);
    const next = await store.counters.charge([
      [slot("ip:g", 1, { windowEnd: WINDOW_END + MINUTE })],
      [slot("ip:g", 1, { windowMs: 1000, windowEnd: WINDOW_END })],
      [slot("ip:g", 1, { organizationId: "globex" })],
    ]);
    assert.deepEqual(next, [
      [{ admitted: true, count: 1 }],
      [{ admitted: true, count: 1 }],
      [{ admitted: true, count: 1 }],
    ]);
  });

  test("charge() admits exactly the limit when two hosts race with concurrent batches", async () => {
    await using first = await engine.open();
    await using second = await engine.open(first.location);
    const limit = 37;
    const calls = Array.from(
      { length: 40 },
      (_, index) =>
        (index % 2 === 0 ? first : second).counters.charge(
          Array.from(
            { length: 3 },
            (_, chain) => [slot(`ip:${chain}`, 1000), slot("org", limit)],
          ),
        ),
    );
    const outcomes = (await Promise.all(calls)).flat();
    const admitted = outcomes.filter((chain) =>
      chain.length === 2 && chain[1]!.admitted
    );
    assert.equal(admitted.length, limit);
    // Every admitted count is distinct: no two writers spent one slot.
    assert.deepEqual(
      admitted.map((chain) => chain[1]!.count).sort((a, b) => a - b),
      Array.from({ length: limit }, (_, index) => index + 1),
    );
  });

  test("charge() refuses more distinct counters than maxSlotsPerCharge with a RangeError", async () => {
    await using store = await engine.open();
    const max = store.counters.maxSlotsPerCharge;
    assert.ok(max >= 100, `maxSlotsPerCharge ${max}`);
    await assert.rejects(
      store.counters.charge(
        Array.from({ length: max + 1 }, (_, index) => [slot(`ip:${index}`, 1)]),
      ),
      RangeError,
    );
    const full = await store.counters.charge(
      Array.from({ length: max }, (_, index) => [slot(`ip:${index}`, 1)]),
    );
    assert.equal(full.filter((chain) => chain[0]!.admitted).length, max);
  });

  test("sweep() deletes the counters of ended windows only and says how many", async () => {
    await using store = await engine.open();
    await store.counters.charge([
      [slot("ip:h", 5, { windowEnd: WINDOW_END - MINUTE })],
      [slot("ip:i", 5, { windowEnd: WINDOW_END - MINUTE })],
      [slot("ip:h", 5)],
    ]);
    assert.equal(await store.counters.sweep(WINDOW_END - MINUTE / 2), 2);
    assert.equal(await store.counters.sweep(WINDOW_END - MINUTE / 2), 0);
    // The live window kept its count; the swept one starts over.
    assert.deepEqual(
      await store.counters.charge([
        [slot("ip:h", 5)],
        [slot("ip:h", 5, { windowEnd: WINDOW_END - MINUTE })],
      ]),
      [[{ admitted: true, count: 2 }], [{ admitted: true, count: 1 }]],
    );
  });

  // ---- conversations ------------------------------------------------------

  test("open() creates a participant's conversation once and refreshes it in place", async () => {
    await using store = await engine.open();
    const participant = visitor();
    const first = await openFresh(store, "acme", participant);
    let created = 0;
    const again = await store.conversations.open("acme", participant, {
      create: () => {
        created++;
        return conversationFor("acme", participant);
      },
      refresh: (current) => ({ ...current, attributes: { name: "Ada" } }),
    });
    assert.equal(created, 0);
    assert.equal(again.id, first.id);
    assert.deepEqual(again.attributes, { name: "Ada" });
    assert.deepEqual(
      (await store.conversations.get("acme", first.id))?.attributes,
      { name: "Ada" },
    );
  });

  test("open() from two hosts at once ends with one conversation per participant", async () => {
    await using first = await engine.open();
    await using second = await engine.open(first.location);
    const participant = visitor();
    const opened = await Promise.all(
      Array.from(
        { length: 16 },
        (_, index) =>
          openFresh(index % 2 ? first : second, "acme", participant),
      ),
    );
    assert.equal(new Set(opened.map((c) => c.id)).size, 1);
  });

  test("open() after close() starts a new conversation; the closed one keeps its id", async () => {
    await using store = await engine.open();
    const participant = visitor();
    const first = await openFresh(store, "acme", participant);
    const closed = await store.conversations.update(
      "acme",
      first.id,
      (current) => ({
        conversation: { ...current, status: "closed" },
        event: { kind: "closed", conversationId: current.id },
      }),
    );
    assert.equal(closed?.status, "closed");
    const next = await openFresh(store, "acme", participant);
    assert.notEqual(next.id, first.id);
    assert.equal(
      (await store.conversations.get("acme", first.id))?.status,
      "closed",
    );
  });

  test("find() answers the participant's open conversation and creates none", async () => {
    await using store = await engine.open();
    await using other = await engine.open(store.location);
    const participant = visitor();
    assert.equal(
      await store.conversations.find("acme", participant),
      undefined,
    );
    assert.equal(
      await store.conversations.find("acme", participant),
      undefined,
    );
    const first = await openFresh(store, "acme", participant);
    assert.equal(
      (await store.conversations.find("acme", participant))?.id,
      first.id,
    );
    assert.equal(
      (await other.conversations.find("acme", participant))?.id,
      first.id,
    );
    assert.equal(
      await store.conversations.find("globex", participant),
      undefined,
    );
    await store.conversations.update("acme", first.id, (current) => ({
      conversation: { ...current, status: "closed" },
      event: { kind: "closed", conversationId: current.id },
    }));
    assert.equal(
      await store.conversations.find("acme", participant),
      undefined,
    );
    assert.equal(
      await other.conversations.find("acme", participant),
      undefined,
    );
    const next = await openFresh(other, "acme", participant);
    assert.equal(
      (await store.conversations.find("acme", participant))?.id,
      next.id,
    );
  });

  test("get() keeps each organization's conversations to itself", async () => {
    await using store = await engine.open();
    const participant = visitor();
    const acme = await openFresh(store, "acme", participant);
    const globex = await openFresh(store, "globex", participant);
    assert.notEqual(acme.id, globex.id);
    assert.equal(await store.conversations.get("globex", acme.id), undefined);
    assert.equal(
      (await store.conversations.get("acme", acme.id))?.id,
      acme.id,
    );
    assert.equal(await store.conversations.get("acme", "missing"), undefined);
  });

  test("update() from two hosts re-runs the change on a fresh version, so no change is lost", async () => {
    await using first = await engine.open();
    await using second = await engine.open(first.location);
    const conversation = await openFresh(first);
    let calls = 0;
    await Promise.all(
      Array.from(
        { length: 20 },
        (_, index) =>
          (index % 2 ? first : second).conversations.update(
            "acme",
            conversation.id,
            (current) => {
              calls++;
              const seen = Number(current.page?.url ?? "0");
              return {
                conversation: { ...current, page: { url: String(seen + 1) } },
              };
            },
          ),
      ),
    );
    const stored = await first.conversations.get("acme", conversation.id);
    assert.equal(stored?.page?.url, "20");
    assert.ok(calls >= 20);
  });

  test("update() writes nothing when the change returns undefined or throws, and answers undefined for a missing id", async () => {
    await using store = await engine.open();
    const conversation = await openFresh(store);
    const kept = await store.conversations.update(
      "acme",
      conversation.id,
      () => undefined,
    );
    assert.deepEqual(kept, conversation);
    await assert.rejects(
      store.conversations.update("acme", conversation.id, () => {
        throw new RangeError("refused");
      }),
      RangeError,
    );
    assert.deepEqual(
      await store.conversations.get("acme", conversation.id),
      conversation,
    );
    assert.equal(
      await store.conversations.update("acme", "missing", (current) => ({
        conversation: current,
      })),
      undefined,
    );
    assert.equal(await store.conversations.feedHead("acme"), 0);
  });

  test("update() on a host that read the conversation before another host changed it decides on the fresh version", async () => {
    await using first = await engine.open();
    await using second = await engine.open(first.location);
    const conversation = await openFresh(first);
    const onPage = (url: string) => (current: Conversation) =>
      current.page?.url === url
        ? undefined
        : { conversation: { ...current, page: { url } } };
    await first.conversations.update("acme", conversation.id, onPage("x"));
    await second.conversations.update("acme", conversation.id, onPage("y"));
    // On the copy the first host wrote, page "x" needs no change; it does now.
    const written = await first.conversations.update(
      "acme",
      conversation.id,
      onPage("x"),
    );
    assert.equal(written?.page?.url, "x");
    assert.equal(
      (await second.conversations.get("acme", conversation.id))?.page?.url,
      "x",
    );
  });

  test("append() on a host whose earlier copy would refuse decides on the fresh version", async () => {
    await using first = await engine.open();
    await using second = await engine.open(first.location);
    const conversation = await openFresh(first);
    await first.conversations.update("acme", conversation.id, (current) => ({
      conversation: { ...current, page: { url: "refused" } },
    }));
    await second.conversations.update("acme", conversation.id, (current) => ({
      conversation: { ...current, page: { url: "welcome" } },
    }));
    const appended = await first.conversations.append(
      "acme",
      conversation.id,
      (current) => {
        if (current.page?.url === "refused") throw new RangeError("refused");
        const message: ChatMessage = {
          id: "1".padStart(24, "0"),
          text: "hello",
          author: "visitor",
          at: new Date(Date.UTC(2026, 0, 2)).toISOString(),
        };
        return {
          message,
          conversation: {
            ...current,
            lastMessage: message,
            messageCount: current.messageCount + 1,
          },
        };
      },
      10,
    );
    assert.equal(appended?.message.text, "hello");
    assert.equal(appended?.conversation.page?.url, "welcome");
  });

  test("update() and append() answer undefined for a conversation another host purged after this one read it", async () => {
    await using first = await engine.open();
    await using second = await engine.open(first.location);
    const conversation = await openFresh(first, "acme", visitor(), 0);
    assert.ok(await first.conversations.get("acme", conversation.id));
    assert.equal(
      await second.conversations.purge("acme", Date.UTC(2026, 0, 5)),
      1,
    );
    assert.equal(
      await first.conversations.update("acme", conversation.id, (current) => ({
        conversation: { ...current, page: { url: "x" } },
      })),
      undefined,
    );
    assert.equal(
      await first.conversations.append("acme", conversation.id, () => {
        throw new Error("not called on a purged conversation's fresh read");
      }, 10),
      undefined,
    );
  });

  test("append() from two hosts keeps every message, each once, in id order", async () => {
    await using first = await engine.open();
    await using second = await engine.open(first.location);
    const conversation = await openFresh(first);
    const appended = await Promise.all(
      Array.from(
        { length: 20 },
        (_, index) =>
          (index % 2 ? first : second).conversations.append(
            "acme",
            conversation.id,
            (current) => {
              const previous = current.lastMessage?.id ?? "".padStart(24, "0");
              const id = (parseInt(previous, 16) + 1).toString(16).padStart(
                24,
                "0",
              );
              const message: ChatMessage = {
                id,
                text: `m${index}`,
                author: "visitor",
                at: new Date(Date.UTC(2026, 0, 3)).toISOString(),
              };
              return {
                message,
                conversation: {
                  ...current,
                  lastMessage: message,
                  updatedAt: message.at,
                  messageCount: current.messageCount + 1,
                },
              };
            },
            1000,
          ),
      ),
    );
    assert.equal(appended.length, 20);
    const messages = await first.conversations.messages(
      "acme",
      conversation.id,
      {
        limit: 100,
      },
    );
    assert.equal(messages.length, 20);
    assert.deepEqual(
      messages.map((message) => message.text).sort(),
      Array.from({ length: 20 }, (_, index) => `m${index}`).sort(),
    );
    assert.deepEqual(
      messages.map((message) => message.id),
      [...messages.map((message) => message.id)].sort(),
    );
    const stored = await first.conversations.get("acme", conversation.id);
    assert.equal(stored?.messageCount, 20);
    assert.equal(stored?.lastMessage?.id, messages.at(-1)?.id);
  });

  test("append() keeps the newest messages and counts the removed ones in trimmed", async () => {
    await using store = await engine.open();
    let conversation = await openFresh(store);
    for (let index = 0; index < 7; index++) {
      conversation = (await say(store, conversation, `m${index}`, { keep: 3 }))
        .conversation;
    }
    const messages = await store.conversations.messages(
      "acme",
      conversation.id,
      { limit: 100 },
    );
    assert.deepEqual(messages.map((message) => message.text), [
      "m4",
      "m5",
      "m6",
    ]);
    const stored = await store.conversations.get("acme", conversation.id);
    assert.equal(stored?.messageCount, 3);
    assert.equal(stored?.trimmed, 4);
  });

  test("append() answers undefined for a missing conversation, and a compose that throws writes nothing", async () => {
    await using store = await engine.open();
    assert.equal(
      await store.conversations.append("acme", "missing", () => {
        throw new Error("not called");
      }, 10),
      undefined,
    );
    const conversation = await openFresh(store);
    await assert.rejects(
      store.conversations.append("acme", conversation.id, () => {
        throw new RangeError("closed");
      }, 10),
      RangeError,
    );
    assert.deepEqual(
      await store.conversations.messages("acme", conversation.id, {
        limit: 10,
      }),
      [],
    );
    assert.equal(await store.conversations.feedHead("acme"), 0);
  });

  test("messages() pages oldest first after an id, and newest gives the last ones", async () => {
    await using store = await engine.open();
    let conversation = await openFresh(store);
    const sent: ChatMessage[] = [];
    for (let index = 0; index < 6; index++) {
      const appended = await say(store, conversation, `m${index}`);
      conversation = appended.conversation;
      sent.push(appended.message);
    }
    const page = (
      options: Parameters<TestStore["conversations"]["messages"]>[2],
    ) =>
      store.conversations.messages("acme", conversation.id, options).then((
        messages,
      ) => messages.map((message) => message.text));
    assert.deepEqual(await page({ limit: 2 }), ["m0", "m1"]);
    assert.deepEqual(await page({ after: sent[1]!.id, limit: 3 }), [
      "m2",
      "m3",
      "m4",
    ]);
    assert.deepEqual(await page({ after: sent[5]!.id, limit: 3 }), []);
    assert.deepEqual(await page({ newest: true, limit: 2 }), ["m4", "m5"]);
    assert.deepEqual(
      await store.conversations.messages("globex", conversation.id, {
        limit: 10,
      }),
      [],
    );
  });

  test("list() pages through conversations with messages, newest first, each once", async () => {
    await using store = await engine.open();
    const withMessages: string[] = [];
    for (let index = 0; index < 7; index++) {
      const conversation = await openFresh(store);
      await say(store, conversation, "hi", {
        at: Date.UTC(2026, 0, 5) + index * 1000,
      });
      withMessages.unshift(conversation.id);
    }
    await openFresh(store); // No messages: not in the inbox.
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await store.conversations.list("acme", {
        limit: 3,
        ...(cursor === undefined ? {} : { cursor }),
      });
      seen.push(...page.conversations.map((conversation) => conversation.id));
      cursor = page.cursor;
      if (cursor === undefined) break;
    }
    assert.deepEqual(seen, withMessages);
    assert.deepEqual(
      (await store.conversations.list("globex", { limit: 10 })).conversations,
      [],
    );
  });

  test("list() hands out no cursor with a full last page, and a cursor of one engine's form on both", async () => {
    await using store = await engine.open();
    for (let index = 0; index < 4; index++) {
      const conversation = await openFresh(store);
      await say(store, conversation, "hi", {
        at: Date.UTC(2026, 0, 5) + index * 1000,
      });
    }
    const first = await store.conversations.list("acme", { limit: 2 });
    assert.equal(first.conversations.length, 2);
    assert.match(first.cursor ?? "", /^c1\.\d+\.[A-Za-z0-9_-]+$/);
    const last = await store.conversations.list("acme", {
      limit: 2,
      cursor: first.cursor!,
    });
    assert.equal(last.conversations.length, 2);
    assert.equal(last.cursor, undefined, "nothing follows a full last page");
    const whole = await store.conversations.list("acme", { limit: 4 });
    assert.equal(whole.conversations.length, 4);
    assert.equal(whole.cursor, undefined);
  });

  test("list() filters by assignee, and null means assigned to nobody", async () => {
    await using store = await engine.open();
    const assigned = await openFresh(store);
    const unassigned = await openFresh(store);
    await say(store, assigned, "hi");
    await say(store, unassigned, "hi");
    await store.conversations.update("acme", assigned.id, (current) => ({
      conversation: { ...current, assignee: { id: "agent-1", name: "Ann" } },
    }));
    const ids = async (assignee: string | null) =>
      (await store.conversations.list("acme", {
        limit: 10,
        filter: { assignee },
      })).conversations.map((conversation) => conversation.id);
    assert.deepEqual(await ids("agent-1"), [assigned.id]);
    assert.deepEqual(await ids(null), [unassigned.id]);
    assert.deepEqual(await ids("agent-2"), []);
  });

  test("list() refuses text that is not a cursor with a TypeError that names the cursor", async () => {
    await using store = await engine.open();
    const conversation = await openFresh(store);
    await say(store, conversation, "hi");
    const rows = [
      "c1.x.y",
      "%%%",
      "a b",
      "c1.1.bad*id",
      // Not base64url at all, and not Latin-1.
      "€",
      // Base64url text an engine's native cursor would read as a key.
      "not-a-cursor",
      "AmNoYXQAAmFjbWUAAmluYm94AA",
      `c1.${"9".repeat(17)}.x`,
    ];
    for (const cursor of rows) {
      await assert.rejects(
        store.conversations.list("acme", { limit: 5, cursor }),
        (error: unknown) =>
          error instanceof TypeError && /cursor/i.test(error.message),
        cursor,
      );
    }
  });

  test("feed() numbers entries 1, 2, 3… without gaps in commit order, from two hosts at once", async () => {
    await using first = await engine.open();
    await using second = await engine.open(first.location);
    const conversations = await Promise.all(
      Array.from({ length: 4 }, () => openFresh(first)),
    );
    const writes = conversations.flatMap((conversation, index) =>
      Array.from(
        { length: 6 },
        () =>
          say(index % 2 ? first : second, conversation, "hi").then(() => {}),
      )
    );
    const typing = Array.from(
      { length: 6 },
      (_, index) =>
        (index % 2 ? second : first).conversations.publish("acme", {
          kind: "typing",
          conversationId: conversations[0]!.id,
          author: "agent",
        }),
    );
    await Promise.all([...writes, ...typing]);
    const entries = await second.conversations.feed("acme", 0, 100);
    assert.deepEqual(
      entries.map((entry) => entry.seq),
      Array.from({ length: 30 }, (_, index) => index + 1),
    );
    assert.equal(await first.conversations.feedHead("acme"), 30);
    // Per conversation, messages come in id order: commit order.
    for (const conversation of conversations) {
      const ids = entries.flatMap((entry) =>
        entry.event.kind === "message" &&
          entry.event.conversationId === conversation.id
          ? [entry.event.message.id]
          : []
      );
      assert.equal(ids.length, 6);
      assert.deepEqual(ids, [...ids].sort());
    }
    assert.deepEqual(
      (await first.conversations.feed("acme", 28, 10)).map((entry) =>
        entry.seq
      ),
      [29, 30],
    );
    assert.deepEqual(await first.conversations.feed("globex", 0, 10), []);
  });

  test("feed() records update events and closes, and feedHead() is 0 before the first", async () => {
    await using store = await engine.open();
    assert.equal(await store.conversations.feedHead("acme"), 0);
    const conversation = await openFresh(store);
    const event: FeedEvent = {
      kind: "updated",
      conversationId: conversation.id,
      conversation: { ...conversation, page: { url: "https://a.example/" } },
    };
    await store.conversations.update("acme", conversation.id, () => ({
      conversation: { ...conversation, page: { url: "https://a.example/" } },
      event,
    }));
    await store.conversations.update("acme", conversation.id, (current) => ({
      conversation: { ...current, status: "closed" },
      event: { kind: "closed", conversationId: conversation.id },
    }));
    const entries = await store.conversations.feed("acme", 0, 10);
    assert.deepEqual(entries.map((entry) => entry.event.kind), [
      "updated",
      "closed",
    ]);
    assert.deepEqual(entries[0]!.event, event);
    assert.ok(entries.every((entry) => Number.isFinite(entry.at)));
  });

  test("append() enqueues its outbox items in the same commit", async () => {
    await using store = await engine.open();
    const conversation = await openFresh(store);
    await say(store, conversation, "hi", { outbox: [item("a.1")] });
    assert.equal(await store.outbox.size(), 1);
    const [claimed] = await store.outbox.claim("host", Date.now(), 1000, 10);
    assert.equal(claimed?.id, "a.1");
  });

  test("purge() deletes conversations idle before the cutoff, with their messages, and keeps the rest", async () => {
    await using store = await engine.open();
    const old = await openFresh(store, "acme", visitor(), Date.UTC(2026, 0, 1));
    await say(store, old, "old", { at: Date.UTC(2026, 0, 1, 1) });
    const recent = await openFresh(
      store,
      "acme",
      visitor(),
      Date.UTC(2026, 0, 9),
    );
    await say(store, recent, "new", { at: Date.UTC(2026, 0, 9, 1) });
    assert.equal(
      await store.conversations.purge("acme", Date.UTC(2026, 0, 5)),
      1,
    );
    assert.equal(await store.conversations.get("acme", old.id), undefined);
    assert.deepEqual(
      await store.conversations.messages("acme", old.id, { limit: 10 }),
      [],
    );
    assert.equal(
      (await store.conversations.get("acme", recent.id))?.messageCount,
      1,
    );
    assert.deepEqual(
      (await store.conversations.list("acme", { limit: 10 })).conversations
        .map((conversation) => conversation.id),
      [recent.id],
    );
    assert.equal(
      await store.conversations.purge("acme", Date.UTC(2026, 0, 5)),
      0,
    );
    // The participant of a purged conversation starts a new one.
    const again = await openFresh(store, "acme", old.participant);
    assert.notEqual(again.id, old.id);
  });

  test("sweepFeed() deletes entries committed before the cutoff and keeps the head", async () => {
    await using store = await engine.open();
    const conversation = await openFresh(store);
    await say(store, conversation, "hi");
    await say(store, conversation, "again");
    assert.equal(await store.conversations.sweepFeed("acme", 0), 0);
    assert.equal(
      await store.conversations.sweepFeed("acme", Date.now() + 60_000),
      2,
    );
    assert.deepEqual(await store.conversations.feed("acme", 0, 10), []);
    assert.equal(await store.conversations.feedHead("acme"), 2);
    await say(store, conversation, "third");
    assert.deepEqual(
      (await store.conversations.feed("acme", 0, 10)).map((entry) => entry.seq),
      [3],
    );
  });

  // ---- changes ------------------------------------------------------------

  test("changes tell a watcher of this store about its own write at once", async () => {
    await using store = await engine.open();
    const conversation = await openFresh(store);
    let told = 0;
    const stop = store.changes.watch("acme", () => told++);
    try {
      await say(store, conversation, "hi");
      // Told by the time the write resolves: no poll, no round trip (a
      // notice may also come twice: the engine's own may follow).
      assert.ok(told >= 1);
      const before = told;
      await store.conversations.publish("acme", {
        kind: "typing",
        conversationId: conversation.id,
        author: "visitor",
      });
      assert.ok(told > before);
    } finally {
      stop();
    }
  });

  test("changes tell a watcher on another host about a write within a second", async () => {
    await using watcher = await engine.open();
    await using writer = await engine.open(watcher.location);
    const conversation = await openFresh(writer);
    const told = Promise.withResolvers<number>();
    const started = performance.now();
    const stop = watcher.changes.watch(
      "acme",
      () => told.resolve(performance.now() - started),
    );
    const deadline = setTimeout(
      () => told.reject(new Error("not told")),
      3_000,
    );
    try {
      // Let the watcher's listener or poller start before the write.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await say(writer, conversation, "hi");
      const ms = await told.promise;
      // About a second: Deno KV polls once a second, PostgreSQL notifies.
      assert.ok(ms < 1_500, `told after ${ms.toFixed(0)} ms`);
      assert.equal(
        (await watcher.conversations.feed("acme", 0, 10)).length,
        1,
      );
    } finally {
      clearTimeout(deadline);
      stop();
    }
  });

  test("changes stop telling a watcher once it stops", async () => {
    await using store = await engine.open();
    const conversation = await openFresh(store);
    let told = 0;
    const stop = store.changes.watch("acme", () => told++);
    stop();
    await say(store, conversation, "hi");
    assert.equal(told, 0);
  });

  // ---- settings -----------------------------------------------------------

  test("settings.getOrCreate() raced by two hosts ends with one value everywhere", async () => {
    await using first = await engine.open();
    await using second = await engine.open(first.location);
    const values = await Promise.all(
      Array.from(
        { length: 10 },
        (_, index) =>
          (index % 2 ? first : second).settings.getOrCreate(
            "session-secret",
            () => crypto.getRandomValues(new Uint8Array(32)),
          ),
      ),
    );
    for (const value of values) {
      assert.ok(value instanceof Uint8Array);
      assert.deepEqual(value, values[0]);
    }
    const later = await first.settings.getOrCreate(
      "session-secret",
      () => new Uint8Array(32),
    );
    assert.deepEqual(later, values[0]);
  });

  // ---- outbox -------------------------------------------------------------

  test("outbox.enqueue() of an id already there changes nothing", async () => {
    await using store = await engine.open();
    await store.outbox.enqueue([item("x"), item("y")]);
    await store.outbox.enqueue([{ ...item("x"), body: "changed" }]);
    assert.equal(await store.outbox.size(), 2);
    const claimed = await store.outbox.claim("host", Date.now(), 1000, 10);
    assert.equal(claimed.find((entry) => entry.id === "x")?.body, '{"id":"x"}');
  });

  test("outbox.claim() leases only what is due, oldest first, to one holder at a time", async () => {
    await using first = await engine.open();
    await using second = await engine.open(first.location);
    const now = Date.now();
    await first.outbox.enqueue([
      item("later", now + 60_000),
      ...Array.from({ length: 10 }, (_, index) => item(`due-${index}`, index)),
    ]);
    const [a, b] = await Promise.all([
      first.outbox.claim("host-a", now, 10_000, 10),
      second.outbox.claim("host-b", now, 10_000, 10),
    ]);
    const claimed = [...a, ...b].map((entry) => entry.id).sort();
    assert.deepEqual(
      claimed,
      Array.from({ length: 10 }, (_, index) => `due-${index}`).sort(),
    );
    assert.ok(a.every((entry) => entry.owner === "host-a"));
    assert.ok(b.every((entry) => entry.owner === "host-b"));
    assert.deepEqual(await first.outbox.claim("host-c", now, 10_000, 10), []);
  });

  test("outbox.claim() with a share leases no more of one organization than its room, and reaches the others behind its backlog", async () => {
    await using store = await engine.open();
    const now = Date.now();
    await store.outbox.enqueue([
      ...Array.from(
        { length: 60 },
        (_, index) => item(`beta-${index}`, index, "beta"),
      ),
      item("acme-1", 100, "acme"),
      item("gamma-1", 200, "gamma"),
      item("gamma-later", now + 60_000, "gamma"),
    ]);
    const organizations = (claimed: LeasedOutboxItem[]) =>
      claimed.map((entry) => `${entry.organizationId}:${entry.id}`).sort();
    const first = await store.outbox.claim("host", now, 10_000, 20, {
      perOrganization: 3,
      held: new Map([["beta", 1]]),
    });
    assert.deepEqual(organizations(first), [
      "acme:acme-1",
      "beta:beta-0",
      "beta:beta-1",
      "gamma:gamma-1",
    ]);
    // Beta's room is spent: nothing more of it, however much it has waiting.
    assert.deepEqual(
      await store.outbox.claim("host", now, 10_000, 20, {
        perOrganization: 3,
        held: new Map([["beta", 3]]),
      }),
      [],
    );
    // Without a share, the oldest due come first.
    assert.deepEqual(
      organizations(await store.outbox.claim("other", now, 10_000, 3)),
      ["beta:beta-2", "beta:beta-3", "beta:beta-4"],
    );
  });

  test("outbox leases lapse: an item whose holder never answered is due again for another", async () => {
    await using store = await engine.open();
    const now = Date.now();
    await store.outbox.enqueue([item("lapsing")]);
    const [leased] = await store.outbox.claim("dead-host", now, 1_000, 1);
    assert.ok(leased);
    assert.deepEqual(
      await store.outbox.claim("other", now + 999, 1_000, 1),
      [],
    );
    const [again] = await store.outbox.claim("other", now + 1_000, 1_000, 1);
    assert.equal(again?.id, "lapsing");
    assert.equal(again?.owner, "other");
    // The dead holder's lease is no longer the stored one.
    assert.equal(await store.outbox.finish(leased), false);
    assert.equal(await store.outbox.retry(leased, now), false);
    assert.equal(await store.outbox.finish(again!), true);
    assert.equal(await store.outbox.size(), 0);
  });

  test("outbox.retry() by the holder counts the attempt and makes the item due later", async () => {
    await using store = await engine.open();
    const now = Date.now();
    await store.outbox.enqueue([item("flaky")]);
    const [leased] = await store.outbox.claim("host", now, 10_000, 1);
    assert.equal(await store.outbox.retry(leased!, now + 5_000), true);
    assert.deepEqual(
      await store.outbox.claim("host", now + 4_999, 1_000, 1),
      [],
    );
    const [again] = await store.outbox.claim("host", now + 5_000, 1_000, 1);
    assert.equal(again?.attempts, 1);
    assert.equal(again?.dueAt, now + 5_000);
    assert.equal(await store.outbox.retry(leased!, now), false);
    assert.equal(await store.outbox.finish(again!), true);
    assert.equal(await store.outbox.finish(again!), false);
  });

  // ---- presence -----------------------------------------------------------

  test("presence lists each agent with a live beat once, and not after leave or lapse", async () => {
    await using first = await engine.open();
    await using second = await engine.open(first.location);
    const now = Date.now();
    await first.presence.beat("acme", "stream-1", "agent-1", now + 30_000);
    await second.presence.beat("acme", "stream-2", "agent-1", now + 30_000);
    await second.presence.beat("acme", "stream-3", "agent-2", now + 1_000);
    await first.presence.beat("globex", "stream-4", "agent-9", now + 30_000);
    assert.deepEqual((await first.presence.present("acme", now)).sort(), [
      "agent-1",
      "agent-2",
    ]);
    assert.deepEqual(await first.presence.present("acme", now + 1_000), [
      "agent-1",
    ]);
    await first.presence.leave("acme", "stream-1");
    // agent-1 still has another stream open.
    assert.deepEqual((await second.presence.present("acme", now)).sort(), [
      "agent-1",
      "agent-2",
    ]);
    await second.presence.leave("acme", "stream-2");
    assert.deepEqual(await second.presence.present("acme", now), ["agent-2"]);
  });

  // ---- security counters --------------------------------------------------

  test("securityCounters.add() sums counts and keeps the latest time, from two hosts", async () => {
    await using first = await engine.open();
    await using second = await engine.open(first.location);
    const hour = Date.UTC(2026, 0, 1, 10);
    const count = (key: string, n: number, lastSeen: number, at = hour) => ({
      organizationId: "acme",
      hour: at,
      metric: "boot",
      key,
      count: n,
      lastSeen,
    });
    await Promise.all([
      first.securityCounters.add([count("verified", 2, hour + 5)]),
      second.securityCounters.add([
        count("verified", 3, hour + 9),
        count("verified", 1, hour + 1),
      ]),
      first.securityCounters.add([count("absent", 1, hour + 2)]),
      second.securityCounters.add([
        count("verified", 7, hour + 3_600_000, hour + 3_600_000),
      ]),
    ]);
    const read = (await first.securityCounters.read("acme", hour, hour + 1))
      .sort((a, b) => a.key < b.key ? -1 : 1);
    assert.deepEqual(read, [
      count("absent", 1, hour + 2),
      count("verified", 6, hour + 9),
    ]);
    assert.deepEqual(
      await first.securityCounters.read("globex", hour, hour + 1),
      [],
    );
    assert.equal(await second.securityCounters.sweep(hour + 1), 2);
    assert.deepEqual(
      await first.securityCounters.read("acme", 0, hour + 1),
      [],
    );
    assert.equal(
      (await first.securityCounters.read("acme", 0, Number.MAX_SAFE_INTEGER))
        .length,
      1,
    );
  });

  test("securityCounters.add() with a cap holds at most maxKeys distinct keys per organization and hour, across batches and two hosts adding at once", async () => {
    await using first = await engine.open();
    await using second = await engine.open(first.location);
    const hour = Date.UTC(2026, 0, 1, 10);
    const cap = {
      metrics: ["origin", "refused"],
      maxKeys: 5,
      overflowKey: "(other)",
    };
    const count = (metric: string, key: string, n = 1, at = hour) => ({
      organizationId: "acme",
      hour: at,
      metric,
      key,
      count: n,
      lastSeen: at + 1,
    });
    // Two keys first; then two hosts race with four new keys each.
    await first.securityCounters.add([
      count("origin", "https://a.example"),
      count("refused", "https://b.example"),
      count("boot", "absent", 2),
    ], cap);
    // Both hosts connected, so their adds overlap.
    await second.securityCounters.read("acme", hour, hour + 1);
    await Promise.all(
      [["c", "d"], ["e", "f"], ["g", "h"], ["i", "j"]].map((names, index) =>
        (index % 2 === 0 ? first : second).securityCounters.add(
          names.map((name) => count("origin", `https://${name}.example`)),
          cap,
        )
      ),
    );
    // A held key takes no room: it is summed in any capped metric.
    await second.securityCounters.add([
      count("refused", "https://a.example", 3),
      count("origin", "https://k.example", 2),
      count("origin", "(other)", 4),
      // Another hour and another organization have room of their own.
      count("origin", "https://k.example", 1, hour + 3_600_000),
      { ...count("origin", "https://k.example"), organizationId: "globex" },
    ], cap);
    const read = await first.securityCounters.read("acme", hour, hour + 1);
    const capped = read.filter((row) => cap.metrics.includes(row.metric));
    const keys = new Set(
      capped.map((row) => row.key).filter((key) => key !== "(other)"),
    );
    assert.equal(keys.size, 5, [...keys].join(" "));
    assert.ok(keys.has("https://a.example") && keys.has("https://b.example"));
    const total = (metric: string) =>
      capped.filter((row) => row.metric === metric).reduce(
        (sum, row) => sum + row.count,
        0,
      );
    // Nothing is lost: what had no room counts under (other).
    assert.equal(total("origin"), 1 + 8 + 2 + 4);
    assert.equal(total("refused"), 1 + 3);
    assert.equal(
      read.find((row) => row.key === "(other)" && row.metric === "origin")
        ?.count,
      5 + 2 + 4,
    );
    assert.equal(
      read.find((row) =>
        row.metric === "refused" && row.key === "https://a.example"
      )
        ?.count,
      3,
    );
    assert.equal(read.find((row) => row.metric === "boot")?.count, 2);
    assert.deepEqual(
      (await first.securityCounters.read(
        "acme",
        hour + 3_600_000,
        hour + 3_600_001,
      ))
        .map((row) => row.key),
      ["https://k.example"],
    );
    assert.deepEqual(
      (await first.securityCounters.read("globex", hour, hour + 1))
        .map((row) => row.key),
      ["https://k.example"],
    );
    // Swept hours give their room back.
    assert.ok(await first.securityCounters.sweep(hour + 3_600_000) > 0);
    await first.securityCounters.add(
      [count("origin", "https://z.example")],
      cap,
    );
    assert.deepEqual(
      (await first.securityCounters.read("acme", hour, hour + 1)).map((row) =>
        row.key
      ),
      ["https://z.example"],
    );
  });

  test("securityCounters.readSummed() sums the capped metrics over the window in the store, keeps each metric's top keys and the ranking metric's, and the rest under one key", async () => {
    await using store = await engine.open();
    const hour = Date.UTC(2026, 0, 1, 10);
    const H = 3_600_000;
    const count = (at: number, metric: string, key: string, n: number) => ({
      organizationId: "acme",
      hour: at,
      metric,
      key,
      count: n,
      lastSeen: at + n,
    });
    await store.securityCounters.add([
      count(hour - 5 * H, "boot", "absent", 1),
      count(hour - 5 * H, "origin", "https://old.example", 100),
      count(hour - H, "origin", "https://a.example", 5),
      count(hour, "origin", "https://a.example", 5),
      count(hour, "origin", "https://b.example", 7),
      count(hour, "origin", "https://c.example", 1),
      count(hour, "origin", "https://d.example", 1),
      count(hour, "refused", "https://c.example", 9),
      count(hour, "refused", "https://d.example", 2),
      count(hour, "refused", "https://a.example", 1),
      count(hour, "boot", "absent", 3),
    ], {
      metrics: ["origin", "refused"],
      maxKeys: 100,
      overflowKey: "(other)",
    });
    const rows = await store.securityCounters.readSummed(
      "acme",
      hour - 10 * H,
      hour + H,
      {
        metrics: ["origin", "refused"],
        fromHour: hour - 2 * H,
        limit: 2,
        rankBy: "origin",
        restKey: "(rest)",
      },
    );
    const shown = (metric: string) =>
      Object.fromEntries(
        rows.filter((row) => row.metric === metric).map((row) => [
          row.key,
          row.count,
        ]),
      );
    assert.deepEqual(shown("origin"), {
      "https://a.example": 10,
      "https://b.example": 7,
      "(rest)": 2,
    });
    // The top two refused, and a.example because origin ranks it.
    assert.deepEqual(shown("refused"), {
      "https://a.example": 1,
      "https://c.example": 9,
      "https://d.example": 2,
    });
    for (const row of rows.filter((row) => row.metric !== "boot")) {
      assert.equal(row.hour, hour - 2 * H);
    }
    assert.equal(
      rows.find((row) =>
        row.key === "https://a.example" && row.metric === "origin"
      )
        ?.lastSeen,
      hour + 5,
    );
    // Other metrics come per hour, over the whole read.
    assert.deepEqual(
      rows.filter((row) => row.metric === "boot").map((row) => [
        row.hour,
        row.count,
      ]).sort(),
      [[hour - 5 * H, 1], [hour, 3]].sort(),
    );
  });

  // ---- the store ----------------------------------------------------------

  test("ping() answers while the store is open", async () => {
    await using store = await engine.open();
    await store.ping();
    assert.equal(store.engine, engine.name);
  });
}

if (storeEngines().some((engine) => engine.name === "postgres")) {
  Deno.test("postgres: after the listener reconnects, every watcher is told (a notice may have been missed)", async () => {
    const [engine] = storeEngines().filter((each) => each.name === "postgres");
    await using store = await engine!.open();
    const pg = store as unknown as {
      changes: { disconnect(): Promise<void>; readonly listening: boolean };
    };
    const told = { acme: 0, globex: 0 };
    const stopAcme = store.changes.watch("acme", () => told.acme++);
    const stopGlobex = store.changes.watch("globex", () => told.globex++);
    try {
      await waitUntil(() => pg.changes.listening);
      const before = { ...told };
      await pg.changes.disconnect();
      await waitUntil(() =>
        pg.changes.listening && told.acme > before.acme &&
        told.globex > before.globex
      );
    } finally {
      stopAcme();
      stopGlobex();
    }
  });

  Deno.test("postgres: a change to a conversation this host just read or wrote is one statement, and one after another host's write two", async () => {
    const [engine] = storeEngines().filter((each) => each.name === "postgres");
    await using first = await engine!.open();
    await using second = await engine!.open(first.location);
    const statements = () => first.roundTrips!();
    const conversation = await openFresh(first);
    const page = (url: string) => (current: Conversation) => ({
      conversation: { ...current, page: { url } },
    });
    let before = statements();
    await first.conversations.update("acme", conversation.id, page("a"));
    assert.equal(statements() - before, 1, "after its own insert");
    before = statements();
    await first.conversations.update("acme", conversation.id, page("b"));
    assert.equal(statements() - before, 1, "after its own write");
    assert.ok(await first.conversations.find("acme", conversation.participant));
    before = statements();
    await say(first, conversation, "hello");
    assert.equal(statements() - before, 1, "after a lookup");
    await second.conversations.update("acme", conversation.id, page("c"));
    before = statements();
    const written = await first.conversations.update(
      "acme",
      conversation.id,
      (current) => ({
        conversation: { ...current, page: { url: `${current.page?.url}d` } },
      }),
    );
    // The write that missed answered the row as it is: no read between.
    assert.equal(statements() - before, 2, "after another host's write");
    assert.equal(written?.page?.url, "cd");
  });

  Deno.test("postgres: location, errors and health never show the URL's password", async () => {
    await using cluster = await startCluster();
    const url = await cluster.createDatabase();
    const store = await openStore(url);
    try {
      assert.equal(store.engine, "postgres");
      assert.match(store.location, /^postgres:\/\/127\.0\.0\.1:\d+\/parley_/);
      assert.ok(!store.location.includes(cluster.password));
      await cluster.stop();
      const failure = await store.ping().then(() => undefined, (e) => e);
      assert.ok(failure instanceof StoreUnavailableError);
      for (
        const text of [
          failure.message,
          String(failure.cause),
          JSON.stringify(failure),
          Deno.inspect(failure, { depth: 10 }),
        ]
      ) {
        assert.ok(!text.includes(cluster.password), text);
      }
    } finally {
      await store.close();
    }
    // Refused at start as well: the error names the place, not the password.
    const refused = await openStore(url).then(() => undefined, (e) => e);
    assert.ok(refused instanceof StoreUnavailableError);
    assert.ok(!Deno.inspect(refused, { depth: 10 }).includes(cluster.password));
  });

  Deno.test("postgres: an unreachable database fails fast with StoreUnavailableError, and the same store recovers when it returns", async () => {
    await using cluster = await startCluster();
    const url = await cluster.createDatabase();
    const store = await openPostgresStore(url, { connectTimeoutS: 2 });
    try {
      const participant = visitor();
      const conversation = await store.conversations.open(
        "acme",
        participant,
        {
          create: () => conversationFor("acme", participant),
          refresh: () => undefined,
        },
      );
      let told = 0;
      const stop = store.changes.watch("acme", () => told++);
      await waitUntil(() => store.changes.listening);
      await cluster.stop();
      // Only a listener that connects again tells its watchers.
      const toldBefore = told;
      const operations: [string, () => Promise<unknown>][] = [
        ["charge", () => store.counters.charge([[slot("ip:z", 5)]])],
        ["get", () => store.conversations.get("acme", conversation.id)],
        ["claim", () => store.outbox.claim("host", Date.now(), 1000, 5)],
        [
          "getOrCreate",
          () => store.settings.getOrCreate("x", () => new Uint8Array(1)),
        ],
        ["ping", () => store.ping()],
      ];
      for (const [name, operation] of operations) {
        const started = performance.now();
        await assert.rejects(operation(), StoreUnavailableError, name);
        const ms = performance.now() - started;
        assert.ok(ms < 5_000, `${name} took ${ms.toFixed(0)} ms`);
      }
      await cluster.start();
      const back = performance.now();
      await waitUntil(async () => {
        try {
          await store.ping();
          return true;
        } catch {
          return false;
        }
      });
      const outcomes = await store.counters.charge([[slot("ip:z", 5)]]);
      assert.deepEqual(outcomes, [[{ admitted: true, count: 1 }]]);
      // The listener came back on its own and told its watcher.
      await waitUntil(() => store.changes.listening && told > toldBefore);
      const recoveredMs = performance.now() - back;
      assert.ok(recoveredMs < 10_000, `recovered in ${recoveredMs} ms`);
      console.log(
        `recovered ${recoveredMs.toFixed(0)} ms after the database came back`,
      );
      stop();
    } finally {
      await store.close();
    }
  });
}

/** Polls `condition` every 50 ms for up to 10 s. */
async function waitUntil(
  condition: () => boolean | Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("Condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

Deno.test("ChangeListeners tell each organization's listeners and report who is watched", () => {
  let changes = 0;
  const listeners = new ChangeListeners(() => changes++);
  const told: string[] = [];
  const stopA = listeners.add("acme", () => told.push("a"));
  const stopB = listeners.add("acme", () => told.push("b"));
  listeners.add("globex", () => told.push("g"));
  listeners.notify("acme");
  assert.deepEqual(told, ["a", "b"]);
  listeners.notifyAll();
  assert.deepEqual(told, ["a", "b", "a", "b", "g"]);
  stopA();
  stopB();
  assert.deepEqual(listeners.organizations(), ["globex"]);
  assert.equal(changes, 3);
});

Deno.test("openStore() refuses KV Connect URLs and unknown schemes with a RangeError", async () => {
  for (
    const url of ["https://kv.example/db", "http://127.0.0.1:4512", "redis://x"]
  ) {
    await assert.rejects(openStore(url), RangeError, url);
  }
});
