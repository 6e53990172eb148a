/**
 * The agent inbox's logic, without a page: signing in with an admin key
 * (kept in the tab's `sessionStorage`), the conversation list and its view
 * (all, mine, unassigned), the open conversation, replying, assigning and
 * closing, typing both ways, the live `agent.stream` with reconnects, and
 * the alerts' unread state. The page (`inbox_view.ts`) hears of every change
 * through {@linkcode InboxEvents}, and `agent_inbox.ts` wires the two; the
 * server is reached through an {@linkcode InboxTransport}, so tests drive
 * the session with a fake one.
 *
 * @module
 */

import type {
  AgentIdentity,
  AgentMethod,
  AgentStreamEvent,
  CallMethod,
  ChatMessage,
  ConversationParams,
  ConversationSummary,
  ConversationView,
  RpcData,
  RpcParams,
  SecurityReport,
} from "../wire/mod.ts";
import { endsStream } from "../wire/mod.ts";
import { reconnectDelay } from "./backoff.ts";
import type { AlertSettings, InboxAlerts } from "./inbox_alerts.ts";
import { visitorLabel, visitorName } from "./inbox_labels.ts";
import { inboxText } from "./inbox_strings.ts";
import {
  type SignInError,
  signInError,
  type SignInFailure,
} from "./sign_in_error.ts";
import {
  TypingIndicator,
  TypingThrottle,
  type TypingTimers,
} from "./typing_signal.ts";

/** The `agent.*` methods that answer with data. */
export type AgentCallMethod = Extract<AgentMethod, CallMethod>;

/** What an agent signs in with. */
export interface InboxCredentials {
  readonly organizationId: string;
  readonly key: string;
}

/** How the session reaches the server. */
export interface InboxTransport {
  /**
   * Calls an `agent.*` method with an admin key.
   *
   * @throws An error with the wire's `code` (a `WidgetError`) when refused.
   */
  call<M extends AgentCallMethod>(
    method: M,
    params: RpcParams<M>,
    key: string,
  ): Promise<RpcData<M>>;
  /**
   * Opens `agent.stream` and reads it until it ends, each event to
   * `onEvent` with the stream's last event id so far (its resume point).
   *
   * @throws When it cannot be opened or breaks (the session reconnects).
   */
  listen(
    params: RpcParams<"agent.stream">,
    key: string,
    options: StreamOptions,
    onEvent: (event: AgentStreamEvent, lastEventId: string) => void,
  ): Promise<void>;
}

/** How a stream is opened and read. */
export interface StreamOptions {
  /** Resume after this event id (`""`: from now). */
  readonly lastEventId: string;
  /** Ends the stream. */
  readonly signal: AbortSignal;
  /** Called once the server answered with the stream. */
  readonly opened: () => void;
}

/** What the page shows of the list. */
export interface InboxList {
  readonly conversations: readonly ConversationSummary[];
  /** The view the list was read with. */
  readonly view: ConversationView;
  /** The open conversation's id. */
  readonly selected: string | undefined;
  /** Conversations with visitor messages the agent has not seen. */
  readonly unread: ReadonlySet<string>;
  readonly me: AgentIdentity | undefined;
}

/** The open conversation's details, as the panel beside the thread shows them. */
export interface InboxDetails {
  readonly conversation: ConversationSummary;
  readonly me: AgentIdentity | undefined;
  /** Every agent of the organization. */
  readonly agents: readonly AgentIdentity[];
}

