/**
 * The page-facing `window.ChatWidget` API (docs/widget.md): `boot`,
 * `shutdown`, `update`, `show`, `hide`, `onReady`. It joins a `ChatSession`
 * (the wire) to a `ChatPanel` (the DOM) and keeps host pages safe from the
 * widget's failures: every method returns normally and every error goes to
 * `onSecurityError` (or one `console.warn`).
 *
 * @module
 */

import type {
  ChatMessage,
  ErrorCode,
  VisitorConversation,
  WidgetConfig,
} from "../wire/mod.ts";
import { ChatPanel, type PanelLook } from "./chat_panel.ts";
import { ChatSession } from "./chat_session.ts";
import { TitleFlash } from "./title_flash.ts";
import { TypingIndicator, TypingThrottle } from "./typing_signal.ts";
import { forgetStoredSession, sessionKey } from "./stored_session.ts";
import { forgetVisitorId } from "./visitor_id_store.ts";
import { currentPage, watchNavigations } from "./visitor_page.ts";
import { WidgetError } from "./widget_error.ts";

/** The options of `ChatWidget.boot` (docs/widget.md, Boot options). */
export interface BootOptions {
  readonly organizationId: string;
  readonly app_id?: string;
  /** Where the Parley server is; defaults to the origin that served widget.js. */
  readonly apiBaseUrl?: string;
  /** A JWT minted by the site's server (enhanced security). */
  readonly userJWT?: string;
  /** Fetches a fresh JWT: called at boot, and once more when the server says it expired. */
  readonly getUserJWT?: () => Promise<string>;
  readonly email?: string;
  readonly name?: string;
  readonly user_id?: string;
  /** Receives every error: `error.code` (also passed as `code`), `message`, `retryAfter`. */
  readonly onSecurityError?: (error: WidgetError, code: ErrorCode) => void;
  /** Called once the widget booted and its launcher is on the page. */
  readonly onReady?: () => void;
}

/** The `window.ChatWidget` object. */
export interface ChatWidgetApi {
  /** Boots (or re-boots) the widget; resolves when booted or when the failure was reported. */
  boot(options: BootOptions): Promise<void>;
  /** Removes the widget and forgets the visitor and its stored session (call it when the user logs out). */
  shutdown(): void;
  /** Boots again with the current options merged with `options`. */
  update(options: Partial<BootOptions>): Promise<void>;
  /** Opens the chat panel (once booted). */
  show(): void;
  /** Closes the chat panel. */
  hide(): void;
  /** Calls `callback` when the widget is ready (at once if it already is). */
  onReady(callback: () => void): void;
  /** The widget's version, which also marks the real widget apart from the loader stub. */
  readonly version: string;
}

/** The widget version reported by `ChatWidget.version`. */
export const WIDGET_VERSION = "0.1.0";

/**
 * Creates the `window.ChatWidget` API.
 *
 * @param defaultApiBaseUrl the origin that served widget.js
 * @returns the API object
 */
