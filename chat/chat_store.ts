/**
 * The rules of the chat, on any store: who a conversation belongs to, what a
 * message may hold, how ids grow, what a message changes. The store
 * (`store/conversation_store.ts`) makes each change atomic; live updates are
 * `live_feed.ts`'s.
 *
 * @module
 */

import type {
  Conversation,
  ConversationAttributes,
  ConversationFilter,
  ConversationStore,
  Participant,
} from "../store/conversation_store.ts";
import type { AgentIdentity, ChatMessage, PageInfo } from "../wire/records.ts";
import type { OutboxItem } from "../store/outbox_store.ts";
import { ChatError } from "./chat_error.ts";
import { nextMessageId, parseMessageId } from "./message_id.ts";
import { checkParticipant, copyParticipant } from "./participant.ts";
import { randomId } from "./random_id.ts";

export type { Conversation, ConversationAttributes, Participant };

/** The longest message text, UTF-16 code units, unless the options say otherwise. */
export const DEFAULT_MAX_MESSAGE_LENGTH = 4000;
/** Messages a conversation keeps unless the caller says otherwise. */
export const DEFAULT_MAX_MESSAGES = 1000;

/** Settings of a {@linkcode ChatStore}. */
export interface ChatStoreOptions {
  /** Longest message text, UTF-16 code units (default 4000). */
  readonly maxMessageLength?: number;
  /** Clock, epoch milliseconds (default `Date.now`). */
  readonly now?: () => number;
}

/** What else a message sets off. */
export interface AppendOptions {
  /** The agent who writes, for `author: "agent"`. */
  readonly agent?: AgentIdentity;
  /** Messages the conversation keeps; older ones are trimmed (default 1000). */
  readonly keep?: number;
  /** Enqueue a `message.created` webhook delivery with the message. */
  readonly webhook?: boolean;
  /**
   * For a visitor message that starts an unanswered stretch: enqueue a
   * `conversation.unanswered` delivery due this long after it (made only if
   * no agent has replied by then).
   */
  readonly unansweredAfterMs?: number;
}

/** The kinds of webhook deliveries the chat enqueues. */
export const WEBHOOK_KINDS = {
  messageCreated: "message.created",
  unanswered: "conversation.unanswered",
} as const;

const DEFAULT_PAGE = 50;
const MAX_PAGE = 200;
const DEFAULT_CONVERSATION_PAGE = 20;
const MAX_CONVERSATION_PAGE = 100;

/**
 * The chat store: conversations, messages and retention for every
 * organization, on the store every server process shares.
 *
 * @example Open a conversation and append a message
 * ```ts ignore
 * const store = await openStore(".parley/kv.sqlite");
 * const chat = new ChatStore(store.conversations);
 * const conversation = await chat.openConversation(
 *   "acme",
 *   { kind: "visitor", visitorId: chat.newVisitorId() },
 *   { name: "Ada" },
 * );
 * await chat.append("acme", conversation.id, "visitor", "Hello");
 * ```
 */
export class ChatStore {
  readonly #records: ConversationStore;
  readonly #maxLength: number;
  readonly #now: () => number;

