import assert from "node:assert/strict";
import { ChatStore } from "./chat_store.ts";
import { LiveFeed } from "./live_feed.ts";
import { createKvStore } from "../store/kv/kv_store.ts";
import {
  EVENT_STREAM_HEADERS,
  eventStream,
  type ServerSentEvent,
} from "./event_stream.ts";

const decoder = new TextDecoder();

async function* fromArray<T>(
  events: ServerSentEvent<T>[],
): AsyncGenerator<ServerSentEvent<T>> {
  for (const event of events) yield await Promise.resolve(event);
}

/** Resolves when `signal` aborts; never rejects. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/** Reads until `predicate` holds for the text so far, or fails after `timeoutMs`. */
async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  predicate: (text: string) => boolean,
  timeoutMs = 5_000,
): Promise<string> {
  let text = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Stream gave ${text}`)),
      timeoutMs,
    );
  });
  try {
    while (!predicate(text)) {
      const { value, done } = await Promise.race([reader.read(), timeout]);
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(timer);
  }
  return text;
}

Deno.test("eventStream() frames events with id, event and JSON data", async () => {
  const controller = new AbortController();
  const body = eventStream(
    fromArray([
      { id: "1", event: "message", data: { text: "Hi\nthere" } },
      { id: "2", event: "closed", data: null },
    ]),
    { signal: controller.signal, retryMs: 3_000 },
  );
  const text = await new Response(body).text();
  assert.equal(
    text,
    "retry: 3000\n\n" +
      'id: 1\nevent: message\ndata: {"text":"Hi\\nthere"}\n\n' +
      "id: 2\nevent: closed\ndata: null\n\n",
  );
});

Deno.test("eventStream() sends heartbeats while no event comes", async () => {
  const controller = new AbortController();
  // A source with nothing to say until the stream ends.
  const silent: AsyncIterable<ServerSentEvent<string>> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        await aborted(controller.signal);
        return { done: true, value: undefined };
      },
    }),
  };
  const reader = eventStream(silent, {
    signal: controller.signal,
    heartbeatMs: 10,
  }).getReader();
  const text = await readUntil(
    reader,
    (so) => so.split(": ping\n\n").length > 3,
  );
  assert.match(text, /^(: ping\n\n)+$/);
  controller.abort();
  assert.equal((await reader.read()).done, true);
});

Deno.test("eventStream() closes cleanly when the signal aborts", async () => {
  const controller = new AbortController();
  let sourceEnded = false;
  async function* oneThenWait(): AsyncGenerator<ServerSentEvent<number>> {
    try {
      yield { id: "a", event: "message", data: 1 };
      await aborted(controller.signal);
    } finally {
      sourceEnded = true;
    }
  }
  const reader = eventStream(oneThenWait(), { signal: controller.signal })
    .getReader();
  const first = await readUntil(reader, (text) => text.endsWith("\n\n"));
  assert.equal(first, "id: a\nevent: message\ndata: 1\n\n");
  controller.abort();
  assert.equal((await reader.read()).done, true);
  // The source's pending step settles on abort, then it is asked to return.
  for (let tries = 0; tries < 50 && !sourceEnded; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(sourceEnded, true);
});

Deno.test("eventStream() stops pulling events when the consumer cancels", async () => {
  const controller = new AbortController();
  let pulled = 0;
  let sourceEnded = false;
  async function* endless(): AsyncGenerator<ServerSentEvent<number>> {
    try {
      for (let index = 0; index < 1_000; index++) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        pulled++;
        yield { id: String(index), event: "tick", data: index };
      }
    } finally {
      sourceEnded = true;
    }
  }
  const reader = eventStream(endless(), { signal: controller.signal })
    .getReader();
  await readUntil(reader, (text) => text.includes("id: 2\n"));
  await reader.cancel();
  for (let tries = 0; tries < 50 && !sourceEnded; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(sourceEnded, true);
  assert.ok(pulled < 1_000);
  controller.abort();
});

Deno.test("eventStream() ends at once for an aborted signal", async () => {
  const controller = new AbortController();
  controller.abort();
  const text = await new Response(
    eventStream(fromArray([{ id: "1", event: "message", data: 1 }]), {
      signal: controller.signal,
    }),
  ).text();
  assert.equal(text, "");
});

Deno.test("eventStream() refuses an id that would inject a frame", async () => {
  const controller = new AbortController();
  const body = eventStream(
    fromArray([{ id: "1\nevent: admin", event: "message", data: 1 }]),
    { signal: controller.signal },
  );
  await assert.rejects(new Response(body).text(), TypeError);
});

Deno.test("eventStream() of a chat watch resumes from the last event id", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley_sse_" });
  const kv = await Deno.openKv(`${dir}/kv.sqlite`);
  const records = createKvStore(kv);
  try {
    const store = new ChatStore(records.conversations);
    const live = new LiveFeed(records.conversations, records.changes);
    const conversation = await store.openConversation(
      "acme",
      { kind: "visitor", visitorId: store.newVisitorId() },
      {},
    );
    const first = await store.append("acme", conversation.id, "visitor", "a");
    await store.append("acme", conversation.id, "agent", "b");

    const controller = new AbortController();
    const frames = async function* (): AsyncGenerator<
      ServerSentEvent<unknown>
    > {
      const watch = live.conversation("acme", conversation.id, {
        after: first.id,
        signal: controller.signal,
      });
      for await (const update of watch) {
        if (update.kind !== "message") continue;
        yield { id: update.cursor, event: "message", data: update.message };
      }
    };
    const response = new Response(
      eventStream(frames(), { signal: controller.signal }),
      { headers: EVENT_STREAM_HEADERS },
    );
    assert.equal(
      response.headers.get("content-type"),
      "text/event-stream; charset=utf-8",
    );
    const reader = response.body!.getReader();
    const resumed = readUntil(reader, (text) => text.includes('"text":"c"'));
    const third = await store.append("acme", conversation.id, "visitor", "c");
    const text = await resumed;
    assert.doesNotMatch(text, /"text":"a"/);
    assert.match(text, /"text":"b"/);
    assert.match(text, new RegExp(`id: ${third.id}\nevent: message\n`));
    controller.abort();
    assert.equal((await reader.read()).done, true);
  } finally {
    await records.close();
    await Deno.remove(dir, { recursive: true });
  }
});
