/**
 * The agent inbox's page: it finds the elements `agent_page.ts` serves,
 * shows what the session tells it ({@linkcode InboxEvents}) and turns the
 * agent's clicks and keys into {@linkcode InboxActions}. DOM only: no call
 * to the server and no state of the inbox's own beyond what is on screen.
 *
 * Keyboard use is kept whole: a list that is drawn again keeps the focus on
 * the same conversation, and a button that an action hides (Assign to me,
 * Close conversation) hands the focus to its neighbour rather than to the
 * page. Visitor text is only ever set as text.
 *
 * @module
 */

import type {
  AgentIdentity,
  ChatMessage,
  ConversationSummary,
  ConversationView,
} from "../wire/mod.ts";
import type { AlertSettings } from "./inbox_alerts.ts";
import { agentLabel, languageLabel, visitorLabel } from "./inbox_labels.ts";
import type {
  InboxCredentials,
  InboxDetails,
  InboxEvents,
  InboxList,
} from "./inbox_session.ts";
import { inboxText, type PlainInboxKey } from "./inbox_strings.ts";
import {
  installSecurityView,
  type ReadSecurityReport,
  type SecurityView,
} from "./security_view.ts";
import type { SignInError } from "./sign_in_error.ts";
import { contactField, pageFields, type Shown } from "./visitor_links.ts";

/** What the agent asks of the inbox, by hand or by key. */
export interface InboxActions {
  signIn(credentials: InboxCredentials): void;
  signOut(): void;
  showView(view: ConversationView): void;
  open(conversationId: string): void;
  /** Resolves `false` when the reply was not sent (its text comes back). */
  reply(text: string): Promise<boolean>;
  typed(text: string): void;
  assignToMe(): void;
  unassign(): void;
  handOver(agentId: string): void;
  closeConversation(): void;
  /** One alert switch changed. */
  alertsChanged(change: Partial<AlertSettings>): void;
  allowNotifications(): void;
  readSecurityReport: ReadSecurityReport;
}

/** Where desktop notifications stand in this browser. */
export type NotificationPermissionState = "granted" | "denied" | "default";

/** The most rows the reply field grows to before it scrolls. */
const MAX_REPLY_ROWS = 8;

/** The empty list's words, by view. */
const EMPTY: Readonly<
  Record<ConversationView, readonly [PlainInboxKey, PlainInboxKey]>
> = {
  all: ["emptyAllHeading", "emptyAll"],
  mine: ["emptyMineHeading", "emptyMine"],
  unassigned: ["emptyUnassignedHeading", "emptyUnassigned"],
};

/** The inbox page, as the session and the agent see it. */
export class InboxView implements InboxEvents {
  readonly #document: Document;
  readonly #actions: InboxActions;
  readonly #security: SecurityView;
  readonly #status: HTMLElement;
  readonly #signedInAs: HTMLElement;
  readonly #signOut: HTMLButtonElement;
  readonly #login: HTMLFormElement;
  readonly #loginError: HTMLElement;
  readonly #inbox: HTMLElement;
  readonly #viewSelect: HTMLSelectElement;
  readonly #list: HTMLUListElement;
  readonly #empty: HTMLElement;
  readonly #emptyHeading: HTMLElement;
  readonly #emptyText: HTMLElement;
  readonly #title: HTMLElement;
  readonly #closeButton: HTMLButtonElement;
  readonly #hint: HTMLElement;
  readonly #threadLog: HTMLElement;
  readonly #thread: HTMLOListElement;
  readonly #typing: HTMLElement;
  readonly #replyForm: HTMLFormElement;
  readonly #replyInput: HTMLTextAreaElement;
  readonly #assignment: HTMLElement;
  readonly #assignee: HTMLElement;
  readonly #assignMe: HTMLButtonElement;
  readonly #unassign: HTMLButtonElement;
  readonly #handOverRow: HTMLElement;
  readonly #handOverTo: HTMLSelectElement;
  readonly #visitor: HTMLElement;
  readonly #visitorFields: HTMLDListElement;
  readonly #alertTitle: HTMLInputElement;
  readonly #alertSound: HTMLInputElement;
  readonly #alertDesktop: HTMLInputElement;
  readonly #alertDesktopLabel: HTMLElement;
  readonly #allowNotifications: HTMLButtonElement;

