/**
 * A bare supervised listener for the EMFILE test: run it under
 * `prlimit --nofile=N`; it prints `listening <port>` on stderr, answers
 * `GET /restarts` with the supervisor's restart count and anything else with
 * `ok`, and exits 0 on SIGTERM once shut down.
 */

import { ListenerSupervisor } from "../listener_supervisor.ts";

const supervisor: ListenerSupervisor = new ListenerSupervisor({
  hostname: "127.0.0.1",
  port: 0,
  handler: (request) =>
    new URL(request.url).pathname === "/restarts"
      ? Response.json({ restarts: supervisor.restarts })
      : new Response("ok"),
  onListen: ({ port }) => console.error(`listening ${port}`),
});

Deno.addSignalListener("SIGTERM", async () => {
  await supervisor.shutdown();
  Deno.exit(0);
});
