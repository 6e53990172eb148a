/**
 * The visible widget: a launcher button and a chat panel inside a shadow root
 * on a host element appended to `<body>`. Built with DOM calls only (no
 * `innerHTML`, no style attributes) so it runs under strict CSP and Trusted
 * Types, and message text is only ever set as text.
 *
 * Every text it shows comes from a catalogue (`i18n/`), in the language the
 * panel `speak`s: the root carries that language's `lang` and `dir`, and the
 * stylesheet mirrors through logical properties, so Arabic, Hebrew, Persian
 * and Urdu read right to left. The organization's own texts (title,
 * greeting, away message) arrive already resolved for the language
 * (`PanelLook`).
 *
 * Accessibility: the messages are a list inside a `role="log"` (polite),
 * which gains an item per message and nothing else; "… is typing…" is a
 * separate `role="status"` line whose text is set once per typing stretch,
 * so typing never floods a screen reader.
 *
 * @module
 */

import { MAX_MESSAGE_LENGTH } from "../wire/mod.ts";
import { isEmailAddress } from "./email_address.ts";
import { type Catalogue, ENGLISH_CATALOGUE } from "./i18n/catalogue.ts";
import type { MessageKey } from "./i18n/english.ts";
import { textDirection } from "../wire/locale_match.ts";
import { formatMessageTime } from "./i18n/message_time.ts";
import { translate, translateParts } from "./i18n/translate.ts";
import { readableTextOn } from "../policy/contrast.ts";
import { PANEL_CSS } from "./panel_styles.ts";
import { element } from "./dom_element.ts";

/** What the panel shows of one message. */
export interface PanelMessage {
  readonly text: string;
  readonly author: "visitor" | "agent";
  /** `sending` while the server has not confirmed it, `failed` when it refused. */
  readonly state: "sent" | "sending" | "failed";
  /** The name of the agent who wrote it. */
  readonly agentName?: string | undefined;
  /** When it was written (ISO 8601), shown in the visitor's locale. */
  readonly at?: string | undefined;
  /**
   * Why a failed message failed, when the visitor should know:
   * `RATE_LIMITED` (with the server's `retryAfter`) or `UNAVAILABLE`.
   */
  readonly failure?: {
    readonly code: string;
    readonly retryAfter?: number | undefined;
  };
}

/** How a panel looks: the organization's widget settings, in the panel's language. */
export interface PanelLook {
  readonly title: string;
  /** The first message; `""` for none, absent for the catalogue's. */
  readonly greeting?: string | undefined;
  /** The away form's prompt; `""` for the catalogue's. */
  readonly awayMessage: string;
  /** A CSS hex color (`#0b5fff`); anything else keeps the default. */
  readonly color: string;
  readonly position: "left" | "right";
}

/** The look and the callbacks of a panel. */
export interface ChatPanelOptions extends PanelLook {
  /** The language to start in (default English). */
  readonly catalogue?: Catalogue;
  /** Called when the panel opens (`true`) or closes (`false`). */
  readonly onToggle?: (open: boolean) => void;
  /** Called with the trimmed text when the visitor sends a message. */
  readonly onSend: (text: string) => void;
  /** Called with a message's key when the visitor retries a failed message. */
  readonly onRetry: (key: string) => void;
  /** Called on each keystroke in the message field (the caller throttles). */
  readonly onTyping: () => void;
  /**
   * Called with the address the visitor left on the away form; rejects with
   * the server's error (`code: "BAD_REQUEST"` for a malformed address).
   */
  readonly onContact: (email: string) => Promise<unknown>;
}

const CHAT_ICON_PATH =
  "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z";

/** A text of the panel that follows its language: the node, its key, and the attribute it fills (else its text). */
type Label = readonly [Element, MessageKey, (string | undefined)?];

/** The launcher and chat panel of one booted widget. */
export class ChatPanel {
  #options: ChatPanelOptions;
  #look: PanelLook;
  #catalogue: Catalogue;
  #labels: Label[] = [];
  #host: HTMLElement;
  #root: HTMLDivElement;
  #title: HTMLHeadingElement;
  #greeting: HTMLLIElement;
  #launcher: HTMLButtonElement;
  #badge: HTMLSpanElement;
  #panel: HTMLDivElement;
  #log: HTMLDivElement;
  #list: HTMLOListElement;
  #input: HTMLTextAreaElement;
  #typing: HTMLParagraphElement;
  #typingAgent = "";
  #away: HTMLFormElement;
  #email: HTMLInputElement;
  #emailError: HTMLSpanElement;
  #emailErrorKey: MessageKey | undefined;
  /** The away form's parts that ask for an address. */
  #awayAsk: Element[];
  /** The address the away form shows; `null` until it is built. */
  #awayContact: string | undefined | null = null;
  #items = new Map<string, HTMLLIElement>();
  #messages = new Map<string, PanelMessage>();
  #unread = 0;

