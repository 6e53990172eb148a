/**
 * Pipeline step 2: who is calling. The socket address, or — behind trusted
 * proxies — the `X-Forwarded-For` entry that many hops from the right, since
 * every entry left of the ones our proxies appended is whatever the client
 * chose to send.
 *
 * @module
 */

/**
 * The client IP of a request.
 *
 * @param request The request.
 * @param remoteAddress The socket peer (from `Deno.ServeHandlerInfo`).
 * @param trustProxy How many proxy hops in front of us append to `X-Forwarded-For`.
 * @returns An IP address string (`"unknown"` without a socket, e.g. in-process tests).
 */
export function clientIp(
  request: Request,
  remoteAddress: string | undefined,
  trustProxy: number,
): string {
  const socket = remoteAddress ?? "unknown";
  if (trustProxy <= 0) return socket;
  const header = request.headers.get("x-forwarded-for");
  if (header === null) return socket;
  const entries = header.split(",").map((entry) => entry.trim()).filter(
    (entry) => entry !== "",
  );
  if (entries.length === 0) return socket;
  const candidate = entries[Math.max(0, entries.length - trustProxy)]!;
  return isIpAddress(candidate) ? candidate : socket;
}

function isIpAddress(text: string): boolean {
  if (text.length > 45) return false;
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(text) ||
    (/^[0-9a-f:.]+$/i.test(text) && text.includes(":"));
}
