/**
 * The widget.js entry point. Installs `window.ChatWidget`, replays calls the
 * loader stub queued before this script arrived, and boots from the script
 * tag's `data-organization-id` when present, so pages under a strict CSP can
 * embed the widget without any inline script.
 *
 * @module
 */

import { type ChatWidgetApi, createChatWidget } from "./chat_widget.ts";

type QueuedCall = [method: string, args: unknown[]];
type WidgetGlobal = {
  ChatWidget?: Partial<ChatWidgetApi> & { q?: QueuedCall[] };
};

const QUEUEABLE = [
  "boot",
  "shutdown",
  "update",
  "show",
  "hide",
  "onReady",
] as const;

function install(): void {
  // Captured now: `document.currentScript` is only set while this script runs.
  const script = document.currentScript instanceof HTMLScriptElement
    ? document.currentScript
    : null;
  const scriptOrigin = script?.src
    ? new URL(script.src, location.href).origin
    : location.origin;
  const page = globalThis as unknown as WidgetGlobal;
  const existing = page.ChatWidget;
  if (existing?.version) return; // widget.js included twice: keep the first.

  const api = createChatWidget(scriptOrigin);
  page.ChatWidget = api;

  const queue = Array.isArray(existing?.q) ? existing.q : [];
  let booted = false;
  for (const [method, args] of queue) {
    const name = QUEUEABLE.find((known) => known === method);
    if (!name) continue;
    booted ||= name === "boot";
    (api[name] as (...values: unknown[]) => unknown)(
      ...(Array.isArray(args) ? args : []),
    );
  }

  const organizationId = script?.dataset.organizationId;
  if (organizationId && !booted) {
    const appId = script.dataset.appId;
    const apiBaseUrl = script.dataset.apiBaseUrl;
    void api.boot({
      organizationId,
      ...(appId ? { app_id: appId } : {}),
      ...(apiBaseUrl ? { apiBaseUrl } : {}),
    });
  }
}

try {
  install();
} catch (error) {
  console.warn("Parley chat: could not start", error);
}
