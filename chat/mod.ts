/**
 * Parley's chat: the rules of conversations and messages on any store, live
 * updates as Server-Sent Events over fetch streams, and signed webhooks made
 * from the store's outbox.
 *
 * - {@linkcode ChatStore}: `openConversation` (a verified user by `sub`, an
 *   anonymous visitor by a server-issued `visitorId`; unverified attributes
 *   never unlock history), `append`, `listMessages` (oldest first, `after`
 *   + `limit`), `recentMessages`, `listConversations` (newest first, cursor),
 *   `getConversation`, `close` and `purgeExpired` (policy `retention`).
 *   Everything is scoped by organization id.
 * - {@linkcode LiveFeed}: one conversation or a whole organization, live and
 *   resumable by cursor, one feed read per change and process however many
 *   streams watch.
 * - {@linkcode eventStream}: frames a watch as `text/event-stream` with
 *   heartbeats; the event `id` is the watch cursor, so a client's
 *   `Last-Event-ID` is the `after` of its next watch.
 * - {@linkcode WebhookDispatcher}: leases due deliveries from the outbox and
 *   POSTs them with `Parley-Signature: t=…,v1=<HMAC-SHA256 of "t.body">`,
 *   with a per-attempt timeout and jittered exponential backoff.
 *
 * @example Boot, send, stream
 * ```ts ignore
 * import { ChatStore, LiveFeed } from "./mod.ts";
 * import { openStore } from "../store/open_store.ts";
 *
 * const store = await openStore(".parley/kv.sqlite");
 * const chat = new ChatStore(store.conversations);
 * const conversation = await chat.openConversation(
 *   "acme",
 *   { kind: "user", subject: "user-42" },
 *   { name: "Ada" },
 * );
 * await chat.append("acme", conversation.id, "visitor", "Hello");
 *
 * const live = new LiveFeed(store.conversations, store.changes);
 * const controller = new AbortController();
 * for await (const event of live.conversation("acme", conversation.id, {
 *   signal: controller.signal,
 * })) {
 *   console.log(event);
 * }
 * ```
 *
 * @module
 */

export type { AgentIdentity, ChatMessage } from "../wire/records.ts";
export { ChatError, type ChatErrorCode } from "./chat_error.ts";
export {
  type AppendOptions,
  ChatStore,
  type ChatStoreOptions,
  type Conversation,
  type ConversationAttributes,
  type Participant,
} from "./chat_store.ts";
export { isVisitorId } from "./participant.ts";
export { LiveFeed } from "./live_feed.ts";
export type {
  ClosedWatchEvent,
  MessageWatchEvent,
  TypingWatchEvent,
  UpdatedWatchEvent,
  WatchEvent,
  WatchOptions,
} from "./live_watch.ts";
export {
  EVENT_STREAM_HEADERS,
  eventStream,
  type EventStreamOptions,
  type ServerSentEvent,
} from "./event_stream.ts";
export {
  DELIVERY_HEADER,
  type MessageCreatedEvent,
  SIGNATURE_HEADER,
  signWebhook,
  verifyWebhookSignature,
  type WebhookTarget,
} from "./webhook.ts";
export {
  WebhookDispatcher,
  type WebhookDispatcherOptions,
  type WebhookOutcome,
} from "./webhook_dispatcher.ts";
