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

/** A header name and value. */
export type HeaderEntry = [name: string, value: string];

/**
 * The CORS headers of an RPC reply.
 *
 * @param origin The request's `Origin`, or `null`.
 * @returns Header entries to send.
 */
export function corsHeaders(origin: string | null): HeaderEntry[] {
  if (origin === null) return [["Vary", "Origin"]];
  return [
    ["Vary", "Origin"],
    ["Access-Control-Allow-Origin", origin],
    ["Access-Control-Expose-Headers", EXPOSED_HEADERS],
  ];
}

/**
 * The answer to an `OPTIONS` preflight, for any origin.
 *
 * @param request The preflight request.
 * @returns A `204` with the allowed method and headers.
 */
export function preflightResponse(request: Request): Response {
  return new Response(null, {
    status: 204,
    headers: [
      ["Access-Control-Allow-Methods", "POST, OPTIONS"],
      ["Access-Control-Allow-Headers", ALLOWED_HEADERS],
      ["Access-Control-Max-Age", "600"],
      ...corsHeaders(request.headers.get("origin")),
    ],
  });
}
