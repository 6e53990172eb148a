/**
 * Entry for `deno serve --parallel -A --host 127.0.0.1 serve.ts`: the same
 * handler as `server.ts`, one per worker, all sharing the store named by
 * `PARLEY_STORE` (a KV file, or a PostgreSQL database that other hosts share
 * too). The address is `deno serve`'s `--host` and `--port` (give `--host`:
 * its default is every interface); the other settings are read and checked
 * as `server.ts` does, and each worker prints the same start-up lines.
 *
 * @module
 */

import { setupOrExit } from "./server.ts";

const setup = await setupOrExit();

// The policy watcher keeps the event loop alive, so `deno serve` would not
// stop on its own: close everything and exit on the usual signals.
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.addSignalListener(signal, () => {
    setup.close().finally(() => Deno.exit(0));
  });
}

export default {
  fetch: setup.handler,
  onListen(address) {
    const { hostname, port } = address as Deno.NetAddr;
    for (const line of setup.listeningOn(hostname, port)) console.error(line);
  },
} satisfies Deno.ServeDefaultExport;