  /**
   * @param records Where conversations live.
   * @param options Bounds and clock.
   */
  constructor(records: ConversationStore, options: ChatStoreOptions = {}) {
    this.#records = records;
    this.#maxLength = Math.max(
      1,
      options.maxMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH,
    );
    this.#now = options.now ?? Date.now;
  }

  /**
   * A new anonymous visitor id: 144 random bits, URL-safe.
   *
   * @returns 24 characters of `[A-Za-z0-9_-]`.
   */
  newVisitorId(): string {
    return randomId(18);
  }

  /**
   * Finds the participant's open conversation, or creates one (a closed
   * conversation is followed by a new one), and records the attributes given.
   * Concurrent calls for one participant end with one conversation. Visitor
   * ids are looked up within the organization only, so a client-sent id never
   * reaches another organization's data.
   *
   * @param organizationId The organization, already checked by the caller.
   * @param participant A verified user's `sub`, or a visitor id.
   * @param attributes Defined fields replace the stored ones.
   * @returns The open conversation.
   * @throws {ChatError} `participant-invalid`.
   * @throws {StoreUnavailableError} When the store fails.
   */
  async openConversation(
    organizationId: string,
    participant: Participant,
    attributes: ConversationAttributes,
  ): Promise<Conversation> {
    checkParticipant(participant);
    return await this.#records.open(organizationId, participant, {
      create: () =>
        this.#newConversation(organizationId, participant, attributes),
      refresh: (current) => {
        const merged = mergeAttributes(current.attributes, attributes);
        return sameAttributes(merged, current.attributes)
          ? undefined
          : { ...current, attributes: merged };
      },
    });
  }

  /**
   * The participant's open conversation, with the attributes given recorded
   * on it, or `undefined` when there is none: creates nothing, so a boot of
   * a visitor who never writes leaves no row.
   *
   * @param attributes Defined fields replace the stored ones.
   * @returns The open conversation, or `undefined`.
   * @throws {ChatError} `participant-invalid`.
   * @throws {StoreUnavailableError} When the store fails.
   */
  async findConversation(
    organizationId: string,
    participant: Participant,
    attributes: ConversationAttributes = {},
  ): Promise<Conversation | undefined> {
    checkParticipant(participant);
    const found = await this.#records.find(organizationId, participant);
    if (found === undefined) return found;
    if (
      sameAttributes(
        mergeAttributes(found.attributes, attributes),
        found.attributes,
      )
    ) {
      return found;
    }
    return await this.#records.update(organizationId, found.id, (current) => ({
      conversation: {
        ...current,
        attributes: mergeAttributes(current.attributes, attributes),
      },
    }));
  }

  /**
   * The participant's open conversation, or a new one with the attributes
   * (and the page) given — an open one keeps its own: where a visitor's first
   * message, or the address they leave, starts the conversation.
   *
   * @param page Where the visitor is, recorded on a new conversation.
   * @param language The locale the visitor reads, recorded on a new conversation.
   * @returns The open conversation.
   * @throws {ChatError} `participant-invalid`.
   * @throws {StoreUnavailableError} When the store fails.
   */
  async conversationFor(
    organizationId: string,
    participant: Participant,
    attributes: ConversationAttributes,
    page?: PageInfo,
    language?: string,
  ): Promise<Conversation> {
    checkParticipant(participant);
    return await this.#records.open(organizationId, participant, {
      create: () => ({
        ...this.#newConversation(organizationId, participant, attributes),
        ...(page === undefined ? {} : { page: copyPage(page) }),
        ...(language === undefined ? {} : { language }),
      }),
      refresh: () => undefined,
    });
  }

  /**
   * Reads a conversation of this organization.
   *
   * @returns The conversation, or `undefined` (also for another organization's id).
   */
  async getConversation(
    organizationId: string,
    conversationId: string,
  ): Promise<Conversation | undefined> {
    return await this.#records.get(organizationId, conversationId);
  }

  /**
   * Appends a message in one atomic commit that also moves the
   * conversation's `updatedAt`/`lastMessage`, its index entries and feed,
   * trims the oldest messages beyond the bound, and enqueues what the
   * message sets off.
   *
   * @param author `visitor` or `agent`.
   * @param text Non-blank, at most the length bound.
   * @param options The agent, the bound and the webhook.
   * @returns The stored message; its id is greater than every earlier one of the conversation.
   * @throws {ChatError} `conversation-not-found`, `conversation-closed`, `message-invalid`.
   */
  async append(
    organizationId: string,
    conversationId: string,
    author: "visitor" | "agent",
    text: string,
    options: AppendOptions = {},
  ): Promise<ChatMessage> {
    if (text.trim() === "" || text.length > this.#maxLength) {
      throw new ChatError(
        "message-invalid",
        `Message text must be 1 to ${this.#maxLength} characters and not blank`,
      );
    }
    let assigned = false;
    const appended = await this.#records.append(
      organizationId,
      conversationId,
      (current) => {
        if (current.status === "closed") {
          throw new ChatError(
            "conversation-closed",
            `Conversation "${conversationId}" is closed`,
          );
        }
        const nowMs = this.#now();
        const message: ChatMessage = {
          id: nextMessageId(current.lastMessage?.id, nowMs),
          text,
          author,
          at: new Date(nowMs).toISOString(),
          ...(author === "agent" && options.agent !== undefined
            ? { agent: { id: options.agent.id, name: options.agent.name } }
            : {}),
        };
        const outbox: OutboxItem[] = options.webhook && author === "visitor"
          ? [messageCreated(organizationId, conversationId, message, nowMs)]
          : [];
        const startsStretch = author === "visitor" &&
          current.awaitingReplySince === undefined;
        if (
          startsStretch && options.unansweredAfterMs !== undefined &&
          options.webhook
        ) {
          outbox.push(
            unansweredCheck(
              organizationId,
              conversationId,
              message,
              nowMs + options.unansweredAfterMs,
            ),
          );
        }
        const { awaitingReplySince: _, ...answered } = current;
        // The first agent who replies takes the conversation.
        assigned = author === "agent" && current.assignee === undefined &&
          message.agent !== undefined;
        return {
          message,
          conversation: {
            ...(author === "agent" ? answered : current),
            updatedAt: message.at,
            lastMessage: message,
            messageCount: current.messageCount + 1,
            ...(assigned ? { assignee: message.agent } : {}),
            ...(startsStretch ? { awaitingReplySince: message.id } : {}),
          },
          outbox,
        };
      },
      options.keep ?? DEFAULT_MAX_MESSAGES,
    );
    if (appended === undefined) throw notFound(conversationId);
    if (assigned) {
      // Other agents' inboxes learn who took it, as after agent.assign.
      await this.#records.publish(organizationId, {
        kind: "updated",
        conversationId,
        conversation: appended.conversation,
      });
    }
    return appended.message;
  }

  /**
   * Messages of a conversation, oldest first.
   *
   * @param options `after`: a message id, exclusive; `limit`: default 50, at most 200.
   * @returns Up to `limit` messages after `after`.
   * @throws {ChatError} `conversation-not-found`, `cursor-invalid`.
   */
  async listMessages(
    organizationId: string,
    conversationId: string,
    options: { readonly after?: string; readonly limit?: number } = {},
  ): Promise<ChatMessage[]> {
    if (
      options.after !== undefined && parseMessageId(options.after) === undefined
    ) {
      throw new ChatError(
        "cursor-invalid",
        'Cursor "after" is not a message id',
      );
    }
    await this.#requireConversation(organizationId, conversationId);
    return await this.#records.messages(organizationId, conversationId, {
      ...(options.after === undefined ? {} : { after: options.after }),
      limit: pageSize(options.limit, DEFAULT_PAGE, MAX_PAGE),
    });
  }

  /**
   * The latest messages of a conversation just opened (what `chat.boot`
   * shows), oldest first. It takes the conversation itself, so a boot pays no
   * second read for it, and a first visit (no messages yet) pays none at all.
   *
   * @param conversation From {@linkcode openConversation} or {@linkcode getConversation}.
   * @param limit Default 50, at most 200.
   * @returns Up to `limit` messages ending with the newest.
   */
  async recentMessages(
    conversation: Conversation,
    limit?: number,
  ): Promise<ChatMessage[]> {
    if (conversation.messageCount === 0) return [];
    return await this.#records.messages(
      conversation.organizationId,
      conversation.id,
      { newest: true, limit: pageSize(limit, DEFAULT_PAGE, MAX_PAGE) },
    );
  }

  /**
   * Messages of a conversation just read, after the message id `after`,
   * oldest first: what a resuming stream missed, with no second read of the
   * conversation.
   *
   * @param conversation From {@linkcode findConversation} or {@linkcode getConversation}.
   * @param after A message id, exclusive.
   * @param limit At most 200.
   * @returns Up to `limit` messages.
   * @throws {ChatError} `cursor-invalid`.
   */
  async messagesAfter(
    conversation: Conversation,
    after: string,
    limit: number,
  ): Promise<ChatMessage[]> {
    if (parseMessageId(after) === undefined) {
      throw new ChatError(
        "cursor-invalid",
        'Cursor "after" is not a message id',
      );
    }
    if (conversation.lastMessage === undefined) return [];
    return await this.#records.messages(
      conversation.organizationId,
      conversation.id,
      { after, limit: pageSize(limit, DEFAULT_PAGE, MAX_PAGE) },
    );
  }

  /**
   * Conversations that have messages, newest `updatedAt` first.
   *
   * @param options `cursor` from the previous page; `limit` default 20, at
   *   most 100; `filter` by assignee.
   * @returns A page, and a `cursor` when more may follow.
   * @throws {ChatError} `cursor-invalid`.
   */
  async listConversations(
    organizationId: string,
    options: {
      readonly cursor?: string;
      readonly limit?: number;
      readonly filter?: ConversationFilter;
    } = {},
  ): Promise<{ conversations: Conversation[]; cursor?: string }> {
    try {
      const page = await this.#records.list(organizationId, {
        limit: pageSize(
          options.limit,
          DEFAULT_CONVERSATION_PAGE,
          MAX_CONVERSATION_PAGE,
        ),
        ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
        ...(options.filter === undefined ? {} : { filter: options.filter }),
      });
      return {
        conversations: [...page.conversations],
        ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
      };
    } catch (error) {
      // Stores reject a forged or foreign cursor with a TypeError.
      if (!(error instanceof TypeError) || !/cursor/i.test(error.message)) {
        throw error;
      }
      throw new ChatError("cursor-invalid", "Conversation cursor is invalid", {
        cause: error,
      });
    }
  }

  /**
   * Closes a conversation; the participant's next `openConversation` starts
   * a new one, and its watchers get a `closed` event. Closing a closed
   * conversation changes nothing.
   *
   * @returns The closed conversation, or `undefined` when there is none.
   */
  async close(
    organizationId: string,
    conversationId: string,
  ): Promise<Conversation | undefined> {
    return await this.#records.update(
      organizationId,
      conversationId,
      (current) => {
        if (current.status === "closed") return undefined;
        const { awaitingReplySince: _, ...rest } = current;
        return {
          conversation: {
            ...rest,
            status: "closed",
            updatedAt: new Date(this.#now()).toISOString(),
          },
          event: { kind: "closed", conversationId },
        };
      },
    );
  }

  /**
   * Hands a conversation to an agent, or to nobody; agents' streams hear of it.
   *
   * @returns The conversation, or `undefined` when there is none.
   */
  async assign(
    organizationId: string,
    conversationId: string,
    agent: AgentIdentity | null,
  ): Promise<Conversation | undefined> {
    return await this.#change(organizationId, conversationId, (current) => {
      const { assignee: _, ...rest } = current;
      if (agent === null) {
        return current.assignee === undefined ? undefined : rest;
      }
      if (
        current.assignee?.id === agent.id &&
        current.assignee.name === agent.name
      ) {
        return undefined;
      }
      return { ...rest, assignee: { id: agent.id, name: agent.name } };
    });
  }

  /**
   * Records the address a visitor left to be answered at (unverified).
   *
   * @returns The conversation, or `undefined` when there is none.
   */
  async setContact(
    organizationId: string,
    conversationId: string,
    email: string,
  ): Promise<Conversation | undefined> {
    return await this.#change(
      organizationId,
      conversationId,
      (current) =>
        current.contact?.email === email
          ? undefined
          : { ...current, contact: { email } },
    );
  }

  /**
   * Records the language the visitor reads the widget in, for agents.
   *
   * @param language A locale tag, e.g. `de` or `pt-BR`.
   * @returns The conversation, or `undefined` when there is none.
   */
  async setLanguage(
    organizationId: string,
    conversationId: string,
    language: string,
  ): Promise<Conversation | undefined> {
    return await this.#change(
      organizationId,
      conversationId,
      (current) =>
        current.language === language ? undefined : { ...current, language },
    );
  }

  /**
   * Records the page the visitor is on.
   *
   * @returns The conversation, or `undefined` when there is none.
   */
  async setPage(
    organizationId: string,
    conversationId: string,
    page: PageInfo,
  ): Promise<Conversation | undefined> {
    const next = copyPage(page);
    return await this.#change(
      organizationId,
      conversationId,
      (current) =>
        samePage(current.page, next) ? undefined : { ...current, page: next },
    );
  }

  /**
   * Tells the other side's streams that someone is typing (live only).
   *
   * @param author Who types: the visitor or an agent.
   * @param agent The agent, for `author: "agent"`.
   */
  async typing(
    organizationId: string,
    conversationId: string,
    author: "visitor" | "agent",
    agent?: AgentIdentity,
  ): Promise<void> {
    await this.#records.publish(organizationId, {
      kind: "typing",
      conversationId,
      author,
      ...(agent === undefined
        ? {}
        : { agent: { id: agent.id, name: agent.name } }),
    });
  }

  /**
   * The body of a due `conversation.unanswered` delivery, with the contact
   * the visitor has left by now; `undefined` when an agent replied since
   * (or the conversation closed or is gone), so the delivery is dropped.
   *
   * @param organizationId The delivery's organization.
   * @param deliveryId Its id, as {@linkcode append} enqueued it.
   * @returns The JSON body to send, or `undefined`.
   */
  async unansweredBody(
    organizationId: string,
    deliveryId: string,
  ): Promise<string | undefined> {
    const [conversationId, , messageId] = deliveryId.split(".");
    if (conversationId === undefined || messageId === undefined) {
      return undefined;
    }
    const conversation = await this.getConversation(
      organizationId,
      conversationId,
    );
    if (
      conversation === undefined || conversation.status !== "open" ||
      conversation.awaitingReplySince !== messageId
    ) {
      return undefined;
    }
    const [message] = await this.#records.messages(
      organizationId,
      conversationId,
      {
        after: previousId(messageId),
        limit: 1,
      },
    );
    return JSON.stringify({
      id: deliveryId,
      type: WEBHOOK_KINDS.unanswered,
      organizationId,
      conversationId,
      ...(conversation.contact === undefined
        ? {}
        : { contact: conversation.contact }),
      ...(message?.id === messageId ? { message } : {}),
    });
  }

  #newConversation(
    organizationId: string,
    participant: Participant,
    attributes: ConversationAttributes,
  ): Conversation {
    const at = new Date(this.#now()).toISOString();
    return {
      id: randomId(16),
      organizationId,
      participant: copyParticipant(participant),
      verified: participant.kind === "user",
      attributes: mergeAttributes({}, attributes),
      status: "open",
      createdAt: at,
      updatedAt: at,
      messageCount: 0,
      trimmed: 0,
    };
  }

  /** Changes a conversation with an `updated` feed event; `undefined` from `next` changes nothing. */
  async #change(
    organizationId: string,
    conversationId: string,
    next: (current: Conversation) => Conversation | undefined,
  ): Promise<Conversation | undefined> {
    return await this.#records.update(
      organizationId,
      conversationId,
      (current) => {
        const conversation = next(current);
        return conversation === undefined ? undefined : {
          conversation,
          event: { kind: "updated", conversationId, conversation },
        };
      },
    );
  }

  /**
   * Deletes the conversations of an organization (with their messages and
   * index entries) whose `updatedAt` is older than `now − retentionMs`.
   *
   * @returns How many conversations were deleted.
   */
  async purgeExpired(
    organizationId: string,
    retentionMs: number,
  ): Promise<number> {
    return await this.#records.purge(organizationId, this.#now() - retentionMs);
  }

  async #requireConversation(
    organizationId: string,
    conversationId: string,
  ): Promise<Conversation> {
    const conversation = await this.getConversation(
      organizationId,
      conversationId,
    );
    if (conversation === undefined) throw notFound(conversationId);
    return conversation;
  }
}

