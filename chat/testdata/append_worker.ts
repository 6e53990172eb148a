/**
 * A separate server process for the multi-process tests: appends `count`
 * messages to one conversation of a store (a KV file or a PostgreSQL URL).
 *
 * Usage: `deno run -A append_worker.ts <store> <org> <conversation> <worker> <count>`
 *
 * @module
 */

import { openStore } from "../../store/open_store.ts";
import { ChatStore } from "../chat_store.ts";

const [path, organizationId, conversationId, worker, count] = Deno.args;
if (!path || !organizationId || !conversationId || !worker || !count) {
  throw new TypeError(
    "Expected <store> <org> <conversation> <worker> <count>",
  );
}
// Workers start together; openStore waits out SQLite's lock while one sets up.
const opened = await openStore(path);
try {
  const store = new ChatStore(opened.conversations);
  for (let index = 0; index < Number(count); index++) {
    await store.append(
      organizationId,
      conversationId,
      "visitor",
      `worker ${worker}: ${index}`,
    );
  }
} finally {
  await opened.close();
}