  /**
   * Finds the page's elements and listens to them.
   *
   * @param document The inbox page (`agent_page.ts`).
   * @param actions What the agent's input asks for.
   * @throws {Error} When the page lacks one of its elements.
   */
  constructor(document: Document, actions: InboxActions) {
    this.#document = document;
    this.#actions = actions;
    const find = <T extends HTMLElement>(
      id: string,
      type: abstract new () => T,
    ): T => {
      const found = document.getElementById(id);
      if (!(found instanceof type)) {
        throw new Error(`The inbox page has no ${type.name} #${id}`);
      }
      return found;
    };
    this.#status = find("status", HTMLElement);
    this.#signedInAs = find("signed-in-as", HTMLElement);
    this.#signOut = find("sign-out", HTMLButtonElement);
    this.#login = find("login", HTMLFormElement);
    this.#loginError = find("login-error", HTMLElement);
    this.#inbox = find("inbox", HTMLElement);
    this.#viewSelect = find("filter", HTMLSelectElement);
    this.#list = find("conversations", HTMLUListElement);
    this.#empty = find("conversations-empty", HTMLElement);
    this.#emptyHeading = find("empty-heading", HTMLElement);
    this.#emptyText = find("empty-text", HTMLElement);
    this.#title = find("conversation-title", HTMLElement);
    this.#closeButton = find("close-conversation", HTMLButtonElement);
    this.#hint = find("thread-hint", HTMLElement);
    this.#threadLog = find("thread-log", HTMLElement);
    this.#thread = find("messages", HTMLOListElement);
    this.#typing = find("typing", HTMLElement);
    this.#replyForm = find("reply", HTMLFormElement);
    this.#replyInput = find("reply-text", HTMLTextAreaElement);
    this.#assignment = find("assignment", HTMLElement);
    this.#assignee = find("assignee", HTMLElement);
    this.#assignMe = find("assign-me", HTMLButtonElement);
    this.#unassign = find("unassign", HTMLButtonElement);
    this.#handOverRow = find("hand-over-row", HTMLElement);
    this.#handOverTo = find("hand-over-to", HTMLSelectElement);
    this.#visitor = find("visitor", HTMLElement);
    this.#visitorFields = find("visitor-fields", HTMLDListElement);
    this.#alertTitle = find("alert-title", HTMLInputElement);
    this.#alertSound = find("alert-sound", HTMLInputElement);
    this.#alertDesktop = find("alert-desktop", HTMLInputElement);
    this.#alertDesktopLabel = find("alert-desktop-label", HTMLElement);
    this.#allowNotifications = find("allow-notifications", HTMLButtonElement);
    this.#security = installSecurityView({
      toggle: find("security-toggle", HTMLButtonElement),
      section: find("security", HTMLElement),
      inbox: this.#inbox,
    }, actions.readSecurityReport);
    this.#listen(find("hand-over", HTMLButtonElement));
  }

  /**
   * Fills the organization in (`/agent?org=acme`); a key never travels in a URL.
   *
   * @param organizationId The suggested organization.
   */
  suggestOrganization(organizationId: string): void {
    const field = this.#login.elements.namedItem("organizationId");
    if (field instanceof HTMLInputElement) field.value = organizationId;
  }

  /**
   * Shows the alert switches as the settings and the browser's permission stand.
   *
   * @param settings The alerts in force.
   * @param permission Whether the browser allows notifications.
   */
  showAlerts(
    settings: AlertSettings,
    permission: NotificationPermissionState,
  ): void {
    this.#alertTitle.checked = settings.titleCount;
    this.#alertSound.checked = settings.sound;
    this.#alertDesktop.checked = settings.desktop;
    this.#alertDesktopLabel.hidden = permission !== "granted";
    this.#allowNotifications.hidden = permission !== "default";
  }

  status(text: string, tone?: "live"): void {
    this.#status.textContent = text;
    if (tone === undefined) delete this.#status.dataset.tone;
    else this.#status.dataset.tone = tone;
  }

  signedIn(me: AgentIdentity | undefined): void {
    this.#loginError.hidden = true;
    this.#login.hidden = true;
    this.#inbox.hidden = false;
    this.#signOut.hidden = false;
    this.#signedInAs.textContent = me
      ? inboxText("signedInAs", { agent: me.name })
      : "";
    this.#security.enable();
    // The form that had the focus is gone: the list takes it.
    const first = this.#list.querySelector("button");
    (first ?? this.#viewSelect).focus();
  }

  signedOut(_reason: string): void {
    this.#inbox.hidden = true;
    this.#signOut.hidden = true;
    this.#signedInAs.textContent = "";
    this.#security.disable();
    this.#showThread(undefined);
    this.#login.hidden = false;
  }

  signInFailed(error: SignInError, code: string): void {
    this.#loginError.textContent = error.text;
    // The wire code stays readable (support, tests) without being the message.
    this.#loginError.dataset.code = code;
    this.#loginError.hidden = false;
    const key = this.#login.elements.namedItem("key");
    if (error.keyRefused && key instanceof HTMLInputElement) {
      key.value = "";
      key.setAttribute("aria-invalid", "true");
      key.focus();
    }
  }

  listChanged(list: InboxList): void {
    const focused = this.#document.activeElement;
    const focusedId = focused instanceof HTMLButtonElement &&
        this.#list.contains(focused)
      ? focused.dataset.id
      : undefined;
    this.#list.dataset.filter = list.view;
    this.#list.replaceChildren(
      ...list.conversations.map((conversation) =>
        this.#row(conversation, list)
      ),
    );
    const [heading, text] = EMPTY[list.view];
    this.#emptyHeading.textContent = inboxText(heading);
    this.#emptyText.textContent = inboxText(text);
    this.#empty.hidden = list.conversations.length > 0;
    if (list.me) {
      this.#signedInAs.textContent = inboxText("signedInAs", {
        agent: list.me.name,
      });
    }
    if (focusedId !== undefined) {
      this.#list.querySelector<HTMLButtonElement>(
        `button[data-id="${CSS.escape(focusedId)}"]`,
      )?.focus();
    }
  }

  conversationOpened(
    details: InboxDetails,
    messages: readonly ChatMessage[],
  ): void {
    this.#showThread(details.conversation);
    this.#thread.replaceChildren();
    const trimmed = details.conversation.trimmed;
    if (trimmed > 0) {
      const notice = this.#document.createElement("li");
      notice.className = "notice";
      notice.textContent = inboxText("trimmed", { count: trimmed });
      this.#thread.append(notice);
    }
    for (const message of messages) this.messageAdded(message);
    this.detailsChanged(details);
    if (!this.#replyForm.hidden) this.#replyInput.focus();
  }

  detailsChanged(details: InboxDetails): void {
    this.#keepFocusWithin(this.#details(), () => this.#showDetails(details));
  }

  messageAdded(message: ChatMessage): void {
    const known = this.#thread.querySelector(
      `[data-id="${CSS.escape(message.id)}"]`,
    );
    if (known) return;
    const item = this.#document.createElement("li");
    item.dataset.id = message.id;
    item.className = message.author;
    item.textContent = message.text;
    if (message.agent) {
      const name = this.#document.createElement("span");
      name.className = "who";
      name.textContent = message.agent.name;
      item.prepend(name);
    }
    const time = this.#document.createElement("time");
    time.dateTime = message.at;
    time.textContent = new Date(message.at).toLocaleTimeString([], {
      hour: "2-digit",
      minute: "2-digit",
    });
    item.append(time);
    this.#thread.append(item);
    this.#threadLog.scrollTop = this.#threadLog.scrollHeight;
  }

  typingChanged(label: string | undefined): void {
    this.#typing.textContent = label ?? "";
  }

  /** The thread's frame for a conversation, or the hint without one. */
  #showThread(conversation: ConversationSummary | undefined): void {
    this.#hint.hidden = conversation !== undefined;
    this.#threadLog.hidden = conversation === undefined;
    this.#replyForm.hidden = conversation === undefined ||
      conversation.status === "closed";
    this.#typing.textContent = "";
    if (conversation === undefined) {
      this.#title.textContent = inboxText("pickConversation");
      this.#closeButton.hidden = true;
      this.#assignment.hidden = true;
      this.#visitor.hidden = true;
      this.#thread.replaceChildren();
    }
  }

  #row(conversation: ConversationSummary, list: InboxList): HTMLLIElement {
    const make = <K extends keyof HTMLElementTagNameMap>(
      tag: K,
      className: string,
      text: string,
    ): HTMLElementTagNameMap[K] => {
      const node = this.#document.createElement(tag);
      if (className !== "") node.className = className;
      node.textContent = text;
      return node;
    };
    const unread = list.unread.has(conversation.id);
    const item = this.#document.createElement("li");
    const button = this.#document.createElement("button");
    button.type = "button";
    button.dataset.id = conversation.id;
    button.setAttribute(
      "aria-current",
      String(conversation.id === list.selected),
    );
    if (conversation.status === "closed") button.classList.add("closed");
    if (unread) button.classList.add("unread");
    const time = make("time", "", shortTime(conversation.updatedAt));
    time.dateTime = conversation.updatedAt;
    const meta = make("span", "meta", "");
    meta.append(make(
      "span",
      "badge assignee",
      conversation.assignee
        ? inboxText("assignedTo", {
          agent: agentLabel(conversation.assignee, list.me),
        })
        : inboxText("unassigned"),
    ));
    if (conversation.status === "closed") {
      meta.append(make("span", "badge", inboxText("closedBadge")));
    }
    if (unread) {
      const dot = make("span", "dot", "");
      dot.setAttribute("aria-hidden", "true");
      button.append(dot);
    }
    button.append(
      make("strong", "", visitorLabel(conversation)),
      time,
      make(
        "span",
        "preview",
        conversation.lastMessage?.text ?? inboxText("noMessagesYet"),
      ),
      meta,
    );
    if (unread) button.append(make("span", "sr-only", inboxText("unread")));
    button.addEventListener("click", () => this.#actions.open(conversation.id));
    item.append(button);
    return item;
  }

  /** The assignee, the hand-over choices and the visitor's fields. */
  #showDetails({ conversation, me, agents }: InboxDetails): void {
    this.#title.textContent = visitorLabel(conversation);
    this.#closeButton.hidden = conversation.status === "closed";
    this.#replyForm.hidden = conversation.status === "closed";
    const assignee = conversation.assignee;
    this.#assignment.hidden = false;
    this.#assignee.textContent = assignee
      ? agentLabel(assignee, me)
      : inboxText("unassigned");
    this.#assignMe.hidden = me === undefined || assignee?.id === me.id;
    this.#unassign.hidden = assignee === null;
    // Handing over to oneself is "Assign to me".
    const others = agents.filter((agent) =>
      agent.id !== assignee?.id && agent.id !== me?.id
    );
    this.#handOverTo.replaceChildren(...others.map((agent) => {
      const option = this.#document.createElement("option");
      option.value = agent.id;
      option.textContent = agent.name;
      return option;
    }));
    this.#handOverRow.hidden = others.length === 0;
    this.#visitorFields.replaceChildren(
      ...visitorFields(conversation).flatMap(([name, value]) => {
        const term = this.#document.createElement("dt");
        term.textContent = name;
        const detail = this.#document.createElement("dd");
        detail.append(this.#shown(value));
        return [term, detail];
      }),
    );
    this.#visitor.hidden = false;
  }

  /** The parts whose buttons an action may hide. */
  #details(): HTMLElement[] {
    return [this.#assignment, this.#closeButton.parentElement ?? this.#title];
  }

  /**
   * Runs `render`; when it hid the button that had the focus inside
   * `regions`, the focus goes to the region's first visible control (or its
   * heading), never back to the page.
   */
  #keepFocusWithin(regions: readonly HTMLElement[], render: () => void): void {
    const focused = this.#document.activeElement;
    const region = regions.find((region) =>
      focused instanceof HTMLElement && region.contains(focused)
    );
    render();
    if (region === undefined || !(focused instanceof HTMLElement)) return;
    if (focused.checkVisibility?.() ?? focused.offsetParent !== null) return;
    const next = [...region.querySelectorAll<HTMLElement>("button, select")]
      .find((control) => control.checkVisibility?.() ?? true);
    if (next) next.focus();
    else this.#focusHeading();
  }

  /** The thread's heading, as a place for the focus to rest. */
  #focusHeading(): void {
    this.#title.tabIndex = -1;
    this.#title.focus();
  }

  /** A field as `visitor_links.ts` decided: a link that opens elsewhere, or text. */
  #shown(value: string | Shown): Node {
    if (typeof value === "string") return this.#document.createTextNode(value);
    const { text, href } = value;
    if (href === undefined) return this.#document.createTextNode(text);
    const anchor = this.#document.createElement("a");
    anchor.href = href;
    anchor.textContent = text;
    anchor.title = href;
    if (!href.startsWith("mailto:")) {
      anchor.target = "_blank";
      anchor.rel = "noopener noreferrer";
    }
    return anchor;
  }

  /** Grows the reply field with its text, up to {@linkcode MAX_REPLY_ROWS}. */
  #fitReply(): void {
    const input = this.#replyInput;
    input.rows = 1;
    while (
      input.rows < MAX_REPLY_ROWS && input.scrollHeight > input.clientHeight
    ) {
      input.rows += 1;
    }
  }

  #listen(handOver: HTMLButtonElement): void {
    const actions = this.#actions;
    this.#login.addEventListener("input", (event) => {
      if (event.target instanceof HTMLInputElement) {
        event.target.removeAttribute("aria-invalid");
      }
    });
    this.#login.addEventListener("submit", (event) => {
      event.preventDefault();
      const data = new FormData(this.#login);
      this.#loginError.hidden = true;
      actions.signIn({
        organizationId: String(data.get("organizationId") ?? "").trim(),
        key: String(data.get("key") ?? "").trim(),
      });
    });
    this.#signOut.addEventListener("click", () => actions.signOut());
    this.#viewSelect.addEventListener("change", () => {
      const view = this.#viewSelect.value;
      if (view === "all" || view === "mine" || view === "unassigned") {
        actions.showView(view);
      }
    });
    this.#replyForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = this.#replyInput.value;
      if (text.trim() === "") return;
      this.#replyInput.value = "";
      this.#fitReply();
      void actions.reply(text).then((sent) => {
        if (sent || this.#replyInput.value !== "") return;
        this.#replyInput.value = text;
        this.#fitReply();
      });
    });
    this.#replyInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.#replyForm.requestSubmit();
      }
    });
    this.#replyInput.addEventListener("input", () => {
      this.#fitReply();
      actions.typed(this.#replyInput.value);
    });
    this.#assignMe.addEventListener("click", () => actions.assignToMe());
    this.#unassign.addEventListener("click", () => actions.unassign());
    handOver.addEventListener("click", () => {
      actions.handOver(this.#handOverTo.value);
    });
    this.#closeButton.addEventListener(
      "click",
      () => actions.closeConversation(),
    );
    this.#alertTitle.addEventListener("change", () => {
      actions.alertsChanged({ titleCount: this.#alertTitle.checked });
    });
    this.#alertSound.addEventListener("change", () => {
      actions.alertsChanged({ sound: this.#alertSound.checked });
    });
    this.#alertDesktop.addEventListener("change", () => {
      actions.alertsChanged({ desktop: this.#alertDesktop.checked });
    });
    this.#allowNotifications.addEventListener(
      "click",
      () => actions.allowNotifications(),
    );
  }
}

