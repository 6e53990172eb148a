/**
 * Every RPC method's request body and reply data: `RpcMethods` maps a
 * method's wire name to `{ params, data }`, and a streaming method's entry
 * names the events it sends instead (`data: never`: it answers with a
 * `text/event-stream`, never a data reply). The server's method table is
 * typed from it, so a method cannot return another shape, and so are the
 * widget's and the inbox's calls.
 *
 * `params` is what a client sends; the server still checks every field at
 * run time (`rpc/params.ts`), since a client may send anything.
 *
 * @module
 */

import type {
  AgentIdentity,
  ChatMessage,
  Contact,
  ConversationSummary,
  ConversationView,
  PageInfo,
  VisitorConversation,
} from "./records.ts";
import type { SecurityReport } from "./security_report.ts";
import type { AgentStreamEvent, ChatStreamEvent } from "./stream_events.ts";
import type { Availability, WidgetConfig } from "./widget_config.ts";

/** What every public and agent call names. */
export interface OrganizationParams {
  /** The organization's id as written in the policy. */
  readonly organizationId: string;
}

/**
 * What a session call may name: its session token says which organization
 * it is (an `organizationId` that says otherwise is refused).
 */
export interface SessionParams {
  /** When given, it must be the session's organization. */
  readonly organizationId?: string;
}

/** A reply with nothing to say. */
export type EmptyData = { readonly [field: string]: never };

/** `chat.getConfig` and `chat.getJWTDocs` parameters. */
export interface ConfigParams extends OrganizationParams {
  /** One of the organization's `appIds`, when the policy lists them. */
  readonly app_id?: string;
  /** An origin to probe: the reply says whether it would be admitted (`chat.getConfig`). */
  readonly origin?: string;
}

/** `chat.boot` parameters (the user token rides in `Authorization: Bearer`). */
export interface BootParams extends OrganizationParams {
  /** One of the organization's `appIds`, when the policy lists them. */
  readonly app_id?: string;
  /** Kept as an unverified attribute unless a token proves it. */
  readonly user_id?: string;
  /** Shown to agents; unverified unless a token's `user_data` says it. */
  readonly email?: string;
  /** Shown to agents; unverified unless a token's `user_data` says it. */
  readonly name?: string;
  /** The anonymous visitor id an earlier boot handed out. */
  readonly visitorId?: string;
  /** The page the visitor is on. */
  readonly page?: PageInfo;
}

/** `chat.boot` reply data. */
export interface BootData extends Availability {
  /** Session token for later calls, and its ISO 8601 expiry. */
  readonly session: { readonly token: string; readonly expiresAt: string };
  /** Who the session speaks for: the token's `sub` when verified, else the visitor id. */
  readonly user: {
    readonly id: string;
    readonly verified: boolean;
    readonly name?: string;
    readonly email?: string;
  };
  /** The anonymous visitor id to keep in `localStorage` (absent when verified). */
  readonly visitorId?: string;
  /**
   * The person's open conversation and its most recent messages, or `null`
   * when they have none: a boot creates none, the first message does.
   */
  readonly conversation: VisitorConversation | null;
  /** The widget settings: the same object `chat.getConfig` returns. */
  readonly config: WidgetConfig;
}

/** `chat.sendMessage` reply data. */
export interface SentMessage {
  /** The stored message. */
  readonly message: ChatMessage;
  /** The conversation it went to (the first message creates it). */
  readonly conversationId: string;
}

/** One claim or header field of {@linkcode JwtDocs}, with its rule. */
export interface JwtDocsField {
  /** The claim or header field, e.g. `iss`. */
  readonly name: string;
  /** What its value must be, in words. */
  readonly rule: string;
}

/** `chat.getJWTDocs` reply data: how to mint this organization's user tokens. */
export interface JwtDocs {
  /** The organization the tokens are for (their `org_id`). */
  readonly organizationId: string;
  /** Whether `chat.boot` needs a token. */
  readonly mode: WidgetConfig["jwt"]["mode"];
  /** The one algorithm accepted. */
  readonly algorithm: "HS256";
  /** Where the token goes. */
  readonly header: string;
  /** The `aud` a token must name. */
  readonly audience: string;
  /** The longest `exp` − `iat` accepted, seconds. */
  readonly maxLifetimeSeconds: number;
  /** The clock skew allowed on `iat` and `nbf`, seconds. */
  readonly clockToleranceSeconds: number;
  /** The active keys' ids (never a secret), with their retirement time. */
  readonly keys: readonly { readonly id: string; readonly until?: string }[];
  /** Every claim and header field, with its rule. */
  readonly claims: {
    readonly required: readonly JwtDocsField[];
    readonly optional: readonly JwtDocsField[];
    readonly header: readonly JwtDocsField[];
  };
  /** A payload this organization would accept (times are an example). */
  readonly examplePayload: Readonly<Record<string, unknown>>;
  /** Ready-to-run minting code. */
  readonly examples: {
    readonly node: string;
    readonly deno: string;
    readonly python: string;
  };
}

/** A page of `agent.listConversations`. */
export interface ConversationList {
  /** Newest first. */
  readonly conversations: readonly ConversationSummary[];
  /** Pass as `cursor` for the next page; absent on the last. */
  readonly cursor?: string;
  /** Who the admin key is. */
  readonly agent: AgentIdentity;
  /** Every agent of the organization. */
  readonly agents: readonly AgentIdentity[];
}

/** The parameters of a call about one conversation. */
export interface ConversationParams extends OrganizationParams {
  /** The conversation, of this organization. */
  readonly conversationId: string;
}

