/**
 * The visible widget: a launcher button and a chat panel inside a shadow root
 * on a host element appended to `<body>`. Built with DOM calls only (no
 * `innerHTML`, no style attributes) so it runs under strict CSP and Trusted
 * Types, and message text is only ever set as text.
 *
 * Accessibility: the messages are a `role="log"` (polite), which gains an
 * item per message and nothing else; "… is typing…" is a separate
 * `role="status"` line whose text is set once per typing stretch, so typing
 * never floods a screen reader.
 *
 * @module
 */

import { MAX_MESSAGE_LENGTH } from "../wire/mod.ts";
import { isEmailAddress } from "./email_address.ts";
import { PANEL_CSS } from "./panel_styles.ts";

/** What the panel shows of one message. */
export interface PanelMessage {
  readonly text: string;
  readonly author: "visitor" | "agent";
  /** `sending` while the server has not confirmed it, `failed` when it refused. */
  readonly state: "sent" | "sending" | "failed";
  /** The name of the agent who wrote it. */
  readonly agentName?: string | undefined;
}

/** How a panel looks: the organization's widget settings. */
export interface PanelLook {
  readonly title: string;
  readonly greeting: string;
  /** A CSS hex color (`#0b5fff`); anything else keeps the default. */
  readonly color: string;
  readonly position: "left" | "right";
}

/** The look and the callbacks of a panel. */
export interface ChatPanelOptions extends PanelLook {
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

/** The launcher and chat panel of one booted widget. */
export class ChatPanel {
  #options: ChatPanelOptions;
  #look: PanelLook;
  #host: HTMLElement;
  #root: HTMLDivElement;
  #title: HTMLHeadingElement;
  #greeting: HTMLLIElement;
  #launcher: HTMLButtonElement;
  #badge: HTMLSpanElement;
  #panel: HTMLDivElement;
  #log: HTMLOListElement;
  #input: HTMLTextAreaElement;
  #typing: HTMLParagraphElement;
  #away: HTMLFormElement;
  #email: HTMLInputElement;
  #emailError: HTMLSpanElement;
  #awayContact: string | undefined;
  #items = new Map<string, HTMLLIElement>();
  #unread = 0;

