/**
 * The live feed on PostgreSQL: what this host writes reaches its own
 * watchers with at most one read of the feed (the entry comes with the
 * commit; the notice of it, which the listener also gets, may start one read
 * first); what another host writes arrives through the notice and a read. Skipped where PostgreSQL
 * is not installed (see `store_engines.ts`); a failure where
 * `PARLEY_REQUIRE_POSTGRES=1`.
 */

import assert from "node:assert/strict";
import { LiveFeed } from "../chat/live_feed.ts";
import type { WatchEvent } from "../chat/live_watch.ts";
import type { Conversation } from "../store/conversation_store.ts";
import type { ChatMessage } from "../wire/records.ts";
import { storeEngines, type TestStore } from "./store_engines.ts";

const engine = storeEngines().find((each) => each.name === "postgres");

let clock = 0;
async function say(
  store: TestStore,
  conversation: Conversation,
  text: string,
): Promise<void> {
  await store.conversations.append("acme", conversation.id, (current) => {
    const message: ChatMessage = {
      id: (++clock).toString(16).padStart(24, "0"),
      text,
      author: "visitor",
      at: new Date(Date.UTC(2026, 0, 2) + clock).toISOString(),
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
  }, 100);
}

async function waitUntil(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("Condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

if (engine !== undefined) {
  Deno.test("postgres: a live watch takes this host's own message with at most one feed read, and another host's through the notice", async () => {
    await using first = await engine.open();
    await using second = await engine.open(first.location);
    const participant = {
      kind: "visitor" as const,
      visitorId: "live-feed-visitor-0123456789",
    };
    const at = new Date(Date.UTC(2026, 0, 1)).toISOString();
    const conversation = await first.conversations.open("acme", participant, {
      create: () => ({
        id: "livefeedconversation01",
        organizationId: "acme",
        participant,
        verified: false,
        attributes: {},
        status: "open",
        createdAt: at,
        updatedAt: at,
        messageCount: 0,
        trimmed: 0,
      }),
      refresh: () => undefined,
    });
    const live = new LiveFeed(first.conversations, first.changes);
    const statements = () => first.roundTrips!();
    const heard: { text: string; statements: number }[] = [];
    // From the first message, so the first say counts however it and the watch's start interleave.
    const watch = live.watchConversation(
      "acme",
      conversation.id,
      { after: "" },
      {
        event(event: WatchEvent) {
          if (event.kind === "message") {
            heard.push({ text: event.message.text, statements: statements() });
          }
        },
        end() {},
      },
    );
    try {
      // Another host's message: told by the notice, read once.
      await say(second, conversation, "from the other host");
      await waitUntil(() => heard.length === 1);
      // Let the listener's own notices of the above settle.
      await new Promise((resolve) => setTimeout(resolve, 300));
      // This host knows the version the other host wrote: its append is one statement.
      await first.conversations.get("acme", conversation.id);
      const before = statements();
      await say(first, conversation, "from this host");
      await waitUntil(() => heard.length === 2);
      // The notice of its own commit may come before the commit's answer or
      // after it: either way one read (or none) follows, never two.
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(heard[1]!.text, "from this host");
      assert.ok(
        statements() - before <= 2,
        `the commit and at most one read, got ${
          statements() - before
        } statements`,
      );
      await say(second, conversation, "from the other host again");
      await waitUntil(() => heard.length === 3);
      assert.deepEqual(heard.map((each) => each.text), [
        "from the other host",
        "from this host",
        "from the other host again",
      ]);
    } finally {
      watch.stop();
      live.close();
    }
  });
}
