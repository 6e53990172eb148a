import assert from "node:assert/strict";
import { demoPage } from "./demo_page.ts";

Deno.test("demoPage() loads /widget.js with data attributes and no inline script", () => {
  const html = demoPage({ organizationId: "demo" });
  assert.match(
    html,
    /<script src="\/widget.js" data-organization-id="demo" async><\/script>/,
  );
  const scripts = html.match(/<script\b[^>]*>/g) ?? [];
  assert.equal(scripts.length, 1);
  assert.ok(scripts.every((tag) => tag.includes(" src=")));
  assert.doesNotMatch(html, /\son\w+=/i);
  assert.doesNotMatch(html, /\sstyle=/i);
});

Deno.test("demoPage() points at apiBaseUrl when given", () => {
  const html = demoPage({
    organizationId: "demo",
    apiBaseUrl: "https://chat.example.com/",
  });
  assert.ok(html.includes('<script src="https://chat.example.com/widget.js"'));
  assert.ok(html.includes('data-api-base-url="https://chat.example.com/"'));
});

Deno.test("demoPage() escapes a hostile organization id", () => {
  const html = demoPage({ organizationId: '"><script>alert(1)</script>' });
  assert.doesNotMatch(html, /<script>alert/);
  assert.equal((html.match(/<script\b/g) ?? []).length, 1);
});

Deno.test("demoPage() shows the embed snippet as text", () => {
  const html = demoPage({ organizationId: "demo" });
  assert.ok(
    html.includes(
      "&#60;script src=&#34;/widget.js&#34; data-organization-id=&#34;demo&#34; async&#62;",
    ),
  );
});

Deno.test("demoPage() has no inline style: its stylesheet is /demo.css", () => {
  const html = demoPage({ organizationId: "demo" });
  assert.doesNotMatch(html, /<style\b/i);
  assert.match(html, /<link rel="stylesheet" href="\/demo\.css">/);
});