/** What the session tells the page. */
export interface InboxEvents {
  /** The status line: live (`tone: "live"`), reconnecting, a failure. */
  status(text: string, tone?: "live"): void;
  /** Signed in (the inbox shows), or signed out (the form shows) with why. */
  signedIn(me: AgentIdentity | undefined): void;
  signedOut(reason: string): void;
  /** Signing in failed: the form says why (`code` is the wire's). */
  signInFailed(error: SignInError, code: string): void;
  /** The list, or what it marks, changed. */
  listChanged(list: InboxList): void;
  /** A conversation was opened: its details and messages, oldest first. */
  conversationOpened(
    details: InboxDetails,
    messages: readonly ChatMessage[],
  ): void;
  /** The open conversation's details changed (assignee, contact, page, status). */
  detailsChanged(details: InboxDetails): void;
  /** A message of the open conversation (one already shown may repeat). */
  messageAdded(message: ChatMessage): void;
  /** The visitor of the open conversation types (`undefined`: stopped). */
  typingChanged(label: string | undefined): void;
}

/** Options of an {@linkcode InboxSession}. */
export interface InboxSessionOptions {
  readonly transport: InboxTransport;
  readonly events: InboxEvents;
  /** The alerts, with their browser effects and settings. */
  readonly alerts: InboxAlerts;
  /** Where the credentials are kept for this tab (`sessionStorage`). */
  readonly credentialStore?:
    | Pick<Storage, "getItem" | "setItem" | "removeItem">
    | undefined;
  /** Whether the tab is hidden (`document.hidden`). */
  readonly hidden?: () => boolean;
  /** Waits before a reconnect; resolves early (or rejects) when `signal` aborts. */
  readonly wait?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Random numbers in [0, 1), for the reconnect jitter. */
  readonly random?: () => number;
  /** The clock of the typing throttle, milliseconds. */
  readonly now?: () => number;
  /** The timers of the typing indicator. */
  readonly timers?: TypingTimers;
}

/** The `sessionStorage` key of the credentials. */
export const CREDENTIALS_KEY = "parley:agent";

/** The agent inbox's state and everything it does. */
export class InboxSession {
  readonly #transport: InboxTransport;
  readonly #events: InboxEvents;
  readonly #alerts: InboxAlerts;
  readonly #credentialStore: InboxSessionOptions["credentialStore"];
  readonly #hidden: () => boolean;
  readonly #wait: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #random: () => number;
  readonly #visitorTyping: TypingIndicator;
  readonly #agentTyping: TypingThrottle;
  #credentials: InboxCredentials | undefined;
  #stream: AbortController | undefined;
  #me: AgentIdentity | undefined;
  #agents: readonly AgentIdentity[] = [];
  #conversations: readonly ConversationSummary[] = [];
  #view: ConversationView = "all";
  #selected: string | undefined;
  /** The open conversation as last read (its details, the visitor's name). */
  #open: ConversationSummary | undefined;
  /** Counts list reads, so a reply that arrives after a newer read's is dropped. */
  #listReads = 0;

