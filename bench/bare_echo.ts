/**
 * The baseline of `bench/load.ts`: a bare JSON echo with no policy, no KV and
 * no middleware — what `Deno.serve` alone does on this machine. It answers
 * every `POST` with the JSON body it read, in the same reply shape and with
 * the same headers a Parley success carries, so the comparison measures the
 * pipeline and not the size of the reply.
 *
 * Run it the way Parley's parallel entry runs, so both can be compared in one
 * and in several workers (`deno serve` is `Deno.serve` underneath):
 *
 * ```sh
 * deno serve --port 8080 --host 127.0.0.1 bench/bare_echo.ts
 * deno serve --parallel --port 8080 --host 127.0.0.1 bench/bare_echo.ts
 * ```
 *
 * @module
 */

/**
 * Echoes a JSON body as `{"ok": true, "data": <body>}`.
 *
 * @param request Any request; a body that is not JSON is echoed as `null`.
 * @returns A 200 JSON reply.
 */
export async function echo(request: Request): Promise<Response> {
  let data: unknown = null;
  if (request.method === "POST") {
    try {
      data = await request.json();
    } catch {
      // A baseline never fails: a bad body is echoed as null.
    }
  }
  const origin = request.headers.get("origin");
  const headers = new Headers({
    "Content-Type": "application/json; charset=utf-8",
    "Cache-Control": "no-store",
    "Vary": "Origin",
  });
  if (origin !== null) headers.set("Access-Control-Allow-Origin", origin);
  return new Response(JSON.stringify({ ok: true, data }), { headers });
}

export default { fetch: echo } satisfies Deno.ServeDefaultExport;
