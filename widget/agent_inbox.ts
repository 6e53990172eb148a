/**
 * The agent inbox served at `GET /agent` (bundled as `/agent.js`): wires the
 * session (`inbox_session.ts`, the logic) to the page (`inbox_view.ts`, the
 * DOM) and to the browser — the server over `fetch`, the tab's storage, its
 * visibility, the chime and desktop notifications. Nothing runs at import
 * but {@linkcode startInbox}, once the page is there.
 *
 * @module
 */

import { readEventStream, streamEventOf } from "./event_stream.ts";
import {
  type AlertSettings,
  InboxAlerts,
  readAlertSettings,
  writeAlertSettings,
} from "./inbox_alerts.ts";
import { createChime } from "./inbox_chime.ts";
import { InboxSession, type InboxTransport } from "./inbox_session.ts";
import { inboxText } from "./inbox_strings.ts";
import { InboxView, type NotificationPermissionState } from "./inbox_view.ts";
import { callRpc, openRpcStream } from "./rpc_client.ts";

/**
 * The server's `agent.*` methods over `fetch`, with the admin key as the
 * bearer token.
 *
 * @param apiBaseUrl Where the server is (the page's own origin).
 * @returns The transport a session talks through.
 */
export function fetchTransport(apiBaseUrl: string): InboxTransport {
  return {
    async call(method, params, key) {
      return (await callRpc(apiBaseUrl, method, params, { token: key })).data;
    },
    async listen(params, key, { lastEventId, signal, opened }, onEvent) {
      const body = await openRpcStream(apiBaseUrl, "agent.stream", params, {
        token: key,
        lastEventId,
        signal,
      });
      opened();
      await readEventStream(body, (frame) => {
        const event = streamEventOf(frame, "agent.stream");
        if (event === undefined) return;
        try {
          onEvent(event, frame.id);
        } catch {
          // One event the page could not show leaves the stream going.
        }
      }, lastEventId);
    },
  };
}

/** Where desktop notifications stand in this browser. */
function permission(): NotificationPermissionState {
  return "Notification" in globalThis ? Notification.permission : "denied";
}

/**
 * Starts the inbox on its page.
 *
 * @param page The inbox page's window.
 * @returns The session, for the page's lifetime.
 */
export function startInbox(page: Window & typeof globalThis): InboxSession {
  const document = page.document;
  // The view's actions reach the session made below; none runs before it is.
  const view: InboxView = new InboxView(document, {
    signIn: (credentials) => void session.signIn(credentials),
    signOut: () => session.signOut(),
    showView: (chosen) => void session.showView(chosen),
    open: (id) => void session.open(id),
    reply: (text) => session.reply(text),
    typed: (text) => session.typed(text),
    assignToMe: () => void session.assignToMe(),
    unassign: () => void session.unassign(),
    handOver: (agentId) => void session.handOver(agentId),
    closeConversation: () => void session.closeConversation(),
    alertsChanged: (change) => changeAlerts(change),
    allowNotifications: () => {
      Notification.requestPermission().then((answer) => {
        if (answer === "granted") changeAlerts({ desktop: true });
        else {
          showAlerts();
          view.status(inboxText("notificationsBlocked"));
        }
      }, () => showAlerts());
    },
    readSecurityReport: (hours) => session.securityReport(hours),
  });
  const alerts = new InboxAlerts({
    hidden: () => document.hidden,
    focused: () => document.hasFocus(),
    notificationsAllowed: () => permission() === "granted",
    setTitle: (title) => document.title = title,
    playSound: createChime(page),
    notify: ({ title, body, conversationId }) => {
      let notification: Notification;
      try {
        notification = new Notification(title, { body, tag: conversationId });
      } catch {
        // Some browsers (Chrome on Android) only notify from a service worker.
        return;
      }
      notification.addEventListener("click", () => {
        page.focus();
        notification.close();
        void session.open(conversationId);
      });
    },
  }, readAlertSettings(page.localStorage));
  const session: InboxSession = new InboxSession({
    transport: fetchTransport(page.location.origin),
    events: view,
    alerts,
    credentialStore: page.sessionStorage,
    hidden: () => document.hidden,
  });

  function showAlerts(): void {
    view.showAlerts(session.alertSettings, permission());
  }
  function changeAlerts(change: Partial<AlertSettings>): void {
    const settings = { ...session.alertSettings, ...change };
    session.configureAlerts(settings);
    writeAlertSettings(page.localStorage, settings);
    showAlerts();
  }

  // Coming back to the tab reads the open conversation.
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) session.tabShown();
  });
  showAlerts();
  const suggested = new URLSearchParams(page.location.search).get("org");
  if (suggested) view.suggestOrganization(suggested);
  session.restore();
  return session;
}

if (typeof document !== "undefined" && document.getElementById("inbox")) {
  startInbox(window);
}
