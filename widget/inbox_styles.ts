/**
 * The agent inbox's stylesheet, served as `/agent.css` (with an ETag) so the
 * page needs no `<style>` and its CSP no `'unsafe-inline'`. It is the design
 * system's tokens and controls (`design_controls.ts`) and the inbox's layout:
 * a top bar, then the conversation list, the thread and the details panel
 * side by side; the sign-in card; the Security view.
 *
 * Visitors write names, titles, messages and origins, one unbroken word if
 * they like: columns are `minmax(0, …)` and such text wraps anywhere or is
 * clipped with an ellipsis, so none of it widens the page. Text is never
 * faded with `opacity`, which would take it under 4.5:1; secondary text uses
 * the palette's `muted`. Inside scrolling columns the focus ring is drawn
 * inward, where the column cannot clip it.
 *
 * @module
 */

import { CONTROLS_CSS, themeCss } from "./design_controls.ts";

const LAYOUT_CSS = `
*,*::before,*::after{box-sizing:border-box}
[hidden]{display:none!important}
html,body{height:100%}
body{margin:0;display:grid;grid-template-rows:auto minmax(0,1fr);grid-template-columns:minmax(0,1fr);background:var(--p-canvas);color:var(--p-text);font:var(--p-type-body) var(--p-font)}
h1,h2,h3,p{margin:0}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.muted{color:var(--p-muted)}

.topbar{display:flex;flex-wrap:wrap;align-items:center;gap:var(--p-space-sm) var(--p-space-md);padding:var(--p-space-sm) var(--p-space-lg);min-height:56px;background:var(--p-surface);border-bottom:1px solid var(--p-line)}
.brand{display:flex;align-items:center;gap:var(--p-space-sm);font:700 var(--p-type-large) var(--p-font)}
.brand-mark{width:24px;height:24px;border-radius:var(--p-radius-control);background:var(--p-accent)}
#status{display:inline-flex;align-items:center;gap:6px;font:var(--p-type-caption) var(--p-font);color:var(--p-muted)}
#status:empty{display:none}
#status[data-tone=live]::before{content:"";width:8px;height:8px;border-radius:50%;background:var(--p-success)}
#signed-in-as{margin-left:auto;color:var(--p-muted);font:var(--p-type-caption) var(--p-font);overflow:hidden;text-overflow:ellipsis;white-space:nowrap;min-width:0}
#signed-in-as:empty{display:none}
#signed-in-as:empty + #security-toggle{margin-left:auto}
#security-toggle[aria-pressed=true]{background:var(--p-accent-soft);border-color:var(--p-accent)}

form#login{align-self:start;display:grid;gap:var(--p-space-lg);width:min(400px,100% - 32px);margin:64px auto;padding:var(--p-space-xl);background:var(--p-surface);border:1px solid var(--p-line);border-radius:var(--p-radius-card);box-shadow:0 1px 2px rgba(0,0,0,.06),0 8px 24px rgba(0,0,0,.06)}
form#login h2{font:700 var(--p-type-title) var(--p-font)}
form#login label{display:grid;gap:6px;font-weight:600}
form#login button{min-height:40px}
#login-error{padding:10px 12px;border-radius:var(--p-radius-control);font:15px/22px var(--p-font);color:var(--p-danger);background:var(--p-danger-soft);border:1px solid var(--p-danger-line)}

#inbox{display:grid;grid-template-columns:minmax(240px,320px) minmax(0,1fr) minmax(220px,300px);min-height:0}
.sidebar{display:grid;grid-template-rows:auto minmax(0,1fr) auto;min-height:0;background:var(--p-surface);border-right:1px solid var(--p-line)}
.list-view{display:grid;gap:6px;padding:var(--p-space-md);border-bottom:1px solid var(--p-line);font:600 var(--p-type-caption) var(--p-font)}
.list{min-height:0;overflow:auto}
#conversations{list-style:none;margin:0;padding:0}
#conversations button{position:relative;display:grid;grid-template-columns:minmax(0,1fr) auto;gap:2px var(--p-space-sm);width:100%;min-height:0;padding:10px var(--p-space-md) 10px 24px;border:0;border-bottom:1px solid var(--p-line);border-radius:0;background:none;color:inherit;text-align:left;font-weight:400;white-space:normal}
#conversations button:hover{background:var(--p-raised)}
#conversations button[aria-current=true]{background:var(--p-accent-soft);box-shadow:inset 3px 0 var(--p-accent)}
#conversations button:focus-visible{outline-offset:-3px}
#conversations strong{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;font-weight:600}
#conversations .unread strong{font-weight:800}
#conversations .dot{position:absolute;left:9px;top:17px;width:8px;height:8px;border-radius:50%;background:var(--p-accent)}
#conversations time,#conversations .preview,#conversations .meta{color:var(--p-muted);font:var(--p-type-caption) var(--p-font)}
#conversations .preview{grid-column:1/-1;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
#conversations .meta{grid-column:1/-1;display:flex;flex-wrap:wrap;gap:6px;min-width:0}
.badge{display:inline-block;max-width:100%;padding:0 8px;border-radius:var(--p-radius-pill);background:var(--p-soft);color:var(--p-muted);font:600 var(--p-type-small) var(--p-font);overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.empty{display:grid;gap:var(--p-space-xs);padding:var(--p-space-xl) var(--p-space-lg);text-align:center;color:var(--p-muted)}
.empty strong{color:var(--p-text)}
#alerts{display:flex;flex-wrap:wrap;gap:var(--p-space-xs) var(--p-space-md);margin:0;padding:var(--p-space-md);border:0;border-top:1px solid var(--p-line);font:var(--p-type-caption) var(--p-font)}
#alerts legend{float:left;width:100%;padding:0;margin-bottom:2px;font-weight:600}
#alerts label{display:inline-flex;align-items:center;gap:6px}
#alerts button{min-height:32px}

.thread{display:grid;grid-template-rows:auto minmax(0,1fr) auto auto;grid-template-columns:minmax(0,1fr);min-height:0;min-width:0;background:var(--p-canvas)}
.thread-head{display:flex;align-items:center;justify-content:space-between;gap:var(--p-space-sm);min-height:56px;padding:var(--p-space-sm) var(--p-space-lg);background:var(--p-surface);border-bottom:1px solid var(--p-line)}
#conversation-title{min-width:0;font:700 var(--p-type-large) var(--p-font);overflow-wrap:anywhere}
#thread-hint{grid-row:2;align-self:start;display:grid;gap:var(--p-space-xs);padding:64px var(--p-space-xl);text-align:center;color:var(--p-muted)}
#thread-hint strong{color:var(--p-text);font:700 var(--p-type-large) var(--p-font)}
#thread-log{grid-row:2;min-height:0;overflow:auto}
#thread-log:focus-visible{outline-offset:-3px}
#messages{list-style:none;margin:0;padding:var(--p-space-lg);display:flex;flex-direction:column;gap:var(--p-space-sm)}
#messages li{align-self:flex-start;max-width:min(72%,640px);padding:var(--p-space-sm) var(--p-space-md);border-radius:var(--p-radius-bubble);border-bottom-left-radius:4px;background:var(--p-surface);border:1px solid var(--p-line);white-space:pre-wrap;overflow-wrap:anywhere}
#messages li.agent{align-self:flex-end;border-radius:var(--p-radius-bubble);border-bottom-right-radius:4px;background:var(--p-accent);border-color:var(--p-accent);color:var(--p-on-accent)}
#messages li.notice{align-self:center;background:none;border:0;color:var(--p-muted);font:var(--p-type-caption) var(--p-font)}
#messages .who,#messages time{display:block;font:var(--p-type-small) var(--p-font);white-space:normal}
#messages .who{font-weight:700}
#messages li.visitor time{color:var(--p-muted)}
#typing{min-height:20px;padding:2px var(--p-space-lg);color:var(--p-muted);font:var(--p-type-caption) var(--p-font);overflow-wrap:anywhere}
form#reply{display:flex;align-items:flex-end;gap:var(--p-space-sm);padding:var(--p-space-md) var(--p-space-lg);background:var(--p-surface);border-top:1px solid var(--p-line)}
#reply-text{flex:1;min-width:0;overflow-y:auto}
form#reply button{min-height:38px}

#details{min-height:0;min-width:0;overflow:auto;padding:var(--p-space-lg);background:var(--p-surface);border-left:1px solid var(--p-line);overflow-wrap:anywhere}
#details h3{margin-bottom:var(--p-space-sm);color:var(--p-muted);font:700 var(--p-type-small) var(--p-font);letter-spacing:.06em;text-transform:uppercase}
#details section + section{margin-top:var(--p-space-xl)}
#assignee{font-weight:600}
#details .actions{display:flex;flex-wrap:wrap;align-items:end;gap:var(--p-space-sm);margin-top:var(--p-space-sm)}
#details .actions label{display:grid;gap:4px;flex:1 1 170px;min-width:0;font:600 var(--p-type-caption) var(--p-font)}
#details .actions select{width:100%;min-width:0}
#details dl{display:grid;grid-template-columns:minmax(0,auto) minmax(0,1fr);gap:6px var(--p-space-md);margin:0}
#details dt{color:var(--p-muted)}
#details dd{margin:0;overflow-wrap:anywhere}
#details a{color:var(--p-accent)}

#security{min-height:0;overflow:auto;padding:var(--p-space-xl);overflow-wrap:anywhere}
#security > *{max-width:960px;margin-left:auto;margin-right:auto}
.security-bar{display:flex;flex-wrap:wrap;align-items:center;gap:var(--p-space-sm)}
.security-bar h2{margin-right:auto;font:700 var(--p-type-title) var(--p-font)}
.security-state{margin-top:var(--p-space-xs);color:var(--p-muted);font:var(--p-type-caption) var(--p-font)}
.security-body{margin-top:var(--p-space-lg);padding:var(--p-space-xl);background:var(--p-surface);border:1px solid var(--p-line);border-radius:var(--p-radius-card)}
.security-summary{display:grid;gap:var(--p-space-sm)}
.security-body h3{margin:var(--p-space-xl) 0 var(--p-space-sm);font:700 var(--p-type-large) var(--p-font)}
.security-figure{margin:var(--p-space-xl) 0 0}
.security-figure figcaption{color:var(--p-muted);font:var(--p-type-caption) var(--p-font)}
.security-chart{display:block;width:100%;height:140px;margin:var(--p-space-sm) 0}
.security-legend{display:flex;flex-wrap:wrap;gap:var(--p-space-lg);font:var(--p-type-caption) var(--p-font)}
.security-keys{margin:0;padding-left:20px}
.security-keys li[data-advice=retire],.security-keys li[data-advice=remove]{font-weight:700}
.security-origins{border-collapse:collapse}
.security-origins th,.security-origins td{padding:6px var(--p-space-md) 6px 0;text-align:left;border-bottom:1px solid var(--p-line);overflow-wrap:anywhere}
code{font:13px/18px ui-monospace,Menlo,Consolas,monospace;padding:0 4px;border-radius:4px;background:var(--p-soft)}

@media (max-width:960px){
#inbox{grid-template-columns:minmax(220px,280px) minmax(0,1fr);grid-template-rows:minmax(0,1fr) auto;overflow:auto}
#details{grid-column:1/-1;border-left:0;border-top:1px solid var(--p-line)}
}
`;

/** The CSS text of `/agent.css`. */
export const INBOX_CSS: string = themeCss(":root") + CONTROLS_CSS + LAYOUT_CSS;
