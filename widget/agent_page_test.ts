import assert from "node:assert/strict";
import { agentPage } from "./agent_page.ts";
import { INBOX_STRINGS } from "./inbox_strings.ts";

Deno.test("agentPage() has no inline script or style: /agent.js and /agent.css, for a CSP without 'unsafe-inline'", () => {
  const html = agentPage();
  assert.doesNotMatch(html, /<style\b/i);
  assert.doesNotMatch(html, /\sstyle=/i);
  assert.doesNotMatch(html, /\son\w+=/i);
  const scripts = html.match(/<script\b[^>]*>/g) ?? [];
  assert.deepEqual(scripts, ['<script src="/agent.js" defer>']);
  assert.match(html, /<link rel="stylesheet" href="\/agent\.css">/);
});

Deno.test("agentPage() labels every field and names its regions with the inbox's strings", () => {
  const html = agentPage();
  for (
    const text of [
      INBOX_STRINGS.organizationLabel,
      INBOX_STRINGS.keyLabel,
      INBOX_STRINGS.openInbox,
      INBOX_STRINGS.replyLabel,
      INBOX_STRINGS.conversationsLabel,
      INBOX_STRINGS.detailsLabel,
      INBOX_STRINGS.messagesLabel,
    ]
  ) {
    assert.ok(html.includes(text), text);
  }
  assert.match(html, /<html lang="en">/);
});
