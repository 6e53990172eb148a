/**
 * CORS for a widget embedded on other sites. The server never uses cookies or
 * credentials, so echoing any `Origin` grants nothing; the policy's domain step
 * decides who is served, and error replies stay readable so the widget can
 * show their codes.
 *
 * @module
 */

const ALLOWED_HEADERS = "Authorization, Content-Type, Last-Event-ID";
const EXPOSED_HEADERS = "RateLimit, RateLimit-Policy, Retry-After";

/**
 * Adds the CORS headers of an RPC reply.
 *
 * @param headers Headers to extend.
 * @param origin The request's `Origin`, or `null`.
 */
export function setCorsHeaders(headers: Headers, origin: string | null): void {
  headers.append("Vary", "Origin");
  if (origin === null) return;
  headers.set("Access-Control-Allow-Origin", origin);
  headers.set("Access-Control-Expose-Headers", EXPOSED_HEADERS);
}

/**
 * The answer to an `OPTIONS` preflight, for any origin.
 *
 * @param request The preflight request.
 * @returns A `204` with the allowed method and headers.
 */
export function preflightResponse(request: Request): Response {
  const headers = new Headers({
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": ALLOWED_HEADERS,
    "Access-Control-Max-Age": "600",
  });
  setCorsHeaders(headers, request.headers.get("origin"));
  return new Response(null, { status: 204, headers });
}
