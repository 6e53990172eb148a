import assert from "node:assert/strict";
import postgres from "postgres";
import { postgresAvailability, sharedCluster } from "./postgres_cluster.ts";
import { postgresRequired } from "./store_engines.ts";

const runs = postgresAvailability().available || postgresRequired();

Deno.test({
  name:
    "the shared cluster gives every caller a fresh, empty database of its own, and refuses to be stopped, paused or disposed",
  ignore: !runs,
  async fn() {
    const cluster = await sharedCluster();
    assert.equal(await sharedCluster(), cluster, "one cluster per file");
    const [first, second] = [
      await cluster.createDatabase(),
      await cluster.createDatabase(),
    ];
    assert.notEqual(first, second);
    for (const url of [first, second]) {
      const sql = postgres(url, { max: 1, onnotice: () => {} });
      try {
        const tables = await sql`
          SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`;
        assert.equal(tables[0]!.n, 0);
        await sql`CREATE TABLE marker (id int)`;
      } finally {
        await sql.end();
      }
    }
    await assert.rejects(cluster.stop(), /shared cluster cannot stop/);
    await assert.rejects(cluster.pause(), /shared cluster cannot pause/);
    await assert.rejects(
      async () => await cluster[Symbol.asyncDispose](),
      /shared cluster cannot dispose/,
    );
  },
});
