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
<title>Parley — agent inbox</title>
<style>
  :root { color-scheme: light dark; font: 15px/1.4 system-ui, sans-serif; }
  body { margin: 0; display: grid; min-height: 100vh; grid-template-rows: auto 1fr; }
  header { padding: 12px 16px; border-bottom: 1px solid #8884; display: flex; gap: 12px; align-items: baseline; }
  header h1 { font-size: 18px; margin: 0; }
  #status { color: #888; font-size: 13px; }
  form#login { display: grid; gap: 12px; align-content: start; width: min(360px, 100% - 32px); margin: 48px auto; }
  form#login label { display: grid; gap: 4px; font-size: 13px; }
  form#login button { background: #0b5fff; color: #fff; border: 0; border-radius: 6px; cursor: pointer; }
  input, textarea { border: 1px solid #8886; border-radius: 6px; }
  input, textarea, button { font: inherit; padding: 8px; }
  #inbox { display: grid; grid-template-columns: minmax(220px, 320px) 1fr; min-height: 0; }
  [hidden] { display: none !important; }
  #conversations { list-style: none; margin: 0; padding: 0; border-right: 1px solid #8884; overflow: auto; }
  #conversations button { display: grid; width: 100%; text-align: left; border: 0; border-bottom: 1px solid #8882; background: none; color: inherit; cursor: pointer; }
  #conversations button[aria-current="true"] { background: #0b5fff22; }
  #conversations button.closed { opacity: .6; }
  #conversations span { color: #888; font-size: 13px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  main { display: grid; grid-template-rows: auto 1fr auto; min-height: 0; }
  main h2 { font-size: 16px; margin: 0; padding: 12px 16px; display: flex; justify-content: space-between; }
  #messages { list-style: none; margin: 0; padding: 12px 16px; overflow: auto; display: flex; flex-direction: column; gap: 8px; }
  #messages li { max-width: 70%; padding: 8px 12px; border-radius: 12px; background: #8882; }
  #messages li.agent { align-self: flex-end; background: #0b5fff; color: #fff; }
  #messages time { display: block; font-size: 11px; opacity: .7; }
  form#reply { display: flex; gap: 8px; padding: 12px 16px; border-top: 1px solid #8884; }
  form#reply textarea { flex: 1; resize: none; }
  #security-toggle { margin-left: auto; }
  #security { padding: 12px 16px; overflow: auto; max-width: 960px; }
  .security-bar { display: flex; gap: 8px; align-items: center; }
  .security-bar h2 { font-size: 16px; margin: 0 auto 0 0; }
  .security-state { color: #888; font-size: 13px; }
  .security-figure { margin: 16px 0; }
  .security-figure figcaption { font-size: 13px; color: #888; }
  .security-chart { width: 100%; height: 140px; display: block; }
  .security-legend { display: flex; gap: 16px; font-size: 13px; }
  .security-keys li[data-advice="retire"], .security-keys li[data-advice="remove"] { font-weight: 600; }
  .security-origins { border-collapse: collapse; font-size: 14px; }
  .security-origins th, .security-origins td { text-align: left; padding: 4px 12px 4px 0; border-bottom: 1px solid #8883; }
</style>
<script src="/agent.js" defer></script>
</head>
<body>
<header><h1>Parley agent inbox</h1><span id="status" role="status"></span>
  <button type="button" id="security-toggle" hidden>Security</button></header>
<form id="login">
  <label>Organization id <input name="organizationId" required autocomplete="off"></label>
  <label>Admin key <input name="key" type="password" required autocomplete="off"></label>
  <button type="submit">Open inbox</button>
</form>
<div id="inbox" hidden>
  <ul id="conversations" aria-label="Conversations"></ul>
  <main>
    <h2><span id="conversation-title">Pick a conversation</span>
      <button type="button" id="close-conversation" hidden>Close conversation</button></h2>
    <ol id="messages" role="log" aria-live="polite"></ol>
    <form id="reply" hidden>
      <label for="reply-text" hidden>Reply</label>
      <textarea id="reply-text" rows="2" placeholder="Reply… (Enter to send)" aria-label="Reply"></textarea>
      <button type="submit">Send</button>
    </form>
  </main>
</div>
<section id="security" hidden></section>
</body>
</html>
`;
}
