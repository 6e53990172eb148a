import assert from "node:assert/strict";
import {
  type EventFrame,
  readEventStream,
  streamEventOf,
} from "./event_stream.ts";

/** A byte stream delivering the given chunks, as a fetch body would. */
function bodyOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function eventsOf(chunks: string[], lastEventId?: string): Promise<{
  events: EventFrame[];
  lastId: string;
}> {
  const events: EventFrame[] = [];
  const lastId = await readEventStream(
    bodyOf(chunks),
    (event) => events.push(event),
    lastEventId,
  );
  return { events, lastId };
}

const cases: {
  name: string;
  chunks: string[];
  events: EventFrame[];
  lastId: string;
}[] = [
  {
    name: "one message event with id",
    chunks: ['event: message\nid: m1\ndata: {"id":"m1"}\n\n'],
    events: [{ event: "message", id: "m1", data: '{"id":"m1"}' }],
    lastId: "m1",
  },
  {
    name: "heartbeat comments are skipped",
    chunks: [": ping\n\n: ping\n\ndata: x\n\n"],
    events: [{ event: "message", id: "", data: "x" }],
    lastId: "",
  },
  {
    name: "an event split across chunks, mid-line and mid-CRLF",
    chunks: ["ev", "ent: message\r", "\nid: 7\r\nda", "ta: a\r\n\r", "\n"],
    events: [{ event: "message", id: "7", data: "a" }],
    lastId: "7",
  },
  {
    name: "multi-line data joins with newlines",
    chunks: ["data: one\ndata: two\ndata\n\n"],
    events: [{ event: "message", id: "", data: "one\ntwo\n" }],
    lastId: "",
  },
  {
    name: "lone CR line endings",
    chunks: ["data: a\r\rdata: b\r\r"],
    events: [{ event: "message", id: "", data: "a" }, {
      event: "message",
      id: "",
      data: "b",
    }],
    lastId: "",
  },
  {
    name: "the id carries over to later events without one",
    chunks: ["id: 3\ndata: a\n\ndata: b\n\n"],
    events: [{ event: "message", id: "3", data: "a" }, {
      event: "message",
      id: "3",
      data: "b",
    }],
    lastId: "3",
  },
  {
    name: "an unfinished event at the end is dropped",
    chunks: ["data: done\n\ndata: half"],
    events: [{ event: "message", id: "", data: "done" }],
    lastId: "",
  },
  {
    name: "an event with no data is not dispatched",
    chunks: ["event: message\nid: 9\n\n"],
    events: [],
    lastId: "9",
  },
];

for (const row of cases) {
  Deno.test(`readEventStream() ${row.name}`, async () => {
    const { events, lastId } = await eventsOf(row.chunks);
    assert.deepEqual(events, row.events);
    assert.equal(lastId, row.lastId);
  });
}

Deno.test("readEventStream() decodes a UTF-8 character split across chunks", async () => {
  const bytes = new TextEncoder().encode("data: café\n\n");
  const split = bytes.indexOf(0xc3) + 1;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes.slice(0, split));
      controller.enqueue(bytes.slice(split));
      controller.close();
    },
  });
  const events: EventFrame[] = [];
  await readEventStream(body, (event) => events.push(event));
  assert.deepEqual(events, [{ event: "message", id: "", data: "café" }]);
});

Deno.test("readEventStream() starts from the given Last-Event-ID", async () => {
  const { events, lastId } = await eventsOf(["data: x\n\n"], "m41");
  assert.deepEqual(events, [{ event: "message", id: "m41", data: "x" }]);
  assert.equal(lastId, "m41");
});

const FRAMES: [string, EventFrame, boolean][] = [
  [
    "a message of the agent stream",
    { event: "message", id: "7", data: '{"conversationId":"c1","id":"m1"}' },
    true,
  ],
  [
    "a conversation change of the agent stream",
    { event: "conversation", id: "8", data: '{"conversationId":"c1"}' },
    true,
  ],
  [
    "an event name the stream does not send",
    { event: "surprise", id: "", data: "{}" },
    false,
  ],
  ["data that is not JSON", { event: "typing", id: "", data: "{" }, false],
  ["data that is not an object", { event: "closed", id: "", data: "3" }, false],
  ["null data", { event: "closed", id: "", data: "null" }, false],
];

for (const [name, frame, kept] of FRAMES) {
  Deno.test(`streamEventOf() ${kept ? "reads" : "skips"} ${name}`, () => {
    const event = streamEventOf(frame, "agent.stream");
    assert.deepEqual(
      event,
      kept ? { event: frame.event, data: JSON.parse(frame.data) } : undefined,
    );
  });
}

Deno.test("streamEventOf() skips an agent-only event on a visitor's stream", () => {
  assert.equal(
    streamEventOf(
      { event: "conversation", id: "", data: '{"conversationId":"c1"}' },
      "chat.stream",
    ),
    undefined,
  );
});
