/**
 * Request hygiene (pipeline step 1): a JSON object body of bounded size and
 * depth, refused while streaming so a 10 MB upload is never read whole.
 *
 * @module
 */

import { RpcError } from "./rpc_error.ts";

/** Deeper JSON than this is refused before parsing: no method needs it. */
export const MAX_JSON_DEPTH = 16;

/**
 * Reads and parses a request body as a JSON object.
 *
 * @param request The incoming request (already known to be `POST`).
 * @param maxBytes The largest body accepted.
 * @returns The parsed object.
 * @throws {RpcError} `UNSUPPORTED_MEDIA_TYPE`, `PAYLOAD_TOO_LARGE` or
 * `BAD_REQUEST` (`body.aborted` when the client went away mid-body).
 */
export async function readJsonBody(
  request: Request,
  maxBytes: number,
): Promise<Record<string, unknown>> {
  const contentType = request.headers.get("content-type") ?? "";
  const mediaType = contentType.split(";", 1)[0]!.trim().toLowerCase();
  if (mediaType !== "application/json") {
    await request.body?.cancel();
    throw new RpcError(
      "UNSUPPORTED_MEDIA_TYPE",
      'Content-Type must be "application/json"',
      { reason: "body.content_type" },
    );
  }
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    await request.body?.cancel();
    throw tooLarge(maxBytes);
  }
  const text = await readLimited(request, maxBytes);
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    throw new RpcError("BAD_REQUEST", "JSON body is nested too deeply", {
      reason: "body.too_deep",
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RpcError("BAD_REQUEST", "Body is not valid JSON", {
      reason: "body.malformed_json",
    });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new RpcError("BAD_REQUEST", "Body must be a JSON object", {
      reason: "body.not_object",
    });
  }
  return value as Record<string, unknown>;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

async function readLimited(
  request: Request,
  maxBytes: number,
): Promise<string> {
  // With a declared length (already checked against the limit) the HTTP
  // layer stops at that length, so one native read is safe and much cheaper
  // than pulling chunks through a stream reader. It also never makes
  // `request.body` a JS stream, which a streaming reply's request would
  // hold for as long as the stream lasts (about 1.4 KB each).
  if (request.headers.has("content-length")) {
    return decodeUtf8(
      new Uint8Array(await unlessClientLeft(request.arrayBuffer())),
    );
  }
  if (request.body === null) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (true) {
    const { done, value } = await unlessClientLeft(reader.read());
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return decodeUtf8(bytes);
}

/**
 * What Deno 2.9's HTTP server rejects a body read with when the client went
 * away mid-body: `BadResource` when it closed the connection ("Cannot read
 * body …" from `arrayBuffer()`, "Cannot read request body …" from a stream
 * reader), `Http` when it reset it. Matched exactly, so any other failure
 * stays a bug.
 */
const CLIENT_LEFT: readonly [new (...args: never[]) => Error, RegExp][] = [
  [
    Deno.errors.BadResource,
    /^Cannot read (?:request )?body as underlying resource unavailable$/,
  ],
  [Deno.errors.Http, /^unexpected EOF while reading HTTP\/1 body$/],
];

/** A body read; `body.aborted` when the client went away during it. */
async function unlessClientLeft<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    const clientLeft = CLIENT_LEFT.some(([type, message]) =>
      error instanceof type && message.test(error.message)
    );
    if (!clientLeft) throw error;
    // The client never sees this reply; it keeps aborts out of the bug count.
    throw new RpcError(
      "BAD_REQUEST",
      "The client went away before the body was complete",
      { reason: "body.aborted" },
    );
  }
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new RpcError("BAD_REQUEST", "Body is not valid UTF-8", {
      reason: "body.encoding",
    });
  }
}

function tooLarge(maxBytes: number): RpcError {
  return new RpcError(
    "PAYLOAD_TOO_LARGE",
    `Body exceeds ${maxBytes} bytes`,
    { reason: "body.too_large" },
  );
}

/** Deepest bracket nesting outside strings; cheap at the sizes admitted. */
function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 92 /* \ */) i++;
      else if (char === 34 /* " */) inString = false;
    } else if (char === 34) inString = true;
    else if (char === 123 /* { */ || char === 91 /* [ */) {
      if (++depth > deepest) deepest = depth;
    } else if (char === 125 /* } */ || char === 93 /* ] */) depth--;
  }
  return deepest;
}
