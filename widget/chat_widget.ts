/**
 * The page-facing `window.ChatWidget` API (docs/widget.md): `boot`,
 * `shutdown`, `update`, `show`, `hide`, `onReady`. It joins a `ChatSession`
 * (the wire) to a `ChatPanel` (the DOM) and keeps host pages safe from the
 * widget's failures: every method returns normally and every error goes to
 * `onSecurityError` (or one `console.warn`).
 *
 * It also chooses the widget's language (`chooseLanguage`: `boot({
 * language })`, the browser's languages, the organization's default,
 * English) and fetches its locale file in parallel with the boot; the
 * launcher waits for it at most `LOCALE_WAIT_MS`, and a file that arrives
 * later switches the panel live, as `update({ language })` does.
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
import { resolveAdminText } from "../wire/admin_text.ts";
import { type Catalogue, ENGLISH_CATALOGUE } from "./i18n/catalogue.ts";
import { ENGLISH } from "./i18n/english.ts";
import { chooseLanguage, type LanguageChoice } from "../wire/locale_match.ts";
import { translate } from "./i18n/translate.ts";
import { fetchCatalogue } from "./locale_file.ts";
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
  /**
   * The page's language (a BCP 47 tag such as `fr` or `pt-BR`), for sites
   * that know it: it wins over the browser's languages when Parley has it.
   */
  readonly language?: string;
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
  /**
   * Boots again with the current options merged with `options`; a change of
   * `language` alone switches the language live, without a boot.
   */
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
 * How long the launcher waits for a locale file still on its way after the
 * boot, so the panel's first render is in the visitor's language; a file
 * that arrives later switches it live.
 */
export const LOCALE_WAIT_MS = 300;

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
  /** The settings in force (from the boot, the stored session or the stream). */
  let config: WidgetConfig | undefined;
  let choice: LanguageChoice = chooseLanguage({});
  /** The texts the widget shows now: English until the chosen locale's file is read. */
  let catalogue: Catalogue = ENGLISH_CATALOGUE;
  /** Locale files by URL, fetched once per page (the browser caches them across pages). */
  const catalogues = new Map<string, Promise<Catalogue>>();

  const catalogueFor = (apiBaseUrl: string, locale: string) => {
    if (locale === "en") return Promise.resolve(ENGLISH_CATALOGUE);
    const key = `${apiBaseUrl} ${locale}`;
    let loading = catalogues.get(key);
    if (!loading) {
      loading = fetchCatalogue(apiBaseUrl, locale);
      catalogues.set(key, loading);
      // A failed fetch is tried again at the next switch or boot.
      loading.catch(() => catalogues.delete(key));
    }
    return loading.catch(() => ENGLISH_CATALOGUE);
  };

  /**
   * Chooses the language again (options, browser, settings), fetches its
   * catalogue, and speaks it unless another choice came meanwhile.
   */
  const relanguage = (): Promise<void> => {
    const wanted = choice = chooseLanguage({
      requested: options?.language,
      browser: navigator.languages,
      organization: config?.widget?.language,
    });
    return catalogueFor(apiBaseUrlOf(options!), wanted.locale).then(
      (loaded) => {
        if (choice !== wanted) return;
        catalogue = loaded;
        panel?.speak(loaded);
        if (config) panel?.restyle(panelLook(config, wanted));
      },
    );
  };

  /** Settings changed: a new organization default may change the language. */
  const settingsChanged = (next: WidgetConfig): Promise<void> | undefined => {
    const before = config?.widget?.language;
    config = next;
    panel?.restyle(panelLook(next, choice));
    return next.widget?.language === before ? undefined : relanguage();
  };

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
    config = undefined;
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
    let language = relanguage();
    const pendingMessages = new Map<string, string>();
    let localCount = 0;
    // While away nobody watches the typing, so it spends no session budget.
    let away = false;
    const typing = new TypingIndicator(
      (agent) => panel?.showTyping(agent),
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
      language: () => catalogue.locale,
      onError: (error) => report(error, next.onSecurityError),
      onConversation: (conversation) => showConversation(conversation),
      onMessage: (message) => showMessage(message),
      onTyping: (agent) => typing.typing(agent.name),
      onSettings: (config) => {
        void settingsChanged(config);
        showAvailability(config);
      },
      onAvailability: (availability) => showAvailability(availability),
      onEnded: () => {
        if (session === current) teardown();
      },
      onConversationClosed: () => panel?.showNotice("conversationClosed"),
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
          at: message.at,
        },
        countsAsUnread,
      );
      if (!isNew || !countsAsUnread || message.author !== "agent") return;
      // An agent answering live is there, whatever the boot said.
      typing.stop();
      away = false;
      panel?.showAway(false);
      titleFlash.start(translate(catalogue, "titleFlash"));
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
      }, (failure) => {
        panel?.showMessage(key, {
          text,
          author: "visitor",
          state: "failed",
          failure,
        });
      });
    };

    const started = await current.start();
    if (!started || session !== current) return;
    language = settingsChanged(started.config) ?? language;
    await whenBodyExists();
    // The first render waits briefly for the locale; the launcher never long.
    await Promise.race([
      language,
      new Promise((resolve) => setTimeout(resolve, LOCALE_WAIT_MS)),
    ]);
    if (session !== current) return;
    panel = new ChatPanel({
      ...panelLook(started.config, choice),
      catalogue,
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
    update: (changes) => {
      if (!options) return Promise.resolve();
      const changed = Object.keys(changes ?? {});
      options = { ...options, ...changes };
      // A language alone is switched live: no boot, only its locale file.
      return (changed.length > 0 && changed.every((key) => key === "language")
        ? relanguage()
        : start(options)).catch(reportUnexpected);
    },
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

/** How the panel looks under `config`, its texts in the chosen language. */
function panelLook(config: WidgetConfig, language: LanguageChoice): PanelLook {
  const widget = config.widget;
  const texts = widget?.texts;
  const text = (
    key: "title" | "greeting" | "awayMessage",
  ): string | undefined =>
    texts?.[key]
      ? resolveAdminText(texts[key], language, widget.language)
      : widget?.[key];
  const greeting = text("greeting");
  return {
    title: text("title") || config.name,
    // The server's default greeting (wire's DEFAULT_GREETING, English's
    // own) reads in the visitor's language.
    greeting: texts?.greeting || greeting !== ENGLISH.greeting
      ? greeting ?? ""
      : undefined,
    awayMessage: text("awayMessage") ?? "",
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
