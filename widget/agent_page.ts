/**
 * The HTML of the agent inbox (`GET /agent`): the frame the inbox's view
 * (`inbox_view.ts`) fills. Its script is `/agent.js` (bundled from
 * `agent_inbox.ts`) and its stylesheet `/agent.css` (`inbox_styles.ts`); no
 * inline script or style, so the page keeps a strict Content-Security-Policy
 * without `'unsafe-inline'`. Every text is `inbox_strings.ts`'s.
 *
 * @module
 */

import { inboxText, type PlainInboxKey } from "./inbox_strings.ts";

/** A text of the table, escaped for HTML (constants, but kept text). */
function text(key: PlainInboxKey): string {
  return escapeHtml(inboxText(key));
}

/**
 * Renders the agent inbox page.
 *
 * @returns A complete HTML document.
 */
export function agentPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${text("inboxTitle")}</title>
<link rel="icon" href="/favicon.ico">
<link rel="stylesheet" href="/agent.css">
<script src="/agent.js" defer></script>
</head>
<body>
<header class="topbar">
  <h1 class="brand"><span class="brand-mark" aria-hidden="true"></span>${
    text("inboxTitle")
  }</h1>
  <span id="status" role="status"></span>
  <span id="signed-in-as"></span>
  <button type="button" id="security-toggle" hidden>${
    text("securityToggle")
  }</button>
  <button type="button" id="sign-out" class="quiet" hidden>${
    text("signOut")
  }</button>
</header>
<form id="login" aria-labelledby="login-heading">
  <h2 id="login-heading">${text("signInHeading")}</h2>
  <p class="muted">${text("signInIntro")}</p>
  <label>${
    text("organizationLabel")
  } <input name="organizationId" required autocomplete="off" spellcheck="false"></label>
  <label>${
    text("keyLabel")
  } <input name="key" type="password" required autocomplete="off"></label>
  <p id="login-error" role="alert" hidden></p>
  <button type="submit" class="primary">${text("openInbox")}</button>
</form>
<div id="inbox" hidden>
  <nav class="sidebar" aria-label="${text("conversationsLabel")}">
    <label class="list-view">${text("showLabel")} <select id="filter">
      <option value="all">${text("viewAll")}</option>
      <option value="mine">${text("viewMine")}</option>
      <option value="unassigned">${text("viewUnassigned")}</option>
    </select></label>
    <div class="list">
      <ul id="conversations" aria-label="${text("conversationsLabel")}"></ul>
      <div id="conversations-empty" class="empty" hidden>
        <strong id="empty-heading"></strong><span id="empty-text"></span>
      </div>
    </div>
    <fieldset id="alerts">
      <legend>${text("alertsLegend")}</legend>
      <label><input type="checkbox" id="alert-title"> ${
    text("alertTitleCount")
  }</label>
      <label><input type="checkbox" id="alert-sound"> ${
    text("alertSound")
  }</label>
      <label id="alert-desktop-label"><input type="checkbox" id="alert-desktop"> ${
    text("alertDesktop")
  }</label>
      <button type="button" id="allow-notifications" hidden>${
    text("allowNotifications")
  }</button>
    </fieldset>
  </nav>
  <main class="thread">
    <div class="thread-head">
      <h2 id="conversation-title">${text("pickConversation")}</h2>
      <button type="button" id="close-conversation" hidden>${
    text("closeConversation")
  }</button>
    </div>
    <div id="thread-hint"><strong>${text("pickConversation")}</strong><span>${
    text("pickConversationHint")
  }</span></div>
    <div id="thread-log" role="log" aria-live="polite" aria-label="${
    text("messagesLabel")
  }" hidden><ol id="messages"></ol></div>
    <p id="typing" role="status"></p>
    <form id="reply" hidden>
      <label for="reply-text" class="sr-only">${text("replyLabel")}</label>
      <textarea id="reply-text" rows="1" placeholder="${
    text("replyPlaceholder")
  }"></textarea>
      <button type="submit" class="primary">${text("send")}</button>
    </form>
  </main>
  <aside id="details" aria-label="${text("detailsLabel")}">
    <section id="assignment" hidden>
      <h3>${text("assigneeHeading")}</h3>
      <p id="assignee"></p>
      <div class="actions">
        <button type="button" id="assign-me">${text("assignToMe")}</button>
        <button type="button" id="unassign">${text("unassign")}</button>
      </div>
      <div class="actions" id="hand-over-row">
        <label>${text("handOverTo")} <select id="hand-over-to"></select></label>
        <button type="button" id="hand-over">${text("handOver")}</button>
      </div>
    </section>
    <section id="visitor" hidden>
      <h3>${text("visitorHeading")}</h3>
      <dl id="visitor-fields"></dl>
    </section>
  </aside>
</div>
<section id="security" hidden></section>
</body>
</html>
`;
}

/** Escapes text for HTML content and double-quoted attribute values. */
function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
