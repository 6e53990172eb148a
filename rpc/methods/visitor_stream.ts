/**
 * `chat.stream {recent?, page?, after?}` → `text/event-stream`: what a
 * visitor's widget hears while its panel is open or its conversation is.
 *
 * 1. `event: ready` — the participant's open conversation (`null` when they
 *    have none yet) with its `recent` newest messages when asked, and the
 *    widget settings as they are now (so a returning visitor's panel shows
 *    the current title, colours, greeting and hours). Its `id` is the
 *    stream's cursor. The `page` sent is recorded on the conversation, so a
 *    returning visitor's page view costs this one call.
 * 2. `event: message` / `typing` / `closed` — the conversation's live
 *    events after the cursor (`Last-Event-ID`, else `after`, else the ready
 *    event's), ending after `closed`. Without a conversation there are none:
 *    the widget opens a new stream once its first message created one.
 * 3. `event: availability` — `{agentsOnline, withinHours}` whenever it
 *    changes (an agent opened the inbox, the hours closed).
 *
 * The session is checked again while the stream lasts (`live_streams.ts`).
 *
 * @module
 */

import { isConversationCursor } from "../../chat/live_feed.ts";
import type {
  LiveWatch,
  PendingWatch,
  WatchEvent,
  WatchListener,
} from "../../chat/live_watch.ts";
import { samePage } from "../../chat/chat_store.ts";
import type { Evaluator } from "../../policy/types.ts";
import type { AvailabilityListener } from "../availability_watch.ts";
import { type SessionBinding, sessionProblem } from "../credentials.ts";
import type {
  StreamHolder,
  StreamSink,
  StreamSource,
} from "../live_streams.ts";
import type { MethodContext, MethodDefinition, Services } from "../method.ts";
import { pageContext } from "../page_context.ts";
import type { SessionClaims } from "../session_token.ts";
import type {
  Availability,
  ChatMessage,
  PageInfo,
  ReadyEvent,
  StreamFrame,
} from "../../wire/mod.ts";
import { resumeCursor } from "./chat_messages.ts";
import { frameOf } from "./watch_frames.ts";
import { widgetConfig } from "./widget_config.ts";

/** Most messages a `ready` event repeats. */
const MAX_RECENT = 50;
/** Messages a resuming stream reads with its conversation; more, and its watch reads them. */
const MISSED_PAGE = 200;

/** The `chat.stream` method. */
export const streamMessages: MethodDefinition<"chat.stream"> = {
  access: "session",
  async run(context): Promise<Response> {
    const session = context.session!;
    const { organization, params, services } = context;
    const organizationId = organization.spec.id;
    // A cursor that is not a message id is refused before the stream opens.
    const after = await resumeCursor(context, isConversationCursor);
    const recent = params.optionalInteger("recent", 0, MAX_RECENT) ?? 0;
    const pageFields = params.optionalObject("page");
    const page = pageFields === undefined
      ? undefined
      : pageContext(pageFields, session.origin);
    // Registered before the reads below, so what they read needs no
    // second read to catch up.
    const pending = services.live.prepare(organizationId);
    try {
      return await open(context, pending, after, recent, page);
    } catch (error) {
      pending.cancel();
      throw error;
    }
  },
};

