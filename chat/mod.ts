/**
 * Parley's chat: conversations and messages on Deno KV, live updates as
 * Server-Sent Events over fetch streams, retention, and signed webhooks.
 *
 * - {@linkcode ChatStore}: `openConversation` (a verified user by `sub`, an
 *   anonymous visitor by a server-issued `visitorId`; unverified attributes
 *   never unlock history), `append`, `listMessages` (oldest first, `after`
 *   + `limit`), `recentMessages`, `listConversations` (newest first, cursor),
 *   `getConversation`, `close`, `watch` (one conversation or the whole
 *   organization, resumable by cursor) and `purgeExpired` (policy
 *   `retention`). Everything is scoped by organization id.
 * - {@linkcode eventStream}: frames a watch as `text/event-stream` with
 *   heartbeats; the event `id` is the watch cursor, so a client's
 *   `Last-Event-ID` is the `after` of its next watch.
 * - {@linkcode WebhookDispatcher}: fire-and-forget delivery of every visitor
 *   message with `Parley-Signature: t=…,v1=<HMAC-SHA256 of "t.body">`,
 *   per-attempt timeout and jittered exponential backoff (in memory).
 *
 * @example Boot, send, stream
 * ```ts ignore
 * import { ChatStore, eventStream, EVENT_STREAM_HEADERS } from "./mod.ts";
 *
 * const store = new ChatStore(await Deno.openKv(".parley/kv.sqlite"));
 * const conversation = await store.openConversation(
 *   "acme",
 *   { kind: "user", subject: "user-42" },
 *   { name: "Ada" },
 * );
 * await store.append("acme", conversation.id, "visitor", "Hello");
 *
 * const request = new Request("http://localhost/rpc/chat.stream");
 * const frames = (async function* () {
 *   const watch = store.watch("acme", conversation.id, { signal: request.signal });
 *   for await (const { cursor, message } of watch) {
 *     yield { id: cursor, event: "message", data: message };
 *   }
 * })();
 * new Response(eventStream(frames, { signal: request.signal }), {
 *   headers: EVENT_STREAM_HEADERS,
 * });
 * ```
 *
 * @module
 */

export type { ChatMessage } from "../rpc/wire.ts";
export { ChatError, type ChatErrorCode } from "./chat_error.ts";
export {
  ChatStore,
  type ChatStoreOptions,
  type ClosedWatchEvent,
  type Conversation,
  type ConversationAttributes,
  isVisitorId,
  type MessageWatchEvent,
  type Participant,
  type WatchEvent,
} from "./chat_store.ts";
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
  WebhookDispatcher,
  type WebhookDispatcherOptions,
  type WebhookOutcome,
  type WebhookTarget,
} from "./webhook.ts";