export function createChatWidget(defaultApiBaseUrl: string): ChatWidgetApi {
  let options: BootOptions | undefined;
  let session: ChatSession | undefined;
  let panel: ChatPanel | undefined;
  let openWhenReady = false;
  let warned = false;
  let typingShown: TypingIndicator | undefined;
  let stopWatchingNavigations: (() => void) | undefined;
  const titleFlash = new TitleFlash(document);
  const readyCallbacks: (() => void)[] = [];

  const report = (
    error: WidgetError,
    handler: BootOptions["onSecurityError"],
  ): void => {
    if (handler) {
      try {
        handler(error, error.code);
      } catch (handlerError) {
        console.warn("Parley chat: onSecurityError threw", handlerError);
      }
    } else if (!warned) {
      warned = true;
      console.warn(`Parley chat: ${error.code}: ${error.message}`);
    }
  };

  const callSafely = (callback: () => void): void => {
    try {
      callback();
    } catch (error) {
      console.warn("Parley chat: onReady callback threw", error);
    }
  };

  const teardown = (): void => {
    session?.close();
    typingShown?.stop();
    titleFlash.stop();
    panel?.destroy();
    session = undefined;
    panel = undefined;
  };

  const start = async (next: BootOptions): Promise<void> => {
    teardown();
    options = next;
    warned = false;
    if (
      typeof next?.organizationId !== "string" || next.organizationId === ""
    ) {
      report(
        new WidgetError({
          code: "BAD_REQUEST",
          message: "organizationId is required",
        }),
        next?.onSecurityError,
      );
      return;
    }
    const pendingMessages = new Map<string, string>();
    let localCount = 0;
    // While away nobody watches the typing, so it spends no session budget.
    let away = false;
    const typing = new TypingIndicator(
      (label) => panel?.showTyping(label),
      () => panel?.showTyping(""),
    );
    typingShown = typing;
    const current = new ChatSession({
      apiBaseUrl: apiBaseUrlOf(next),
      organizationId: next.organizationId,
      appId: next.app_id,
      userJWT: next.userJWT,
      getUserJWT: next.getUserJWT,
      userId: next.user_id,
      email: next.email,
      name: next.name,
      page: () => currentPage(location, document),
      onError: (error) => report(error, next.onSecurityError),
      onConversation: (conversation) => showConversation(conversation),
      onMessage: (message) => showMessage(message),
      onTyping: (agent) => typing.typing(`${agent.name} is typing…`),
      onSettings: (config) => {
        panel?.restyle(panelLook(config));
        showAvailability(config);
      },
      onAvailability: (availability) => showAvailability(availability),
      onEnded: () => {
        if (session === current) teardown();
      },
      onConversationClosed: () => {
        panel?.showNotice(
          "This conversation was closed. Write to start a new one.",
        );
      },
    });
    session = current;

    const showMessage = (message: ChatMessage, countsAsUnread = true): void => {
      const isNew = panel?.showMessage(
        message.id,
        {
          text: message.text,
          author: message.author,
          state: "sent",
          agentName: message.agent?.name,
        },
        countsAsUnread,
      );
      if (!isNew || !countsAsUnread || message.author !== "agent") return;
      // An agent answering live is there, whatever the boot said.
      typing.stop();
      away = false;
      panel?.showAway(false);
      titleFlash.start();
    };
    let contact: string | undefined;
    const showAvailability = (
      availability: { agentsOnline: boolean; withinHours: boolean },
    ): void => {
      away = !availability.agentsOnline || !availability.withinHours;
      panel?.showAway(away, contact);
    };
    const showConversation = (conversation: VisitorConversation): void => {
      contact = conversation.contact?.email ?? contact;
      panel?.showAway(away, contact);
      for (const message of conversation.messages) {
        showMessage(message, false);
      }
    };
    const throttle = new TypingThrottle(() => {
      if (!away) current.typing();
    });
    const send = (key: string, text: string): void => {
      throttle.reset();
      panel?.showMessage(key, { text, author: "visitor", state: "sending" });
      current.send(text).then((message) => {
        pendingMessages.delete(key);
        panel?.rekeyMessage(key, message.id);
        showMessage(message);
      }, () => {
        panel?.showMessage(key, { text, author: "visitor", state: "failed" });
      });
    };

    const started = await current.start();
    if (!started || session !== current) return;
    await whenBodyExists();
    if (session !== current) return;
    panel = new ChatPanel({
      ...panelLook(started.config),
      onToggle: (open) => current.setPanelOpen(open),
      onSend: (text) => {
        const key = `local:${++localCount}`;
        pendingMessages.set(key, text);
        send(key, text);
      },
      onRetry: (key) => {
        const text = pendingMessages.get(key);
        if (text !== undefined) send(key, text);
      },
      onTyping: () => throttle.input(),
      onContact: (email) => current.setContact(email),
    });
    panel.mount();
    showAvailability(started.config);
    if (started.conversation) showConversation(started.conversation);
    stopWatchingNavigations ??= watchNavigations(
      globalThis,
      () => session?.pageChanged(),
    );
    if (openWhenReady) panel.open();
    openWhenReady = false;
    // The stream starts once the panel can show what it brings.
    current.setPanelOpen(panel.isOpen);
    if (next.onReady) callSafely(next.onReady);
    for (const callback of readyCallbacks.splice(0)) callSafely(callback);
  };

  const api: ChatWidgetApi = {
    version: WIDGET_VERSION,
    boot: (next) => start(next).catch(reportUnexpected),
    shutdown: () => {
      if (options?.organizationId) {
        forgetVisitorId(options.organizationId);
        forgetStoredSession(
          sessionKey(
            apiBaseUrlOf(options),
            options.organizationId,
            options.app_id,
          ),
        );
      }
      stopWatchingNavigations?.();
      stopWatchingNavigations = undefined;
      teardown();
      options = undefined;
      openWhenReady = false;
    },
    update: (changes) =>
      options
        ? start({ ...options, ...changes }).catch(reportUnexpected)
        : Promise.resolve(),
    show: () => {
      if (panel) panel.open();
      else openWhenReady = true;
    },
    hide: () => {
      openWhenReady = false;
      panel?.close();
    },
    onReady: (callback) => {
      if (typeof callback !== "function") return;
      // The panel exists once the widget is ready, and only then.
      if (panel) queueMicrotask(() => callSafely(callback));
      else readyCallbacks.push(callback);
    },
  };

  function reportUnexpected(error: unknown): void {
    report(
      new WidgetError({ code: "INTERNAL", message: String(error) }),
      options?.onSecurityError,
    );
  }

  function apiBaseUrlOf(boot: BootOptions): string {
    return boot.apiBaseUrl || defaultApiBaseUrl;
  }

  return api;
}

/** How the panel looks under `config`. */
function panelLook(config: WidgetConfig): PanelLook {
  const widget = config.widget;
  return {
    title: widget?.title || config.name || "Chat",
    greeting: widget?.greeting ?? "",
    color: widget?.color ?? "",
    position: widget?.position === "left" ? "left" : "right",
  };
}

function whenBodyExists(): Promise<void> {
  if (document.body) return Promise.resolve();
  return new Promise((resolve) => {
    document.addEventListener("DOMContentLoaded", () => resolve(), {
      once: true,
    });
  });
}
