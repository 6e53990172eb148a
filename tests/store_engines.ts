/**
 * The storage engines tests run on: Deno KV always (a real file in a temp
 * dir), PostgreSQL when this machine has it (a throwaway cluster, one fresh
 * database per store). Tests that exercise storage loop over
 * {@linkcode storeEngines} so one suite holds both adapters to one behaviour.
 *
 * @module
 */

import { createKvStore } from "../store/kv/kv_store.ts";
import {
  openPostgresStore,
  type PostgresStore,
} from "../store/postgres/postgres_store.ts";
import type { Store } from "../store/store.ts";
import { postgresAvailability, sharedCluster } from "./postgres_cluster.ts";

/** An open store that a test disposes of. */
export type TestStore = Store & AsyncDisposable & {
  /** What `PARLEY_STORE` would say to reach it (for server processes). */
  readonly location: string;
};

/** One engine a suite runs on. */
export interface TestEngine {
  /** `kv` or `postgres`, for test names. */
  readonly name: "kv" | "postgres";
  /**
   * A new, empty store. `shared` names an existing one to open a second
   * connection to (another process or host on the same data).
   */
  open(shared?: string): Promise<TestStore>;
  /** A new, empty location for a server process's `PARLEY_STORE`. */
  location(): Promise<string>;
}

const kvEngine: TestEngine = {
  name: "kv",
  async open(shared) {
    const path = shared ?? await kvLocation();
    const kv = await Deno.openKv(path);
    const store = createKvStore(kv, { location: path });
    return Object.assign(store, {
      location: path,
      async [Symbol.asyncDispose]() {
        await store.close();
        if (shared === undefined) {
          await Deno.remove(path.slice(0, path.lastIndexOf("/")), {
            recursive: true,
          }).catch(() => {});
        }
      },
    });
  },
  location: kvLocation,
};

/** Temp dirs of KV locations handed out, removed when the test process ends. */
const kvDirs: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const dir of kvDirs) {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // Already removed by its test.
    }
  }
});

async function kvLocation(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "parley_store_" });
  kvDirs.push(dir);
  return `${dir}/kv.sqlite`;
}

const postgresEngine: TestEngine = {
  name: "postgres",
  async open(shared) {
    const url = shared ?? await postgresLocation();
    const store: PostgresStore = await openPostgresStore(url);
    // Server processes and second connections need the URL with its
    // credentials; the store's own location never has them.
    return Object.assign(store, {
      location: url,
      async [Symbol.asyncDispose]() {
        await store.close();
      },
    });
  },
  location: postgresLocation,
};

async function postgresLocation(): Promise<string> {
  return await (await sharedCluster()).createDatabase();
}

let skipReported = false;

/**
 * The engines to run storage tests on. Without PostgreSQL on this machine
 * the PostgreSQL suite is skipped with one plain notice, unless
 * `PARLEY_REQUIRE_POSTGRES=1` (CI), where its tests fail instead.
 *
 * @returns Deno KV, and PostgreSQL when available or required.
 */
export function storeEngines(): TestEngine[] {
  const availability = postgresAvailability();
  if (availability.available || postgresRequired()) {
    return [kvEngine, postgresEngine];
  }
  if (!skipReported) {
    skipReported = true;
    console.warn(
      `PostgreSQL suite skipped: ${availability.reason}. Set PARLEY_REQUIRE_POSTGRES=1 to fail instead.`,
    );
  }
  return [kvEngine];
}

/** Whether a missing PostgreSQL is a failure (CI sets it). */
export function postgresRequired(): boolean {
  return Deno.env.get("PARLEY_REQUIRE_POSTGRES") === "1";
}

/**
 * Registers one test per engine, named `"<engine>: <name>"`.
 *
 * @param name What the test proves.
 * @param body The test, given the engine to open stores on.
 */
export function testEachEngine(
  name: string,
  body: (engine: TestEngine, t: Deno.TestContext) => Promise<void>,
): void {
  for (const engine of storeEngines()) {
    Deno.test(`${engine.name}: ${name}`, (t) => body(engine, t));
  }
}

/**
 * What `startServer` needs to run a server process on `engine`: nothing for
 * Deno KV (each process dir has its own file), a fresh database's URL for
 * PostgreSQL. Spread it into the options; share one result between
 * processes that share data.
 *
 * @param engine The engine of the test.
 * @returns `{}` or `{ store }`.
 */
export async function serverStore(
  engine: TestEngine,
): Promise<{ readonly store?: string }> {
  return engine.name === "kv" ? {} : { store: await engine.location() };
}