  /** Builds the DOM (not yet attached; see `mount`). */
  constructor(options: ChatPanelOptions) {
    this.#options = options;
    this.#look = options;
    this.#catalogue = options.catalogue ?? ENGLISH_CATALOGUE;
    this.#host = document.createElement("parley-chat");
    const shadow = this.#host.attachShadow({ mode: "open" });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(PANEL_CSS);
    shadow.adoptedStyleSheets = [sheet];

    const root = this.#root = element("div", {});

    this.#badge = element("span", {
      class: "badge",
      "aria-hidden": "true",
      hidden: "",
    });
    this.#launcher = element("button", {
      type: "button",
      class: "launcher",
      "aria-expanded": "false",
      "aria-controls": "parley-panel",
    }, [chatIcon(), this.#badge]);

    const title = this.#title = element("h2", { id: "parley-title" });
    const close = this.#label(
      element("button", { type: "button", class: "close" }, ["\u00d7"]),
      "closeChat",
      "aria-label",
    );
    this.#list = element("ol", {});
    this.#log = this.#label(
      element("div", {
        class: "log",
        role: "log",
        "aria-live": "polite",
        tabindex: "0",
      }, [this.#list]),
      "messagesLabel",
      "aria-label",
    );
    this.#greeting = element("li", { class: "msg agent greeting" });
    this.#list.append(this.#greeting);
    this.#input = this.#label(
      element("textarea", {
        id: "parley-input",
        rows: "1",
        maxlength: String(MAX_MESSAGE_LENGTH),
        autocomplete: "off",
      }),
      "messagePlaceholder",
      "placeholder",
    );
    this.#typing = element("p", { class: "typing", role: "status" });
    this.#email = this.#label(
      element("input", {
        id: "parley-email",
        type: "email",
        autocomplete: "email",
        "aria-describedby": "parley-email-error",
      }),
      "emailPlaceholder",
      "placeholder",
    );
    this.#emailError = element("span", {
      id: "parley-email-error",
      class: "error",
    });
    this.#away = element("form", { class: "away", novalidate: "", hidden: "" });
    this.#awayAsk = [
      element("p", {}),
      element("div", { class: "row" }, [
        this.#label(
          element("label", { for: "parley-email", class: "sr" }),
          "emailLabel",
        ),
        this.#email,
        this.#label(
          element("button", { type: "submit", class: "send" }),
          "saveEmail",
        ),
      ]),
      this.#emailError,
    ];
    const form = element("form", { class: "composer" }, [
      this.#label(
        element("label", { for: "parley-input", class: "sr" }),
        "messageLabel",
      ),
      this.#input,
      this.#label(element("button", { type: "submit", class: "send" }), "send"),
    ]);
    this.#panel = element("div", {
      id: "parley-panel",
      class: "panel",
      role: "dialog",
      "aria-labelledby": "parley-title",
      hidden: "",
    }, [
      element("div", { class: "head" }, [title, close]),
      this.#away,
      this.#log,
      this.#typing,
      form,
    ]);

    root.append(this.#launcher, this.#panel);
    shadow.append(root);
    this.restyle(options);
    this.speak(this.#catalogue);

    this.#launcher.addEventListener(
      "click",
      () => this.isOpen ? this.close() : this.open(),
    );
    close.addEventListener("click", () => this.close());
    this.#panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.stopPropagation();
        this.close();
      }
    });
    const send = (): void => {
      const text = this.#input.value.trim();
      if (text.length === 0 || text.length > MAX_MESSAGE_LENGTH) return;
      this.#input.value = "";
      options.onSend(text);
    };
    this.#input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        send();
      }
    });
    this.#input.addEventListener("input", () => {
      if (this.#input.value.trim()) options.onTyping();
    });
    this.#away.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#leaveContact();
    });
    // An edited address is judged again on the next Save.
    this.#email.addEventListener("input", () => this.#markEmail());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      send();
    });
    this.#log.addEventListener("click", (event) => {
      const button = (event.target as Element | null)?.closest?.(
        "button.retry",
      );
      const key = button?.closest("li")?.dataset.key;
      if (key) options.onRetry(key);
    });
  }

  /** Applies the organization's current look (settings changed, or another language's texts). */
  restyle(look: PanelLook): void {
    this.#look = look;
    const root = this.#root;
    root.className = look.position === "left" ? "root left" : "root";
    const color = /^#[0-9a-f]{3}([0-9a-f]{3})?$/i.test(look.color)
      ? look.color
      : "";
    root.style.setProperty("--c", color || null);
    root.style.setProperty("--on", color ? readableTextOn(color) : null);
    this.#title.textContent = look.title || this.#t("chatTitle");
    const greeting = look.greeting ?? this.#t("greeting");
    this.#greeting.textContent = greeting;
    this.#greeting.hidden = !greeting;
    this.#writeAway();
    this.#updateLauncherLabel();
  }

  /**
   * Speaks a language: every text of the widget from `catalogue`, and the
   * root's `lang` and `dir`. Messages keep their place; their notes and
   * times are written again.
   */
  speak(catalogue: Catalogue): void {
    this.#catalogue = catalogue;
    const locale = catalogue.locale;
    this.#root.lang = locale;
    this.#root.dir = textDirection(locale);
    for (const [node, key, attribute] of this.#labels) {
      if (attribute) node.setAttribute(attribute, this.#t(key));
      else node.textContent = this.#t(key);
    }
    for (const [key, message] of this.#messages) {
      if (message.state !== "sent") this.showMessage(key, message, false);
    }
    this.#retime();
    this.showTyping(this.#typingAgent);
    this.#markEmail(this.#emailErrorKey);
    this.restyle(this.#look);
  }

  /** Whether the panel is open. */
  get isOpen(): boolean {
    return !this.#panel.hidden;
  }

  /** Attaches the widget to the page. */
  mount(parent: HTMLElement = document.body): void {
    parent.append(this.#host);
    document.addEventListener("visibilitychange", this.#onVisibility);
  }

  /** Removes the widget from the page. */
  destroy(): void {
    document.removeEventListener("visibilitychange", this.#onVisibility);
    this.#host.remove();
    this.#items.clear();
  }

  /** Opens the panel, clears the unread count and moves focus into it. */
  open(): void {
    this.#panel.hidden = false;
    this.#launcher.setAttribute("aria-expanded", "true");
    this.#unread = 0;
    this.#updateLauncherLabel();
    this.#retime();
    this.#scrollToEnd();
    this.#input.focus();
    this.#options.onToggle?.(true);
  }

  /** Closes the panel and returns focus to the launcher. */
  close(): void {
    if (!this.isOpen) return;
    this.#panel.hidden = true;
    this.#launcher.setAttribute("aria-expanded", "false");
    this.#launcher.focus();
    this.#options.onToggle?.(false);
  }

  /**
   * Shows a message, or updates the one with the same key. New agent
   * messages arriving while the panel is closed or the page hidden count as
   * unread.
   *
   * @param key the server's message id, or a local key while sending
   * @param countsAsUnread false for history shown at boot
   * @returns whether the message is new to the panel
   */
  showMessage(
    key: string,
    message: PanelMessage,
    countsAsUnread = true,
  ): boolean {
    const existing = this.#items.get(key);
    const failed = message.state === "failed";
    const item = element("li", {
      class: `msg ${message.author}${failed ? " failed" : ""}`,
      "data-key": key,
    }, [message.text]);
    if (message.agentName) {
      item.prepend(element("span", { class: "who" }, [message.agentName]));
    }
    if (message.at) {
      item.append(element("time", { datetime: message.at }));
    }
    if (message.state === "sending") {
      item.append(element("span", { class: "status" }, [this.#t("sending")]));
    } else if (failed) {
      const retry = element("button", { type: "button", class: "retry" }, [
        this.#t("retry"),
      ]);
      const { code, retryAfter } = message.failure ?? {};
      item.append(
        element(
          "span",
          { class: "status" },
          code === "RATE_LIMITED"
            ? [
              translate(this.#catalogue, "sendRateLimited", {
                count: Math.ceil(retryAfter ?? 1),
              }),
              " ",
              retry,
            ]
            : code === "UNAVAILABLE"
            ? [this.#t("chatUnavailable"), " ", retry]
            : translateParts(this.#catalogue, "sendFailed", { retry }),
        ),
      );
    }
    this.#messages.set(key, message);
    if (existing) {
      existing.replaceWith(item);
    } else {
      this.#list.append(item);
      if (
        countsAsUnread && message.author === "agent" &&
        (!this.isOpen || document.hidden)
      ) {
        this.#unread += 1;
        this.#updateLauncherLabel();
      }
    }
    this.#items.set(key, item);
    this.#retime(item);
    this.#scrollToEnd();
    return !existing;
  }

  /** Shows a line from the widget itself between messages (e.g. "closed"). */
  showNotice(key: MessageKey): void {
    const notice = this.#label(element("li", { class: "notice" }), key);
    notice.textContent = this.#t(key);
    this.#list.append(notice);
    this.#scrollToEnd();
  }

  /** Gives a shown message a new key (a local one becomes the server's id). */
  rekeyMessage(from: string, to: string): void {
    const item = this.#items.get(from);
    const message = this.#messages.get(from);
    if (!item || !message) return;
    this.#items.delete(from);
    this.#messages.delete(from);
    if (this.#items.has(to)) {
      item.remove();
      return;
    }
    item.dataset.key = to;
    this.#items.set(to, item);
    this.#messages.set(to, message);
  }

  /** Shows "… is typing…" under the messages for an agent (`""` hides it). */
  showTyping(agent: string): void {
    this.#typingAgent = agent;
    this.#typing.textContent = agent
      ? translate(this.#catalogue, "agentTyping", { agent })
      : "";
  }

  /**
   * Shows or hides the away form. With `contact`, says where the answer
   * will go instead of asking for an address.
   */
  showAway(away: boolean, contact?: string): void {
    this.#away.hidden = !away;
    // Rebuilt only when it changes, so a renewal never blurs a half-typed address.
    if (this.#awayContact !== contact) {
      this.#awayContact = contact;
      this.#away.replaceChildren(
        ...(contact ? [element("p", { role: "status" })] : this.#awayAsk),
      );
    }
    this.#writeAway();
  }

  /** The away form's first line: where the answer goes, or the prompt. */
  #writeAway(): void {
    const contact = this.#awayContact;
    const line = this.#away.firstChild;
    if (line) {
      line.textContent = contact
        ? translate(this.#catalogue, "emailSaved", { email: contact })
        : this.#look.awayMessage || this.#t("awayPrompt");
    }
  }

  #leaveContact(): void {
    const email = this.#email.value.trim();
    const invalid = (): void => {
      this.#markEmail("emailInvalid");
      this.#email.focus();
    };
    if (!isEmailAddress(email)) return invalid();
    this.#options.onContact(email).then(
      () => this.showAway(!this.#away.hidden, email),
      (error: { code?: string }) =>
        error?.code === "BAD_REQUEST"
          ? invalid()
          : this.#markEmail("emailNotSaved", false),
    );
  }

  /** Shows (or, without a key, clears) the away form's error. */
  #markEmail(error?: MessageKey, invalid = error === "emailInvalid"): void {
    this.#emailErrorKey = error;
    this.#emailError.textContent = error ? this.#t(error) : "";
    if (invalid) this.#email.setAttribute("aria-invalid", "true");
    else this.#email.removeAttribute("aria-invalid");
  }

  #onVisibility = (): void => {
    if (!document.hidden && this.isOpen && this.#unread > 0) {
      this.#unread = 0;
      this.#updateLauncherLabel();
    }
  };

  #updateLauncherLabel(): void {
    const unread = this.#unread;
    const catalogue = this.#catalogue;
    const title = this.#title.textContent!;
    this.#badge.hidden = unread === 0;
    this.#badge.textContent = unread > 99
      ? translate(catalogue, "badgeOverflow", { count: 99 })
      : new Intl.NumberFormat(catalogue.locale).format(unread);
    this.#launcher.setAttribute(
      "aria-label",
      unread === 0
        ? title
        : translate(catalogue, "launcherUnread", { title, count: unread }),
    );
  }

  /** Writes the times of the messages (or of one) again, as of now. */
  #retime(scope: Element = this.#list): void {
    const now = new Date();
    for (const time of scope.querySelectorAll("time")) {
      time.textContent = formatMessageTime(
        new Date(time.dateTime),
        now,
        this.#catalogue.locale,
      );
    }
  }

  #scrollToEnd(): void {
    this.#log.scrollTop = this.#log.scrollHeight;
  }

  /** A text without placeholders in the panel's language. */
  #t(key: MessageKey): string {
    return (translate as (catalogue: Catalogue, key: MessageKey) => string)(
      this.#catalogue,
      key,
    );
  }

  /** Keeps a node's text (or attribute) in the panel's language. */
  #label<E extends Element>(node: E, key: MessageKey, attribute?: string): E {
    this.#labels.push([node, key, attribute]);
    return node;
  }
}

function chatIcon(): SVGSVGElement {
  const svgNs = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNs, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(svgNs, "path");
  path.setAttribute("d", CHAT_ICON_PATH);
  svg.append(path);
  return svg;
}