  /** Prepares the session; nothing is sent until {@linkcode signIn} or {@linkcode restore}. */
  constructor(options: InboxSessionOptions) {
    this.#transport = options.transport;
    this.#events = options.events;
    this.#alerts = options.alerts;
    this.#credentialStore = options.credentialStore;
    this.#hidden = options.hidden ?? (() => false);
    this.#wait = options.wait ?? waitFor;
    this.#random = options.random ?? Math.random;
    this.#visitorTyping = new TypingIndicator(
      (label) => this.#events.typingChanged(label),
      () => this.#events.typingChanged(undefined),
      options.timers,
    );
    this.#agentTyping = new TypingThrottle(() => {
      const open = this.#selected;
      if (open === undefined) return;
      this.#call("agent.typing", this.#about(open)).catch(() => {});
    }, options.now);
  }

  /** The organization signed in to, if any. */
  get organizationId(): string | undefined {
    return this.#credentials?.organizationId;
  }

  /** The agent signed in, once the first list told. */
  get me(): AgentIdentity | undefined {
    return this.#me;
  }

  /** The list as last read. */
  get conversations(): readonly ConversationSummary[] {
    return this.#conversations;
  }

  /** The open conversation's id. */
  get selected(): string | undefined {
    return this.#selected;
  }

  /** The alert settings in force. */
  get alertSettings(): AlertSettings {
    return this.#alerts.settings;
  }

  /**
   * Signs in again with the credentials this tab kept, if any.
   *
   * @returns Whether there were any to try.
   */
  restore(): boolean {
    let saved: unknown;
    try {
      saved = JSON.parse(this.#credentialStore?.getItem(CREDENTIALS_KEY) ?? "");
    } catch {
      return false;
    }
    if (!isCredentials(saved)) return false;
    void this.signIn(saved);
    return true;
  }

  /**
   * Signs in: the first list read proves the key. On success the live
   * stream runs until {@linkcode signOut}.
   *
   * @returns Whether the key was accepted.
   */
  async signIn(credentials: InboxCredentials): Promise<boolean> {
    this.#credentials = credentials;
    try {
      await this.#readList();
    } catch (error) {
      this.#credentials = undefined;
      const failure = failureOf(error);
      this.#events.signInFailed(
        signInError(failure, credentials.organizationId),
        failure.code ?? "error",
      );
      return false;
    }
    try {
      this.#credentialStore?.setItem(
        CREDENTIALS_KEY,
        JSON.stringify(credentials),
      );
    } catch {
      // Not kept (privacy mode): a reload asks again.
    }
    this.#events.signedIn(this.#me);
    this.#stream?.abort();
    this.#stream = new AbortController();
    void this.#listen(credentials, this.#stream.signal);
    return true;
  }

  /** Back to the sign-in form, forgetting the key. */
  signOut(reason: string = inboxText("signedOut")): void {
    this.#stream?.abort();
    this.#stream = undefined;
    this.#credentials = undefined;
    this.#me = undefined;
    this.#agents = [];
    this.#conversations = [];
    this.#selected = undefined;
    this.#open = undefined;
    this.#visitorTyping.stop();
    this.#alerts.clear();
    try {
      this.#credentialStore?.removeItem(CREDENTIALS_KEY);
    } catch {
      // Nothing kept to forget.
    }
    this.#events.signedOut(reason);
    this.#events.status(reason);
  }

  /** Shows another view of the list. */
  async showView(view: ConversationView): Promise<void> {
    this.#view = view;
    try {
      await this.#readList();
    } catch {
      this.#events.status(inboxText("listFailed"));
    }
  }

  /** Opens a conversation: its details and messages; the agent has now seen it. */
  async open(id: string): Promise<void> {
    if (this.#selected !== id) {
      this.#visitorTyping.stop();
      this.#agentTyping.reset();
    }
    this.#selected = id;
    if (!this.#hidden()) this.#alerts.read(id);
    this.#announceList();
    const { conversation, messages } = await this.#call(
      "agent.getConversation",
      this.#about(id),
    );
    // Another conversation was opened meanwhile: this one's reply is stale.
    if (this.#selected !== id) return;
    this.#open = conversation;
    this.#events.conversationOpened(this.#details(conversation), messages);
  }

  /**
   * Replies in the open conversation.
   *
   * @returns Whether it was sent (the page keeps the text otherwise).
   */
  async reply(text: string): Promise<boolean> {
    const open = this.#selected;
    const trimmed = text.trim();
    if (open === undefined || trimmed === "") return false;
    this.#agentTyping.reset();
    try {
      const { message } = await this.#call("agent.reply", {
        ...this.#about(open),
        text: trimmed,
      });
      if (this.#selected === open) this.#events.messageAdded(message);
      return true;
    } catch (error) {
      this.#events.status(
        inboxText("replyFailed", { code: failureOf(error).code ?? "error" }),
      );
      return false;
    }
  }

  /** The agent typed in the reply field (the visitor hears of it, throttled). */
  typed(text: string): void {
    if (text.trim() !== "") this.#agentTyping.input();
  }

  /** Assigns the open conversation to the agent signed in. */
  async assignToMe(): Promise<void> {
    if (this.#me !== undefined) await this.#assign(this.#me.id);
  }

  /** Assigns the open conversation to nobody. */
  async unassign(): Promise<void> {
    await this.#assign(null);
  }

  /** Hands the open conversation over to another agent. */
  async handOver(agentId: string): Promise<void> {
    if (agentId !== "") await this.#assign(agentId);
  }

  /** Closes the open conversation; the visitor is told. */
  async closeConversation(): Promise<void> {
    const open = this.#selected;
    if (open === undefined) return;
    try {
      await this.#call("agent.close", this.#about(open));
      await this.open(open);
      await this.#readList();
    } catch {
      this.#events.status(inboxText("closeFailed"));
    }
  }

  /** The tab became visible: the open conversation is seen now. */
  tabShown(): void {
    if (this.#selected === undefined) return;
    this.#alerts.read(this.#selected);
    this.#announceList();
  }

  /** Applies new alert settings (the caller keeps them). */
  configureAlerts(settings: AlertSettings): void {
    this.#alerts.configure(settings);
    this.#announceList();
  }

  /**
   * The organization's security report.
   *
   * @param hours The window, 1 to 168.
   * @returns The report.
   * @throws When the call is refused (with the wire's `code`).
   */
  async securityReport(hours: number): Promise<SecurityReport> {
    const organizationId = this.#credentials?.organizationId ?? "";
    return await this.#call("agent.securityReport", { organizationId, hours });
  }

  async #assign(agentId: string | null): Promise<void> {
    const open = this.#selected;
    if (open === undefined) return;
    try {
      const { conversation } = await this.#call("agent.assign", {
        ...this.#about(open),
        agentId,
      });
      this.#showDetails(conversation);
      await this.#readList();
    } catch (error) {
      this.#events.status(
        inboxText("assignFailed", { code: failureOf(error).code ?? "error" }),
      );
    }
  }

  /** Calls a method as the agent signed in. */
  #call<M extends AgentCallMethod>(
    method: M,
    params: RpcParams<M>,
  ): Promise<RpcData<M>> {
    const credentials = this.#credentials;
    if (credentials === undefined) {
      return Promise.reject(new Error("Not signed in"));
    }
    return this.#transport.call(method, params, credentials.key);
  }

  /** The parameters of a call about one conversation. */
  #about(conversationId: string): ConversationParams {
    return {
      organizationId: this.#credentials?.organizationId ?? "",
      conversationId,
    };
  }

  async #readList(): Promise<void> {
    const read = ++this.#listReads;
    const view = this.#view;
    const page = await this.#call("agent.listConversations", {
      organizationId: this.#credentials?.organizationId ?? "",
      filter: view,
    });
    // A stream event's read started before a view change may answer after
    // it: showing it would put the old view's rows under the new one.
    if (read !== this.#listReads) return;
    this.#conversations = page.conversations;
    this.#me = page.agent;
    this.#agents = page.agents;
    this.#announceList();
  }

  #announceList(): void {
    this.#events.listChanged({
      conversations: this.#conversations,
      view: this.#view,
      selected: this.#selected,
      unread: new Set(
        this.#conversations.map(({ id }) => id).filter((id) =>
          this.#alerts.isUnread(id)
        ),
      ),
      me: this.#me,
    });
  }

  #details(conversation: ConversationSummary): InboxDetails {
    return { conversation, me: this.#me, agents: this.#agents };
  }

  /** Shows a newer version of the open conversation's details. */
  #showDetails(conversation: ConversationSummary): void {
    if (conversation.id !== this.#selected) return;
    this.#open = conversation;
    this.#events.detailsChanged(this.#details(conversation));
  }

  /** Reads the open conversation's details again (not its messages). */
  async #readDetails(id: string): Promise<void> {
    const { conversation } = await this.#call(
      "agent.getConversation",
      this.#about(id),
    );
    this.#showDetails(conversation);
  }

  async #listen(
    credentials: InboxCredentials,
    signal: AbortSignal,
  ): Promise<void> {
    let lastEventId = "";
    for (let attempt = 0; !signal.aborted; attempt++) {
      let ended: string | undefined;
      try {
        await this.#transport.listen(
          { organizationId: credentials.organizationId },
          credentials.key,
          {
            lastEventId,
            signal,
            opened: () => {
              attempt = 0;
              this.#events.status(inboxText("live"), "live");
            },
          },
          (event, id) => {
            // Kept per event: a stream that breaks resumes after the last one.
            lastEventId = id;
            ended = this.#onEvent(event) ?? ended;
          },
        );
      } catch {
        if (signal.aborted) return;
        this.#events.status(inboxText("reconnecting"));
      }
      if (signal.aborted) return;
      if (ended === "agent.key_invalid") {
        this.signOut(inboxText("keyNoLongerValid"));
        return;
      }
      try {
        await this.#wait(reconnectDelay(attempt, this.#random), signal);
      } catch {
        return;
      }
    }
  }

  /**
   * One event of `agent.stream`.
   *
   * @returns The reason, when the stream itself ends.
   */
  #onEvent(event: AgentStreamEvent): string | undefined {
    switch (event.event) {
      case "closed":
        // The stream itself ended: the key left the policy, the server stops…
        if (endsStream(event)) return event.data.reason;
        // Closed here or by another agent: the list and buttons follow.
        this.#closed(event.data.conversationId);
        return undefined;
      case "typing":
        if (
          event.data.author === "visitor" &&
          event.data.conversationId === this.#selected
        ) {
          this.#visitorTyping.typing(
            inboxText("visitorTyping", {
              visitor: this.#open === undefined
                ? inboxText("theVisitor")
                : visitorName(this.#open),
            }),
          );
        }
        return undefined;
      case "conversation":
        // Assigned, handed over, a contact left, a page visited.
        this.#showDetails(event.data.conversation);
        this.#readList().catch(() => {});
        return undefined;
      case "message":
        this.#onMessage(event.data);
        return undefined;
    }
  }

  #closed(conversationId: string): void {
    const open = this.#open;
    if (open?.id === conversationId) {
      this.#showDetails({ ...open, status: "closed" });
    }
    this.#readList().catch(() => {});
  }

  #onMessage(message: ChatMessage & { readonly conversationId: string }): void {
    const { conversationId, ...shown } = message;
    const viewing = conversationId === this.#selected;
    if (viewing) this.#events.messageAdded(shown);
    // The first agent to reply takes the conversation (no conversation event says so).
    if (viewing && message.author === "agent" && !this.#open?.assignee) {
      this.#readDetails(conversationId).catch(() => {});
    }
    // A failed read leaves the list as it was; the next event reads again.
    const read = this.#readList().catch(() => {});
    if (message.author !== "visitor") return;
    if (viewing) this.#visitorTyping.stop();
    const alert = (): void => {
      const known = this.#conversations.find(({ id }) => id === conversationId);
      this.#alerts.visitorMessage({
        conversationId,
        visitor: known ? visitorLabel(known) : inboxText("someVisitor"),
        text: message.text,
      }, viewing);
      this.#announceList();
    };
    // A new conversation is named once the list has it.
    if (this.#conversations.some(({ id }) => id === conversationId)) alert();
    else void read.then(alert);
  }
}

/** The code, reason and wait of a failed call, whatever was thrown. */
function failureOf(error: unknown): SignInFailure {
  if (typeof error !== "object" || error === null) return {};
  const { code, reason, retryAfter } = error as Record<string, unknown>;
  return {
    ...(typeof code === "string" ? { code } : {}),
    ...(typeof reason === "string" ? { reason } : {}),
    ...(typeof retryAfter === "number" ? { retryAfter } : {}),
  };
}

function isCredentials(value: unknown): value is InboxCredentials {
  if (typeof value !== "object" || value === null) return false;
  const { organizationId, key } = value as Record<string, unknown>;
  return typeof organizationId === "string" && typeof key === "string";
}

/** Waits `ms`, or until `signal` aborts (then rejects). */
function waitFor(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}
