import assert from "node:assert/strict";
import type { DecisionLogEntry } from "./decision_log.ts";
import { foldRefusals } from "./refusal_fold.ts";

const T0 = Date.UTC(2026, 11, 1, 9, 0);

function entry(
  at: number,
  extra: Partial<DecisionLogEntry> = {},
): DecisionLogEntry {
  return {
    decisionId: crypto.randomUUID(),
    time: new Date(T0 + at).toISOString(),
    policyRevision: "abc123",
    organizationId: "shop",
    origin: "https://shop.example",
    ip: "203.0.113.7",
    method: "chat.boot",
    outcome: "rejected",
    code: "RATE_LIMITED",
    reason: "limit.ip",
    ...extra,
  };
}

/** A fold whose windows end only when the test says so. */
function fold() {
  const lines: DecisionLogEntry[] = [];
  const folding = foldRefusals((line) => lines.push(line), {
    windowMs: 3_600_000,
  });
  return { lines, folding };
}

Deno.test("foldRefusals() writes a limit's first refusal at once and the rest of the window as one line with their count", () => {
  const { lines, folding } = fold();
  for (let i = 0; i < 10_000; i++) folding.write(entry(i));
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.count, undefined);
  folding.flush();
  assert.equal(lines.length, 2);
  assert.equal(lines[1]!.count, 9_999);
  assert.equal(lines[1]!.time, new Date(T0 + 1).toISOString());
  assert.equal(lines[1]!.until, new Date(T0 + 9_999).toISOString());
  assert.equal(lines[1]!.reason, "limit.ip");
  assert.equal(lines[1]!.ip, "203.0.113.7");
  // A steady flood: one line per window.
  for (let i = 0; i < 500; i++) folding.write(entry(10_000 + i));
  folding.flush();
  assert.equal(lines.length, 3);
  assert.equal(lines[2]!.count, 500);
  folding.close();
});

Deno.test("foldRefusals() forgets a key quiet for a whole window: its next refusal is written at once", () => {
  const { lines, folding } = fold();
  folding.write(entry(0));
  folding.flush();
  folding.flush();
  folding.write(entry(1));
  assert.equal(lines.length, 2);
  assert.equal(lines[1]!.count, undefined);
  folding.close();
});

Deno.test("foldRefusals() folds per organization, IP and reason", () => {
  const { lines, folding } = fold();
  const rows: Partial<DecisionLogEntry>[] = [
    {},
    { ip: "203.0.113.8" },
    { organizationId: "other" },
    { organizationId: null },
    { reason: "limits.auth_failures" },
    { reason: "limit.session" },
  ];
  for (const row of rows) {
    folding.write(entry(0, row));
    folding.write(entry(1, row));
    folding.write(entry(2, row));
  }
  assert.equal(lines.length, rows.length, "each key's first, at once");
  folding.close();
  assert.equal(lines.length, 2 * rows.length);
  assert.deepEqual(
    lines.slice(rows.length).map((line) => line.count),
    rows.map(() => 2),
  );
});

Deno.test("foldRefusals() passes every other decision through, one line each", () => {
  const { lines, folding } = fold();
  const others: Partial<DecisionLogEntry>[] = [
    { code: "DOMAIN_NOT_ALLOWED", reason: "domain.not_allowed" },
    { code: "JWT_INVALID", reason: "jwt.signature" },
    { code: "SESSION_INVALID", reason: "agent.key_invalid" },
    { outcome: "report", code: "DOMAIN_NOT_ALLOWED" },
    { outcome: "error", code: "INTERNAL", reason: "internal.bug" },
  ];
  for (const other of others) {
    for (let i = 0; i < 3; i++) folding.write(entry(i, other));
  }
  assert.equal(lines.length, 3 * others.length);
  assert.ok(lines.every((line) => line.count === undefined));
  folding.close();
  assert.equal(lines.length, 3 * others.length);
});

Deno.test("foldRefusals() holds at most maxKeys keys: a further key's refusals pass through unfolded", () => {
  const lines: DecisionLogEntry[] = [];
  const folding = foldRefusals((line) => lines.push(line), {
    windowMs: 3_600_000,
    maxKeys: 2,
  });
  for (const ip of ["198.51.100.1", "198.51.100.2", "198.51.100.3"]) {
    for (let i = 0; i < 5; i++) folding.write(entry(i, { ip }));
  }
  assert.equal(lines.length, 1 + 1 + 5);
  folding.close();
  assert.equal(lines.length, 1 + 1 + 5 + 2);
});

Deno.test("foldRefusals() folds refusals naming organizations the policy does not know as one, _unknown", () => {
  const lines: DecisionLogEntry[] = [];
  const folding = foldRefusals((line) => lines.push(line), {
    windowMs: 3_600_000,
    known: (organizationId) => organizationId === "shop",
  });
  for (let i = 0; i < 1_000; i++) {
    folding.write(entry(i, { organizationId: crypto.randomUUID() }));
  }
  folding.write(entry(1_000, { organizationId: null }));
  assert.equal(lines.length, 1);
  folding.close();
  assert.equal(lines.length, 2);
  assert.equal(lines[1]!.organizationId, "_unknown");
  assert.equal(lines[1]!.count, 1_000);
});
