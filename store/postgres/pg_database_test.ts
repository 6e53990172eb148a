import assert from "node:assert/strict";
import {
  postgresAvailability,
  sharedCluster,
} from "../../tests/postgres_cluster.ts";
import { postgresRequired } from "../../tests/store_engines.ts";
import { StoreDataError } from "../store_data_error.ts";
import { StoreUnavailableError } from "../store_unavailable_error.ts";
import { parsePostgresUrl, PgDatabase, type Sql } from "./pg_database.ts";

Deno.test("parsePostgresUrl() shows host, port and database, never the credentials", () => {
  const rows: [string, string][] = [
    [
      "postgres://parley:s3cret@db.internal:6432/chat",
      "postgres://db.internal:6432/chat",
    ],
    [
      "postgresql://parley:s3cret@db.internal/chat",
      "postgres://db.internal:5432/chat",
    ],
    [
      "postgres://parley:p%40ss@[::1]:5433/chat?sslmode=require",
      "postgres://[::1]:5433/chat",
    ],
  ];
  for (const [url, location] of rows) {
    const target = parsePostgresUrl(url);
    assert.equal(target.location, location);
    assert.ok(!target.location.includes("s3cret"));
    assert.ok(!target.location.includes("parley"));
  }
  const target = parsePostgresUrl(
    "postgres://parley:p%40ss@[::1]:5433/chat?sslmode=require",
  );
  assert.equal(target.password, "p@ss");
  assert.equal(target.host, "::1");
  assert.equal(target.parameters.sslmode, "require");
});

Deno.test("parsePostgresUrl() refuses what is not a PostgreSQL URL without repeating it", () => {
  for (
    const url of [
      "mysql://root:hunter2@db/x",
      "postgres//root:hunter2@db/x",
      "::",
    ]
  ) {
    assert.throws(
      () => parsePostgresUrl(url),
      (error: unknown) =>
        error instanceof RangeError && !error.message.includes("hunter2"),
      url,
    );
  }
});

if (postgresAvailability().available || postgresRequired()) {
  Deno.test("PgDatabase.run() cancels a statement left unanswered past statementTimeoutMs and fails it as StoreUnavailableError", async () => {
    const url = await (await sharedCluster()).createDatabase();
    const database = new PgDatabase(parsePostgresUrl(url), {
      statementTimeoutMs: 300,
    });
    try {
      const started = performance.now();
      await assert.rejects(
        database.run("Sleeping", (sql) => sql`SELECT pg_sleep(5)`),
        StoreUnavailableError,
      );
      assert.ok(performance.now() - started < 2_000);
      // The pool goes on serving.
      const [row] = await database.run(
        "Adding",
        (sql) => sql`SELECT 1 + 1 AS sum`,
      );
      assert.equal(row?.sum, 2);
      assert.equal(database.roundTrips(), 2);
    } finally {
      await database.end();
    }
  });

  Deno.test("PgDatabase.run() fails a value the database refuses as StoreDataError, never as unavailable, and keeps the value out of the message", async () => {
    const url = await (await sharedCluster()).createDatabase();
    const database = new PgDatabase(parsePostgresUrl(url));
    const rows: [
      string,
      (sql: Sql) => Promise<readonly unknown[]>,
      string,
      string,
    ][] = [
      [
        "a NUL in text",
        (sql) => sql`SELECT ${"secret\u0000value"}::text AS t`,
        "text",
        "22021",
      ],
      [
        "a NUL in JSON",
        (sql) =>
          sql`SELECT ${sql.json({ v: "secret\u0000value" })}::jsonb AS j`,
        "text",
        "22P05",
      ],
      [
        "a division by zero",
        (sql) => sql`SELECT 1 / ${0}::integer`,
        "other",
        "22012",
      ],
    ];
    try {
      for (const [what, statement, kind, state] of rows) {
        await assert.rejects(
          database.run("Testing", statement),
          (error: unknown) =>
            error instanceof StoreDataError && error.kind === kind &&
            error.engineCode === state && !error.message.includes("secret"),
          what,
        );
      }
      const [row] = await database.run(
        "Adding",
        (sql) => sql`SELECT 1 + 1 AS sum`,
      );
      assert.equal(row?.sum, 2);
    } finally {
      await database.end();
    }
  });

  Deno.test("PgDatabase sessions bound lock waits, idle transactions and statements on the server's side too", async () => {
    const url = await (await sharedCluster()).createDatabase();
    const database = new PgDatabase(parsePostgresUrl(url));
    try {
      const [row] = await database.run(
        "Settings",
        (sql) =>
          sql<{ lock: string; idle: string; statement: string }[]>`
          SELECT current_setting('lock_timeout') AS lock,
            current_setting('idle_in_transaction_session_timeout') AS idle,
            current_setting('statement_timeout') AS statement`,
      );
      assert.deepEqual(row, { lock: "1500ms", idle: "10s", statement: "1min" });
    } finally {
      await database.end();
    }
  });
}
