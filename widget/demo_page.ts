/**
 * The demo page the server shows at `GET /`: what Parley is, the embed
 * snippet to copy, and the live widget booted from data attributes. It has
 * no inline script or style (its stylesheet is `/demo.css`), so it works
 * under a strict CSP.
 *
 * @module
 */

import { DARK, FONT_STACK, LIGHT, RADIUS } from "./design_tokens.ts";

/** The demo page's stylesheet, served as `/demo.css`. */
export const DEMO_CSS: string = `
body{margin:0 auto;max-width:46rem;padding:2rem 1.25rem 6rem;font:16px/1.6 ${FONT_STACK};color:${LIGHT.text};background:${LIGHT.surface}}
pre{overflow:auto;padding:1rem;border-radius:${RADIUS.control}px;background:${LIGHT.soft}}
code{font:14px/1.5 ui-monospace,Menlo,Consolas,monospace}
@media (prefers-color-scheme:dark){body{background:${DARK.canvas};color:${DARK.text}}pre{background:${DARK.soft}}}
`;

/** What the demo page needs to know. */
export interface DemoPageOptions {
  /** The organization the demo widget boots for. */
  readonly organizationId: string;
  /** The server's public URL; the widget defaults to the origin of widget.js. */
  readonly apiBaseUrl?: string;
}

/**
 * Renders the demo page.
 *
 * @returns a complete HTML document
 */
export function demoPage(options: DemoPageOptions): string {
  const attributes =
    `data-organization-id="${escapeHtml(options.organizationId)}"` +
    (options.apiBaseUrl
      ? ` data-api-base-url="${escapeHtml(options.apiBaseUrl)}"`
      : "");
  const src = options.apiBaseUrl
    ? `${options.apiBaseUrl.replace(/\/+$/, "")}/widget.js`
    : "/widget.js";
  const embed = `<script src="${
    escapeHtml(src)
  }" ${attributes} async></script>`;
  const jsEmbed = `window.ChatWidget.boot({
  organizationId: ${JSON.stringify(options.organizationId)},
  userJWT: tokenFromYourServer, // when your policy asks for JWTs
  onSecurityError: (error, code) => console.error(code, error.retryAfter),
});`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Parley — secure chat widget demo</title>
<meta name="color-scheme" content="light dark">
<link rel="icon" href="/favicon.ico">
<link rel="stylesheet" href="/demo.css">
</head>
<body>
<main>
<h1>Parley</h1>
<p>Parley secures an embeddable website chat widget. Your organization's admins
write a policy file — which domains may embed the widget, whether visitors must
bring a signed JWT, how many requests each organization and IP may make — and
the server enforces it on every call.</p>
<p>This page embeds the widget for the organization
<strong>${
    escapeHtml(options.organizationId)
  }</strong>: open the chat button in the corner
and send a message.</p>
<h2>Embed it</h2>
<p>One tag, no inline script (it works under a strict Content-Security-Policy):</p>
<pre><code>${escapeHtml(embed)}</code></pre>
<p>Or boot it from your own code, for example with a JWT minted on your server:</p>
<pre><code>${escapeHtml(jsEmbed)}</code></pre>
<p>Errors reach <code>onSecurityError(error, code)</code> with stable codes such as
<code>DOMAIN_NOT_ALLOWED</code>, <code>JWT_REQUIRED</code>, <code>JWT_INVALID</code> and
<code>RATE_LIMITED</code> (with <code>error.retryAfter</code> in seconds).</p>
</main>
${embed}
</body>
</html>
`;
}

/** Escapes text for HTML content and double-quoted attribute values. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