/** The visitor's fields beside the thread, as term and value. */
function visitorFields(
  conversation: ConversationSummary,
): [string, string | Shown][] {
  const { visitor, page, contact, language, userData, verified } = conversation;
  const fields: [string, string | Shown][] = [];
  if (visitor.name) fields.push([inboxText("fieldName"), visitor.name]);
  if (visitor.email) fields.push([inboxText("fieldEmail"), visitor.email]);
  // A verified visitor's id is the token's `sub`: the site's own user id.
  const userId = verified ? visitor.id : visitor.userId;
  if (userId) fields.push([inboxText("fieldUserId"), userId]);
  if (!verified) fields.push([inboxText("fieldReference"), visitor.id]);
  fields.push([
    inboxText("fieldIdentity"),
    verified ? inboxText("identityVerified") : inboxText("identityUnverified"),
  ]);
  // The language the visitor reads the widget in: the one to answer in.
  if (language) {
    fields.push([inboxText("fieldLanguage"), languageLabel(language)]);
  }
  // The visitor wrote these: links only where they cannot lead elsewhere.
  if (contact) {
    fields.push([inboxText("fieldContact"), contactField(contact.email)]);
  }
  if (page) {
    const { page: where, referrer } = pageFields(page);
    fields.push([inboxText("fieldPage"), where]);
    if (referrer) fields.push([inboxText("fieldReferrer"), referrer]);
  }
  for (const [name, value] of Object.entries(userData ?? {})) {
    // The token's name and email already show as the visitor's.
    if ((name === "name" || name === "email") && value === visitor[name]) {
      continue;
    }
    fields.push([
      name,
      typeof value === "string" ? value : JSON.stringify(value),
    ]);
  }
  return fields;
}

/** A time today as `14:05`, another day's as a short date. */
function shortTime(iso: string): string {
  const at = new Date(iso);
  const today = new Date();
  return at.toDateString() === today.toDateString()
    ? at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : at.toLocaleDateString([], { month: "short", day: "numeric" });
}
