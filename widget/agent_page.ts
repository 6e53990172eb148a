/**
 * The HTML of the agent inbox (`GET /agent`). Its script is `/agent.js`
 * (bundled from `agent_inbox.ts`); no inline script, so the page keeps a
 * strict Content-Security-Policy.
 *
 * @module
 */

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
<title>Parley inbox</title>
<link rel="icon" href="/favicon.ico">
<style>
  /* Visitors write names, titles, messages and origins, one unbroken word if
     they like: columns are minmax(0, …) and such text wraps anywhere or is
     clipped with an ellipsis, so none of it widens the page. */
  :root { color-scheme: light dark; font: 15px/1.4 system-ui, sans-serif; }
  body { margin: 0; display: grid; min-height: 100vh; grid-template-rows: auto 1fr; grid-template-columns: minmax(0, 1fr); }
  header { padding: 12px 16px; border-bottom: 1px solid #8884; display: flex; gap: 12px; align-items: baseline; }
  header h1 { font-size: 18px; margin: 0; }
  #status { color: #888; font-size: 13px; }
  form#login { display: grid; gap: 12px; align-content: start; width: min(360px, 100% - 32px); margin: 48px auto; }
  form#login label { display: grid; gap: 4px; font-size: 13px; }
  form#login button { background: #0b5fff; color: #fff; border: 0; border-radius: 6px; cursor: pointer; }
  #login-error { margin: 0; padding: 10px 12px; border-radius: 6px; font-size: 15px; color: light-dark(#8c1d18, #ffdad6); background: light-dark(#fde7e9, #5c1a17); border: 1px solid light-dark(#e8a5a8, #a8413c); }
  form#login input[aria-invalid="true"] { border-color: light-dark(#b3261e, #ffb4ab); }
  input, textarea { border: 1px solid #8886; border-radius: 6px; }
  input, textarea, button { font: inherit; padding: 8px; }
  #inbox { display: grid; grid-template-columns: minmax(220px, 320px) minmax(0, 1fr) minmax(200px, 280px); grid-template-rows: auto 1fr; min-height: 0; }
  [hidden] { display: none !important; }
  #conversations { list-style: none; margin: 0; padding: 0; border-right: 1px solid #8884; overflow: auto; }
  #conversations button { display: grid; grid-template-columns: minmax(0, 1fr); width: 100%; text-align: left; border: 0; border-bottom: 1px solid #8882; background: none; color: inherit; cursor: pointer; }
  #conversations strong { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  #conversations button[aria-current="true"] { background: #0b5fff22; }
  #conversations button.closed { opacity: .6; }
  #conversations span { color: #888; font-size: 13px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  main { display: grid; grid-template-rows: auto 1fr auto auto; grid-template-columns: minmax(0, 1fr); min-height: 0; min-width: 0; }
  main h2 { font-size: 16px; margin: 0; padding: 12px 16px; display: flex; justify-content: space-between; gap: 8px; }
  #conversation-title { min-width: 0; overflow-wrap: anywhere; }
  #messages { list-style: none; margin: 0; padding: 12px 16px; overflow: auto; display: flex; flex-direction: column; gap: 8px; }
  #messages li { max-width: 70%; padding: 8px 12px; border-radius: 12px; background: #8882; overflow-wrap: anywhere; }
  #messages li.agent { align-self: flex-end; background: #0b5fff; color: #fff; }
  #messages time { display: block; font-size: 11px; opacity: .7; }
  form#reply { display: flex; gap: 8px; padding: 12px 16px; border-top: 1px solid #8884; }
  form#reply textarea { flex: 1; resize: none; }
  #security-toggle { margin-left: auto; }
  #security { padding: 12px 16px; overflow: auto; max-width: 960px; min-width: 0; overflow-wrap: anywhere; }
  .security-bar { display: flex; gap: 8px; align-items: center; }
  .security-bar h2 { font-size: 16px; margin: 0 auto 0 0; }
  .security-state { color: #888; font-size: 13px; }
  .security-figure { margin: 16px 0; }
  .security-figure figcaption { font-size: 13px; color: #888; }
  .security-chart { width: 100%; height: 140px; display: block; }
  .security-legend { display: flex; gap: 16px; font-size: 13px; }
  .security-keys li[data-advice="retire"], .security-keys li[data-advice="remove"] { font-weight: 600; }
  .security-origins { border-collapse: collapse; font-size: 14px; }
  .security-origins th, .security-origins td { text-align: left; padding: 4px 12px 4px 0; border-bottom: 1px solid #8883; overflow-wrap: anywhere; }
  #toolbar { grid-column: 1 / -1; display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; padding: 8px 16px; border-bottom: 1px solid #8884; font-size: 13px; overflow-wrap: anywhere; }
  #toolbar fieldset { display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: center; border: 0; margin: 0 0 0 auto; padding: 0; }
  #toolbar legend { float: left; margin-right: 4px; color: #888; }
  #toolbar select, #toolbar button, #details select, #details button { padding: 4px 8px; }
  #conversations .unread strong::before { content: "● "; color: #0b5fff; }
  #conversations .assignee { font-size: 12px; }
  #messages .who { display: block; font-size: 11px; font-weight: 600; opacity: .8; }
  #typing { margin: 0; padding: 0 16px; min-height: 1.4em; color: #888; font-size: 13px; overflow-wrap: anywhere; }
  #details { border-left: 1px solid #8884; padding: 12px 16px; overflow: auto; font-size: 14px; min-width: 0; overflow-wrap: anywhere; }
  #details h3 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: #888; margin: 0 0 6px; }
  #details section + section { margin-top: 20px; }
  #details .actions { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
  #details dl { display: grid; grid-template-columns: minmax(0, auto) minmax(0, 1fr); gap: 4px 10px; margin: 0; }
  #details dt { color: #888; }
  #details dd { margin: 0; overflow-wrap: anywhere; }
</style>
<script src="/agent.js" defer></script>
</head>
<body>
<header><h1>Parley agent inbox</h1><span id="status" role="status"></span>
  <button type="button" id="security-toggle" hidden>Security</button></header>
<form id="login">
  <label>Organization id <input name="organizationId" required autocomplete="off"></label>
  <label>Admin key <input name="key" type="password" required autocomplete="off"></label>
  <p id="login-error" role="alert" hidden></p>
  <button type="submit">Open inbox</button>
</form>
<div id="inbox" hidden>
  <div id="toolbar">
    <span id="signed-in-as"></span>
    <label>Show <select id="filter">
      <option value="all">All conversations</option>
      <option value="mine">Assigned to me</option>
      <option value="unassigned">Unassigned</option>
    </select></label>
    <fieldset id="alerts">
      <legend>Alerts</legend>
      <label><input type="checkbox" id="alert-title"> Count in tab title</label>
      <label><input type="checkbox" id="alert-sound"> Sound</label>
      <label id="alert-desktop-label"><input type="checkbox" id="alert-desktop"> Desktop notifications</label>
      <button type="button" id="allow-notifications" hidden>Allow desktop notifications</button>
    </fieldset>
  </div>
  <ul id="conversations" aria-label="Conversations"></ul>
  <main>
    <h2><span id="conversation-title">Pick a conversation</span>
      <button type="button" id="close-conversation" hidden>Close conversation</button></h2>
    <ol id="messages" role="log" aria-live="polite"></ol>
    <p id="typing" role="status"></p>
    <form id="reply" hidden>
      <label for="reply-text" hidden>Reply</label>
      <textarea id="reply-text" rows="2" placeholder="Reply… (Enter to send)" aria-label="Reply"></textarea>
      <button type="submit">Send</button>
    </form>
  </main>
  <aside id="details" aria-label="Conversation details">
    <section id="assignment" hidden>
      <h3>Assignee</h3>
      <p id="assignee"></p>
      <div class="actions">
        <button type="button" id="assign-me">Assign to me</button>
        <button type="button" id="unassign">Unassign</button>
      </div>
      <div class="actions">
        <label>Hand over to <select id="hand-over-to"></select></label>
        <button type="button" id="hand-over">Hand over</button>
      </div>
    </section>
    <section id="visitor" hidden>
      <h3>Visitor</h3>
      <dl id="visitor-fields"></dl>
    </section>
  </aside>
</div>
<section id="security" hidden></section>
</body>
</html>
`;
}
