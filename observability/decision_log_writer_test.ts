import assert from "node:assert/strict";
import type { DecisionLogEntry } from "./decision_log.ts";
import { openDecisionLogWriter } from "./decision_log_writer.ts";

function entry(index: number): DecisionLogEntry {
  return {
    decisionId: `decision-${index}`,
    time: new Date(Date.UTC(2026, 11, 1) + index).toISOString(),
    policyRevision: "abc123",
    organizationId: "shop",
    origin: null,
    ip: "203.0.113.7",
    method: "chat.boot",
    outcome: "rejected",
    code: "DOMAIN_NOT_ALLOWED",
    reason: "domain.not_allowed",
  };
}

Deno.test("openDecisionLogWriter() appends JSON lines in order, and close() waits for every queued one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley_log_" });
  try {
    const path = `${dir}/decisions.jsonl`;
    await Deno.writeTextFile(path, '{"earlier":true}\n');
    const writer = openDecisionLogWriter(path);
    for (let i = 0; i < 2_000; i++) writer.write(entry(i));
    await writer.close();
    const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
    assert.equal(lines.length, 2_001);
    assert.deepEqual(JSON.parse(lines[0]!), { earlier: true });
    assert.deepEqual(
      lines.slice(1).map((line) => JSON.parse(line).decisionId),
      Array.from({ length: 2_000 }, (_, i) => `decision-${i}`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openDecisionLogWriter() never waits for a stalled target: past its bound, lines are dropped and counted", () => {
  let drops = 0;
  const stalled = { write: () => new Promise<number>(() => {}) };
  const writer = openDecisionLogWriter(stalled, {
    maxQueuedLines: 100,
    onDrop: () => drops++,
  });
  const started = performance.now();
  // The first line is being written (forever); 100 wait; the rest are dropped.
  for (let i = 0; i < 1_000; i++) writer.write(entry(i));
  assert.ok(performance.now() - started < 1_000, "write() waited");
  assert.equal(drops, 1_000 - 1 - 100);
});

Deno.test("openDecisionLogWriter() counts the lines of a failed write as dropped, and goes on", async () => {
  let drops = 0;
  let calls = 0;
  const written: string[] = [];
  const flaky = {
    write(bytes: Uint8Array): Promise<number> {
      if (calls++ === 0) return Promise.reject(new Error("disk full"));
      written.push(new TextDecoder().decode(bytes));
      return Promise.resolve(bytes.length);
    },
  };
  const writer = openDecisionLogWriter(flaky, { onDrop: () => drops++ });
  const error = console.error;
  console.error = () => {};
  try {
    writer.write(entry(0));
    await writer.drained();
    writer.write(entry(1));
    await writer.drained();
  } finally {
    console.error = error;
  }
  assert.equal(drops, 1);
  assert.equal(JSON.parse(written.join("")).decisionId, "decision-1");
});
