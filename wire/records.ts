/**
 * The records of the chat, each under one name wherever it travels: the
 * store keeps them, the server sends them, the widget and the inbox show
 * them.
 *
 * @module
 */

/** A chat message. */
export interface ChatMessage {
  /** Message id; ids sort in creation order and serve as `after` cursors. */
  readonly id: string;
  /** The message text, never blank. */
  readonly text: string;
  /** Who wrote it: the person on the page or the organization's agent. */
  readonly author: "visitor" | "agent";
  /** ISO 8601 time. */
  readonly at: string;
  /** The agent who wrote it, on every `author: "agent"` message. */
  readonly agent?: AgentIdentity;
}

/** An agent as visitors and other agents see them: an admin key's `id` and `name`. */
export interface AgentIdentity {
  /** The admin key's `id` (`key-<n>` when the policy names none). */
  readonly id: string;
  /** The admin key's `name` (the organization's name when the policy gives none). */
  readonly name: string;
}

/** The page a visitor is on, as the widget reports it. */
export interface PageInfo {
  /** On the session's origin; a URL elsewhere is dropped. */
  readonly url: string;
  /** `document.title`. */
  readonly title?: string;
  /** `document.referrer`. */
  readonly referrer?: string;
}

/** Where a visitor asked to be answered, from the away form (unverified). */
export interface Contact {
  /** The address, checked by `isEmailAddress` when it was left. */
  readonly email: string;
}

/** A visitor's open conversation, as `chat.boot` and a stream's `ready` event show it. */
export interface VisitorConversation {
  /** The conversation's id. */
  readonly id: string;
  /** The most recent messages, oldest first (on a stream: those asked for with `recent`). */
  readonly messages: readonly ChatMessage[];
  /** The address the visitor left on the away form, if any. */
  readonly contact?: Contact;
}

/**
 * How an anonymous visitor's reference starts, for agents (a `visitorId`
 * never holds a `.`, so `chat.boot` never takes a reference for one).
 */
export const VISITOR_REFERENCE_PREFIX = "v.";

/** The inbox's views of the list: every conversation, the caller's, or nobody's. */
export const CONVERSATION_VIEWS = ["all", "mine", "unassigned"] as const;

/** One of {@linkcode CONVERSATION_VIEWS}: `agent.listConversations`'s `filter`. */
export type ConversationView = (typeof CONVERSATION_VIEWS)[number];

/** A conversation as the agent inbox shows it. */
export interface ConversationSummary {
  /** The conversation's id. */
  readonly id: string;
  /** Who the visitor is, as far as agents may know. */
  readonly visitor: {
    /**
     * A verified user's `sub`; an anonymous visitor's reference
     * ({@linkcode VISITOR_REFERENCE_PREFIX} and 22 characters): stable per
     * visitor, never the `visitorId` itself, and useless at `chat.boot`.
     */
    readonly id: string;
    readonly name?: string;
    readonly email?: string;
    readonly userId?: string;
  };
  /** Whether the visitor's identity was proven by a signed token. */
  readonly verified: boolean;
  /** `closed` once an agent closed it. */
  readonly status: "open" | "closed";
  /** The newest message, `null` before the first. */
  readonly lastMessage: ChatMessage | null;
  /** ISO 8601 time of the last message or change. */
  readonly updatedAt: string;
  /** Older messages removed to keep the conversation within `retention.messages`. */
  readonly trimmed: number;
  /** The agent it is assigned to: the first who replied, or whom `agent.assign` named. */
  readonly assignee: AgentIdentity | null;
  /** Where the visitor last was. */
  readonly page?: PageInfo;
  /** What the visitor left to be answered at (unverified). */
  readonly contact?: Contact;
  /** The locale the visitor reads the widget in (`de`, `pt-BR`). */
  readonly language?: string;
  /** The verified token's `user_data` (custom fields); verified users only. */
  readonly userData?: Readonly<Record<string, unknown>>;
}