/** The reads, the `ready` event and the stream, once a pending watch (if any) is registered. */
async function open(
  context: MethodContext,
  prepared: PendingWatch,
  after: string | undefined,
  recent: number,
  page: PageInfo | undefined,
): Promise<Response> {
  const session = context.session!;
  const { organization, services } = context;
  const organizationId = organization.spec.id;
  let pending: PendingWatch | undefined = prepared;
  await pending.ready;
  const [conversation, config] = await Promise.all([
    services.chat.findConversation(organizationId, session.participant),
    widgetConfig(context),
  ]);
  if (conversation === undefined) pending.cancel();
  let messages: ChatMessage[] = [];
  let missed: ChatMessage[] = [];
  let contact = conversation?.contact;
  if (conversation !== undefined) {
    const [read, withPage] = await Promise.all([
      after !== undefined
        ? services.chat.messagesAfter(conversation, after, MISSED_PAGE)
        : recent > 0
        ? services.chat.recentMessages(conversation, recent)
        : [],
      page === undefined || samePage(conversation.page, page)
        ? conversation
        : services.chat.setPage(organizationId, conversation.id, page),
    ]);
    if (after === undefined) messages = read;
    else if (read.length < MISSED_PAGE) missed = read;
    else {
      // Away for longer than a page: the watch reads the rest itself.
      pending.cancel();
      pending = undefined;
    }
    contact = withPage?.contact ?? contact;
  }
  // Where the live events start: nothing shown is repeated, nothing after is missed.
  const cursor = missed.at(-1)?.id ?? after ?? messages.at(-1)?.id ??
    conversation?.lastMessage?.id ?? "";
  const ready: StreamFrame<ReadyEvent> = {
    // A resumed stream's id stays its cursor until the missed messages, each
    // with its own id, have been sent after it.
    ...((after ?? cursor) === "" ? {} : { id: after ?? cursor }),
    event: "ready",
    data: {
      conversation: conversation === undefined ? null : {
        id: conversation.id,
        messages,
        ...(contact === undefined ? {} : { contact }),
      },
      config,
    },
  };
  return services.streams.open(
    new SessionStreamHolder(session, context.ip, context.origin),
    (sink) =>
      new VisitorStream(
        sink,
        services,
        organizationId,
        {
          agentsOnline: config.agentsOnline,
          withinHours: config.withinHours,
        },
        conversation === undefined ? undefined : {
          id: conversation.id,
          cursor,
          missed,
          ...(pending === undefined ? {} : { pending }),
        },
      ),
    ready,
  );
}

/**
 * A session holds its stream while the policy still admits it. It keeps
 * only what the check reads, not the session's claims.
 */
class SessionStreamHolder implements StreamHolder, SessionBinding {
  readonly credential: string;
  readonly ip: string;
  readonly expiresAt: number;
  readonly organizationId: string;
  readonly securityRevision: string;
  /** The origin the session is bound to. */
  readonly origin: string | null;
  /** The origin the stream was opened from. */
  readonly #requestOrigin: string | null;

  constructor(session: SessionClaims, ip: string, origin: string | null) {
    this.credential = `session:${session.sessionId}`;
    this.ip = ip;
    this.expiresAt = session.expiresAt;
    this.organizationId = session.organizationId;
    this.securityRevision = session.securityRevision;
    this.origin = session.origin;
    this.#requestOrigin = origin;
  }

  check(evaluator: Evaluator): string | undefined {
    return sessionProblem(
      this,
      evaluator.organization(this.organizationId),
      undefined,
      this.#requestOrigin,
    )?.reason;
  }
}

/** One visitor stream's sources: its conversation's watch and the availability changes. */
class VisitorStream
  implements StreamSource, WatchListener, AvailabilityListener {
  readonly #sink: StreamSink;
  readonly #services: Services;
  readonly #organizationId: string;
  readonly #watch: LiveWatch | undefined;

  constructor(
    sink: StreamSink,
    services: Services,
    organizationId: string,
    current: Availability,
    conversation:
      | {
        id: string;
        cursor: string;
        /** Messages after a resume cursor, read with the conversation. */
        missed: readonly ChatMessage[];
        pending?: PendingWatch;
      }
      | undefined,
  ) {
    this.#sink = sink;
    this.#services = services;
    this.#organizationId = organizationId;
    services.availability.subscribe(organizationId, this, current);
    for (const message of conversation?.missed ?? []) {
      this.event({
        kind: "message",
        conversationId: conversation!.id,
        message,
        cursor: message.id,
      });
    }
    this.#watch = conversation === undefined
      ? undefined
      : conversation.pending !== undefined
      ? conversation.pending.follow(conversation.id, conversation.cursor, this)
      : services.live.watchConversation(organizationId, conversation.id, {
        after: conversation.cursor,
      }, this);
  }

  event(event: WatchEvent): void {
    const frame = frameOf(event, "visitor");
    if (frame !== undefined) this.#sink.send(frame);
  }

  end(error?: unknown): void {
    if (error === undefined) this.#sink.close();
    else this.#sink.fail(error);
  }

  availability(value: Availability): void {
    this.#sink.send({ event: "availability", data: value });
  }

  stop(): void {
    this.#watch?.stop();
    this.#services.availability.unsubscribe(this.#organizationId, this);
  }
}