  /** Builds the DOM (not yet attached; see `mount`). */
  constructor(options: ChatPanelOptions) {
    this.#options = options;
    this.#look = options;
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
    const close = element("button", {
      type: "button",
      class: "close",
      "aria-label": "Close chat",
    }, [
      "\u00d7",
    ]);
    this.#log = element("ol", {
      class: "log",
      role: "log",
      "aria-live": "polite",
      "aria-label": "Messages",
      tabindex: "0",
    });
    this.#greeting = element("li", { class: "msg agent greeting" });
    this.#log.append(this.#greeting);
    this.#input = element("textarea", {
      id: "parley-input",
      rows: "1",
      maxlength: String(MAX_MESSAGE_LENGTH),
      placeholder: "Write a message…",
      autocomplete: "off",
    });
    this.#typing = element("p", { class: "typing", role: "status" });
    this.#email = element("input", {
      id: "parley-email",
      type: "email",
      autocomplete: "email",
      placeholder: "you@example.com",
      "aria-describedby": "parley-email-error",
    });
    this.#emailError = element("span", {
      id: "parley-email-error",
      class: "error",
    });
    this.#away = element("form", { class: "away", novalidate: "", hidden: "" });
    const form = element("form", { class: "composer" }, [
      element("label", { for: "parley-input", class: "sr" }, ["Message"]),
      this.#input,
      element("button", { type: "submit", class: "send" }, ["Send"]),
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
    this.#email.addEventListener("input", () => this.#markEmail(""));
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

  /** Applies the organization's current look (settings changed since the page loaded). */
  restyle(look: PanelLook): void {
    this.#look = look;
    const root = this.#root;
    root.className = look.position === "left" ? "root left" : "root";
    const color = /^#[0-9a-f]{3}([0-9a-f]{3})?$/i.test(look.color)
      ? look.color
      : "";
    root.style.setProperty("--c", color || null);
    root.style.setProperty("--on", color ? readableTextOn(color) : null);
    this.#title.textContent = look.title;
    this.#greeting.textContent = look.greeting;
    this.#greeting.hidden = !look.greeting;
    this.#updateLauncherLabel();
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
    const item = element("li", {
      class: `msg ${message.author}${
        message.state === "failed" ? " failed" : ""
      }`,
      "data-key": key,
    }, [message.text]);
    if (message.agentName) {
      item.prepend(element("span", { class: "who" }, [message.agentName]));
    }
    if (message.state === "sending") {
      item.append(element("span", { class: "status" }, ["sending…"]));
    } else if (message.state === "failed") {
      item.append(
        element("span", { class: "status" }, [
          "failed — ",
          element("button", { type: "button", class: "retry" }, ["retry"]),
        ]),
      );
    }
    if (existing) {
      existing.replaceWith(item);
    } else {
      this.#log.append(item);
      if (
        countsAsUnread && message.author === "agent" &&
        (!this.isOpen || document.hidden)
      ) {
        this.#unread += 1;
        this.#updateLauncherLabel();
      }
    }
    this.#items.set(key, item);
    this.#scrollToEnd();
    return !existing;
  }

  /** Shows a line from the widget itself between messages (e.g. "closed"). */
  showNotice(text: string): void {
    this.#log.append(element("li", { class: "notice" }, [text]));
    this.#scrollToEnd();
  }

  /** Gives a shown message a new key (a local one becomes the server's id). */
  rekeyMessage(from: string, to: string): void {
    const item = this.#items.get(from);
    if (!item) return;
    this.#items.delete(from);
    if (this.#items.has(to)) {
      item.remove();
      return;
    }
    item.dataset.key = to;
    this.#items.set(to, item);
  }

  /** Shows "… is typing…" under the messages (`""` hides it). */
  showTyping(label: string): void {
    this.#typing.textContent = label;
  }

  /**
   * Shows or hides the away form. With `contact`, says where the answer
   * will go instead of asking for an address.
   */
  showAway(away: boolean, contact?: string): void {
    this.#away.hidden = !away;
    // Rebuilt only when it changes, so a renewal never blurs a half-typed address.
    if (this.#awayContact === contact && this.#away.firstChild) return;
    this.#awayContact = contact;
    this.#away.replaceChildren(
      ...(contact
        ? [
          element("p", { role: "status" }, [
            `We'll answer at ${contact}. You can keep writing here.`,
          ]),
        ]
        : [
          element("p", {}, [
            "We're away — leave your email and we'll answer there",
          ]),
          element("div", { class: "row" }, [
            element("label", { for: "parley-email", class: "sr" }, ["Email"]),
            this.#email,
            element("button", { type: "submit", class: "send" }, ["Save"]),
          ]),
          this.#emailError,
        ]),
    );
  }

  #leaveContact(): void {
    const email = this.#email.value.trim();
    const invalid = (): void => {
      this.#markEmail("Enter an email address like you@example.com");
      this.#email.focus();
    };
    if (!isEmailAddress(email)) return invalid();
    this.#options.onContact(email).then(
      () => this.showAway(!this.#away.hidden, email),
      (error: { code?: string }) =>
        error?.code === "BAD_REQUEST"
          ? invalid()
          : this.#markEmail("Not saved. Please try again.", false),
    );
  }

  /** Shows (or, with `""`, clears) the away form's error. */
  #markEmail(error: string, invalid = error !== ""): void {
    this.#emailError.textContent = error;
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
    this.#badge.hidden = unread === 0;
    this.#badge.textContent = unread > 99 ? "99+" : String(unread);
    const title = this.#look.title;
    const label = unread === 0 ? title : `${title} (${unread} unread)`;
    this.#launcher.setAttribute("aria-label", label);
  }

  #scrollToEnd(): void {
    this.#log.scrollTop = this.#log.scrollHeight;
  }
}

/** Black or white, whichever reads better on the given hex background. */
function readableTextOn(hexColor: string): string {
  let hex = hexColor.slice(1);
  if (hex.length === 3) hex = hex.replace(/./g, "$&$&");
  const channel = (offset: number): number => {
    const value = parseInt(hex.slice(offset, offset + 2), 16) / 255;
    return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(0) + 0.7152 * channel(2) +
    0.0722 * channel(4);
  // Contrast with white is (1.05)/(L+0.05); with black (L+0.05)/0.05; equal at L≈0.179.
  return luminance > 0.179 ? "#111" : "#fff";
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string>,
  children: (Node | string)[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
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
