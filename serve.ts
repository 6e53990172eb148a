/**
 * Entry for `deno serve --parallel -A serve.ts`: the same handler as
 * `server.ts`, one per worker, all sharing the KV file named by `PARLEY_KV`.
 *
 * @module
 */

import { setupFromEnvironment } from "./server.ts";

const setup = await setupFromEnvironment();

export default { fetch: setup.handler } satisfies Deno.ServeDefaultExport;