/** A `conversation.unanswered` check, due `dueAt`; its body is made when due. */
function unansweredCheck(
  organizationId: string,
  conversationId: string,
  message: ChatMessage,
  dueAt: number,
): OutboxItem {
  return {
    organizationId,
    id: `${conversationId}.unanswered.${message.id}`,
    kind: WEBHOOK_KINDS.unanswered,
    body: "",
    dueAt,
    attempts: 0,
  };
}

/** A message id just below `id`, for an inclusive read starting at `id`. */
function previousId(id: string): string {
  return id.slice(0, -1) +
    String.fromCharCode(id.charCodeAt(id.length - 1) - 1);
}

/** The `message.created` delivery of a message. */
function messageCreated(
  organizationId: string,
  conversationId: string,
  message: ChatMessage,
  nowMs: number,
): OutboxItem {
  const id = `${conversationId}.${message.id}`;
  return {
    organizationId,
    id,
    kind: WEBHOOK_KINDS.messageCreated,
    body: JSON.stringify({
      id,
      type: WEBHOOK_KINDS.messageCreated,
      organizationId,
      conversationId,
      message,
    }),
    dueAt: nowMs,
    attempts: 0,
  };
}

function pageSize(
  requested: number | undefined,
  fallback: number,
  max: number,
): number {
  if (requested === undefined || !Number.isFinite(requested)) return fallback;
  return Math.min(max, Math.max(1, Math.floor(requested)));
}