/** A conversation as the agent side reads it after a change. */
export interface ConversationData {
  /** The conversation as it is now. */
  readonly conversation: ConversationSummary;
}

/** A message just written. */
export interface MessageData {
  /** The message as stored, with its id and time. */
  readonly message: ChatMessage;
}

/** Every RPC method by its wire name: what it takes and what it answers. */
export interface RpcMethods {
  /** The organization's public widget settings; with `origin`, whether that origin would be admitted. */
  readonly "chat.getConfig": {
    readonly params: ConfigParams;
    readonly data: WidgetConfig;
  };
  /** How to mint the organization's user tokens: claims, rules, key ids, examples. */
  readonly "chat.getJWTDocs": {
    readonly params: ConfigParams;
    readonly data: JwtDocs;
  };
  /** A page load: a session (with the user token, when sent) and the visitor's conversation. */
  readonly "chat.boot": {
    readonly params: BootParams;
    readonly data: BootData;
  };
  /** The visitor writes (session). */
  readonly "chat.sendMessage": {
    /**
     * The `page` is recorded when the message creates the conversation; the
     * `language` the visitor reads the widget in (a locale it ships) is kept
     * on the conversation for agents.
     */
    readonly params: SessionParams & {
      readonly text: string;
      readonly page?: PageInfo;
      readonly language?: string;
    };
    readonly data: SentMessage;
  };
  /** The visitor's messages after a cursor (session). */
  readonly "chat.listMessages": {
    readonly params: SessionParams & {
      /** Messages after this id, oldest first. */
      readonly after?: string;
      readonly limit?: number;
    };
    readonly data: { readonly messages: readonly ChatMessage[] };
  };
  /** The visitor's live conversation as `text/event-stream` (session). */
  readonly "chat.stream": {
    /**
     * `recent` messages repeated in the `ready` event (0–50), the `page` the
     * visitor is on, and `after` (or the `Last-Event-ID` header) to resume
     * after an event id.
     */
    readonly params: SessionParams & {
      readonly recent?: number;
      readonly page?: PageInfo;
      readonly after?: string;
    };
    readonly data: never;
    readonly events: ChatStreamEvent;
  };
  /** The visitor types: agents' streams hear of it (session). */
  readonly "chat.typing": {
    readonly params: SessionParams;
    readonly data: EmptyData;
  };
  /** Where the visitor wants an answer by email (session). */
  readonly "chat.setContact": {
    readonly params: SessionParams & { readonly email: string };
    readonly data: { readonly contact: Contact };
  };
  /** The page the visitor moved to (session). */
  readonly "chat.setPage": {
    readonly params: SessionParams & PageInfo;
    /** `null` when the URL is not on the session's origin (not stored). */
    readonly data: { readonly page: PageInfo | null };
  };
  /** A page of the organization's conversations, newest first, in one view. */
  readonly "agent.listConversations": {
    readonly params: OrganizationParams & {
      readonly cursor?: string;
      readonly limit?: number;
      readonly filter?: ConversationView;
    };
    readonly data: ConversationList;
  };
  /** One conversation and its messages. */
  readonly "agent.getConversation": {
    readonly params: ConversationParams & { readonly after?: string };
    readonly data: ConversationData & {
      readonly messages: readonly ChatMessage[];
    };
  };
  /** An agent answers; the first to answer is assigned. */
  readonly "agent.reply": {
    readonly params: ConversationParams & { readonly text: string };
    readonly data: MessageData;
  };
  /** Closes a conversation; the visitor's session ends with it. */
  readonly "agent.close": {
    readonly params: ConversationParams;
    readonly data: ConversationData;
  };
  /** Hands a conversation to one of the organization's agents, or to nobody. */
  readonly "agent.assign": {
    /** `null` assigns it to nobody. */
    readonly params: ConversationParams & { readonly agentId: string | null };
    readonly data: ConversationData;
  };
  /** The agent types: the visitor sees it. */
  readonly "agent.typing": {
    readonly params: ConversationParams;
    readonly data: EmptyData;
  };
  /** Every conversation's live changes as `text/event-stream`. */
  readonly "agent.stream": {
    readonly params: OrganizationParams & { readonly after?: string };
    readonly data: never;
    readonly events: AgentStreamEvent;
  };
  /** What the organization's traffic says about its policy. */
  readonly "agent.securityReport": {
    readonly params: OrganizationParams & {
      /** The window in hours, 1 to 168 (default 24). */
      readonly hours?: number;
    };
    readonly data: SecurityReport;
  };
}

/** A method's wire name. */
export type RpcMethod = keyof RpcMethods;

/** The methods that answer with a `text/event-stream`. */
export type StreamMethod = {
  [M in RpcMethod]: RpcMethods[M] extends { readonly events: unknown } ? M
    : never;
}[RpcMethod];

/** The methods that answer with data. */
export type CallMethod = Exclude<RpcMethod, StreamMethod>;

/** The `agent.*` methods, called with an admin key. */
export type AgentMethod = Extract<RpcMethod, `agent.${string}`>;

/** What a method takes. */
export type RpcParams<M extends RpcMethod> = RpcMethods[M]["params"];

/** What a method answers (`never` for a stream). */
export type RpcData<M extends RpcMethod> = RpcMethods[M]["data"];

/** The events a streaming method sends. */
export type RpcEvents<M extends StreamMethod> = RpcMethods[M] extends
  { readonly events: infer E } ? E : never;
