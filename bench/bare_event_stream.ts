/**
 * The baseline of `bench/idle_streams.ts`: what `Deno.serve` alone spends on
 * idle `text/event-stream` replies — a heartbeat every 15 s, like Parley's,
 * and nothing else. `POST /rpc/chat.boot` and `chat.sendMessage` answer
 * dummy replies so the benchmark's client runs unchanged against it.
 *
 * ```sh
 * deno serve --port 8080 --host 127.0.0.1 bench/bare_event_stream.ts
 * ```
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * A dummy boot, or an endless heartbeat stream.
 *
 * @param request Any request.
 * @returns The reply.
 */
export function serveIdle(request: Request): Response {
  const { pathname } = new URL(request.url);
  if (pathname === "/rpc/chat.boot") {
    return Response.json({ ok: true, data: { session: { token: "bare" } } });
  }
  if (pathname === "/rpc/chat.sendMessage") {
    return Response.json({ ok: true, data: {} });
  }
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      heartbeat = setInterval(
        () => controller.enqueue(encoder.encode(": ping\n\n")),
        15_000,
      );
    },
    cancel() {
      clearInterval(heartbeat);
    },
  });
  return new Response(body, {
    headers: { "Content-Type": "text/event-stream; charset=utf-8" },
  });
}

export default { fetch: serveIdle } satisfies Deno.ServeDefaultExport;
