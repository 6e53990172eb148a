/**
 * The widget's stylesheet, adopted by its shadow root as a constructable
 * stylesheet: no `<style>` element and no style attributes, so a strict CSP
 * (`style-src 'none'`) allows it. Sizes are in px, never rem, because the host
 * page owns the root font size. `!important` on `:host` wins over the page's
 * own `!important` rules, because for important declarations the shadow
 * tree's context beats the page's. Its colours, font and focus ring are the
 * design system's (`design_tokens.ts`), shared with the agent inbox.
 *
 * Inside the panel, sides are logical (`inline-start`, flex order, `start`),
 * so a right-to-left language mirrors the bubbles, the header and the
 * composer; the launcher and the panel keep the corner `widget.position`
 * names. Every button is at least 44×44 px (a touch target), and no text sits
 * on a see-through colour, so contrast holds on any `widget.color` the policy
 * check lets pass. Lines are joined at build time (esbuild folds the `+`).
 *
 * @module
 */

import { DARK, FOCUS_RING, LIGHT } from "./design_tokens.ts";

/** The CSS text of the widget's shadow root. */
export const PANEL_CSS: string =
  ":host{all:initial!important;display:block!important;position:fixed!important;z-index:2147483646!important;top:auto!important;left:auto!important;right:0!important;bottom:0!important;width:0!important;height:0!important;overflow:visible!important;visibility:visible!important;opacity:1!important;transform:none!important;pointer-events:none!important}" +
  "*,*::before,*::after{box-sizing:border-box}" +
  "[hidden]{display:none!important}" +
  `.root{--c:${LIGHT.accent};--on:${LIGHT.onAccent};--bg:${LIGHT.surface};--fg:${LIGHT.text};--soft:${LIGHT.soft};--line:${LIGHT.line};--focus:${LIGHT.focus};font:14px/1.45 system-ui,sans-serif;color:var(--fg);pointer-events:auto;text-align:start;letter-spacing:normal}` +
  "button{font:inherit;cursor:pointer;margin:0;min-width:44px;min-height:44px}" +
  `:focus-visible{outline:${FOCUS_RING.width}px solid var(--focus);outline-offset:${FOCUS_RING.offset}px}` +
  ".launcher{position:fixed;right:20px;bottom:20px;width:56px;height:56px;padding:0;border:0;border-radius:28px;background:var(--c);color:var(--on);box-shadow:0 4px 14px rgba(0,0,0,.28);display:flex;align-items:center;justify-content:center}" +
  ".launcher svg{width:28px;height:28px;fill:currentColor}" +
  ".badge{position:absolute;top:-4px;inset-inline-end:-4px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;background:#d93025;color:#fff;font:700 12px/20px system-ui,sans-serif;text-align:center}" +
  ".panel{position:fixed;right:20px;bottom:88px;width:370px;height:560px;max-height:calc(100vh - 108px);display:flex;flex-direction:column;background:var(--bg);border-radius:12px;box-shadow:0 8px 32px rgba(0,0,0,.3);overflow:hidden;animation:rise .18s ease-out}" +
  ".left .launcher,.left .panel{right:auto;left:20px}" +
  "@keyframes rise{from{opacity:0;transform:translateY(8px)}}" +
  ".head{display:flex;align-items:center;gap:8px;padding:8px;padding-inline-start:16px;background:var(--c);color:var(--on)}" +
  "h2{flex:1;margin:0;font-size:16px;font-weight:600;line-height:22px}" +
  ".close{padding:0;border:0;border-radius:6px;background:transparent;color:inherit;font-size:24px;line-height:1}" +
  ".log{flex:1;overflow-y:auto;padding:12px 16px}" +
  ".log:focus-visible{outline-offset:-3px}" +
  "ol{margin:0;padding:0;list-style:none;display:flex;flex-direction:column;gap:8px}" +
  ".msg{max-width:80%;padding:8px 12px;border-radius:14px;background:var(--soft);align-self:flex-start;white-space:pre-wrap;overflow-wrap:anywhere}" +
  ".msg.visitor{align-self:flex-end;background:var(--c);color:var(--on)}" +
  ".msg.failed{background:#fbe3e1;color:#7a1a12}" +
  ".notice{align-self:center;font-size:12px;opacity:.75;text-align:center}" +
  ".who,time,.status{display:block;font-size:11px}" +
  ".who{font-weight:600}" +
  ".retry{padding:0 8px;border:0;background:none;color:inherit;font-size:11px;text-decoration:underline}" +
  ".composer{display:flex;gap:8px;padding:10px;border-top:1px solid var(--line)}" +
  "textarea,input{flex:1;min-width:0;height:44px;max-height:120px;padding:11px 10px;resize:none;font:inherit;color:var(--fg);background:var(--bg);border:1px solid var(--line);border-radius:8px}" +
  ".typing{margin:0;padding:0 16px;font-size:12px;opacity:.75}" +
  ".away{padding:10px 16px;border-bottom:1px solid var(--line);background:var(--soft)}" +
  ".away p{margin:0 0 8px}" +
  ".row{display:flex;gap:8px}" +
  "[aria-invalid=true]{border-color:#d93025}" +
  ".error{display:block;margin-top:4px;font-size:12px;color:#b3261e}" +
  ".send{padding:0 14px;border:0;border-radius:8px;background:var(--c);color:var(--on);font-weight:600}" +
  ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}" +
  "@media (max-width:480px){.root .panel{inset:0;width:auto;height:auto;max-height:none;border-radius:0}}" +
  `@media (prefers-color-scheme:dark){.root{--bg:${DARK.surface};--fg:${DARK.text};--soft:${DARK.soft};--line:${DARK.line};--focus:${DARK.focus}}.msg.failed{background:#5a1f1a;color:#ffd9d5}.error{color:#ffb4ab}}` +
  "@media (prefers-reduced-motion:reduce){*{transition:none!important;animation:none!important}}";
