/**
 * Entry for `deno serve --parallel -A serve.ts`: the same handler as
 * `server.ts`, one per worker, all sharing the store named by `PARLEY_STORE`
 * (a KV file, or a PostgreSQL database that other hosts share too).
 *
 * @module
 */

import { setupFromEnvironment } from "./server.ts";

const setup = await setupFromEnvironment();

// The policy watcher keeps the event loop alive, so `deno serve` would not
// stop on its own: close everything and exit on the usual signals.
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.addSignalListener(signal, () => {
    setup.close().finally(() => Deno.exit(0));
  });
}

export default { fetch: setup.handler } satisfies Deno.ServeDefaultExport;