/**
 * Whether two pages are the same page (a conversation's, and one a visitor
 * reports), so a caller holding the conversation can skip a write.
 *
 * @param stored The conversation's page, if any.
 * @param page The page reported.
 * @returns `true` when recording `page` would change nothing.
 */
export function samePage(
  stored: PageInfo | undefined,
  page: PageInfo,
): boolean {
  return JSON.stringify(stored) === JSON.stringify(copyPage(page));
}

function copyPage(page: PageInfo): PageInfo {
  return {
    url: page.url,
    ...(page.title === undefined ? {} : { title: page.title }),
    ...(page.referrer === undefined ? {} : { referrer: page.referrer }),
  };
}

function mergeAttributes(
  stored: ConversationAttributes,
  given: ConversationAttributes,
): ConversationAttributes {
  const userId = given.userId ?? stored.userId;
  const email = given.email ?? stored.email;
  const name = given.name ?? stored.name;
  const userData = given.userData ?? stored.userData;
  return {
    ...(userId === undefined ? {} : { userId }),
    ...(email === undefined ? {} : { email }),
    ...(name === undefined ? {} : { name }),
    ...(userData === undefined ? {} : { userData }),
  };
}

function sameAttributes(
  a: ConversationAttributes,
  b: ConversationAttributes,
): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function notFound(conversationId: string): ChatError {
  return new ChatError(
    "conversation-not-found",
    `Conversation "${conversationId}" not found`,
  );
}
