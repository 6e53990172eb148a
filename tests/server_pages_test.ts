/**
 * The pages the server serves, against the real server process: `/` and
 * `/agent` under a CSP that allows no inline script or style, their
 * stylesheets as files with ETags (a matching `If-None-Match` gets 304),
 * and nothing inline in the HTML for that CSP to refuse. The server listens
 * while esbuild still builds: a file asked for at once waits for its build.
 */

import assert from "node:assert/strict";
import { startServer } from "./server_process.ts";
import { SECRETS, testPolicy } from "./test_policy.ts";

/** The test policy with a `demo` organization, so `/` shows the demo page. */
function policyWithDemo(): string {
  return `${testPolicy()}  demo:
    name: Demo
    domains: { mode: off }
`;
}

Deno.test("/ and /agent allow no inline script or style; /demo.css and /agent.css are files with ETags", async () => {
  await using server = await startServer({
    policy: policyWithDemo(),
    env: SECRETS,
  });
  for (
    const [page, stylesheet] of [["/", "/demo.css"], ["/agent", "/agent.css"]]
  ) {
    const response = await fetch(`${server.baseUrl}${page}`);
    assert.equal(response.status, 200, page);
    const csp = response.headers.get("content-security-policy") ?? "";
    assert.match(csp, /(^|; )style-src 'self'(;|$)/, page);
    assert.match(csp, /(^|; )script-src 'self'(;|$)/, page);
    assert.doesNotMatch(csp, /unsafe-inline/, page);
    const html = await response.text();
    assert.doesNotMatch(html, /<style\b|\sstyle=/i, page);
    assert.ok(html.includes(`<link rel="stylesheet" href="${stylesheet}">`));

    const css = await fetch(`${server.baseUrl}${stylesheet}`);
    assert.equal(css.status, 200, stylesheet);
    assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
    const etag = css.headers.get("etag");
    assert.match(etag ?? "", /^"[A-Za-z0-9_-]{32}"$/, stylesheet);
    assert.ok((await css.text()).includes("prefers-color-scheme:dark"));
    const again = await fetch(`${server.baseUrl}${stylesheet}`, {
      headers: { "If-None-Match": etag! },
    });
    assert.equal(again.status, 304, stylesheet);
    await again.body?.cancel();
  }
});

Deno.test("without a demo organization there is no / and no /demo.css, and /agent.css still is", async () => {
  await using server = await startServer({
    policy: testPolicy(),
    env: SECRETS,
  });
  for (
    const [path, status] of [["/", 404], ["/demo.css", 404], [
      "/agent.css",
      200,
    ]] as const
  ) {
    const response = await fetch(`${server.baseUrl}${path}`);
    assert.equal(response.status, status, path);
    await response.body?.cancel();
  }
});

Deno.test("every built file asked for the moment the server listens is served whole, the same as later", async () => {
  await using server = await startServer({
    policy: policyWithDemo(),
    env: SECRETS,
  });
  const paths = [
    "/widget.js",
    "/widget.js.sri",
    "/agent.js",
    "/agent.css",
    "/demo.css",
    "/locales/de.json",
  ];
  const read = (path: string) =>
    fetch(`${server.baseUrl}${path}`).then(async (response) => ({
      status: response.status,
      etag: response.headers.get("etag"),
      text: await response.text(),
    }));
  const first = await Promise.all(paths.map(read));
  const later = await Promise.all(paths.map(read));
  for (const [index, path] of paths.entries()) {
    assert.equal(first[index]!.status, 200, path);
    assert.ok(first[index]!.text.length > 0, path);
    assert.deepEqual(first[index], later[index], path);
  }
  const [widget, sri] = first;
  const digest = await crypto.subtle.digest(
    "SHA-384",
    new TextEncoder().encode(widget!.text),
  );
  assert.equal(
    sri!.text.trim(),
    `sha384-${btoa(String.fromCharCode(...new Uint8Array(digest)))}`,
  );
});
