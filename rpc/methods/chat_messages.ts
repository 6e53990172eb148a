/**
 * The visitor's session methods: `chat.sendMessage`, `chat.listMessages` and
 * `chat.stream`. Each acts only on the conversation named in the session.
 *
 * @module
 */

import type { Conversation } from "../../chat/chat_store.ts";
import { isConversationCursor, type WatchEvent } from "../../chat/live_feed.ts";
import { sessionProblem } from "../credentials.ts";
import type { MethodContext, MethodDefinition } from "../method.ts";
import { RpcError } from "../rpc_error.ts";
import {
  type AgentStreamEvent,
  type ChatMessage,
  type ConversationSummary,
  MAX_MESSAGE_LENGTH,
} from "../../wire/mod.ts";

/** `chat.sendMessage {text}` → `{message}`. */
export const sendMessage: MethodDefinition<"chat.sendMessage"> = {
  access: "session",
  async run(
    { organization, params, session, services },
  ): Promise<{ message: ChatMessage }> {
    const text = messageText(
      params.optionalText("text", MAX_MESSAGE_LENGTH * 2),
    );
    const webhook = organization.spec.webhook !== undefined;
    const message = await services.chat.append(
      organization.spec.id,
      session!.conversationId,
      "visitor",
      text,
      {
        keep: organization.spec.maxMessages,
        webhook,
        unansweredAfterMs: organization.spec.widget.unansweredAfterMs,
      },
    );
    if (webhook) services.webhooksDue();
    return { message };
  },
};

/** `chat.listMessages {after?, limit?}` → `{messages}`, oldest first. */
export const listMessages: MethodDefinition<"chat.listMessages"> = {
  access: "session",
  async run(
    { organization, params, session, services },
  ): Promise<{ messages: ChatMessage[] }> {
    const after = params.optionalString("after", 64);
    const limit = params.optionalInteger("limit", 1, 200);
    const messages = await services.chat.listMessages(
      organization.spec.id,
      session!.conversationId,
      {
        ...(after === undefined ? {} : { after }),
        ...(limit === undefined ? {} : { limit }),
      },
    );
    return { messages };
  },
};

/**
 * `chat.stream` → `text/event-stream` of the conversation's new messages,
 * then `closed` once it is closed — or once the session stops being valid.
 */
export const streamMessages: MethodDefinition<"chat.stream"> = {
  access: "session",
  async run(context): Promise<Response> {
    const session = context.session!;
    const organizationId = context.organization.spec.id;
    const after = await resumeCursor(context, isConversationCursor);
    return context.services.streams.open(
      {
        credential: `session:${session.sessionId}`,
        ip: context.ip,
        expiresAt: session.expiresAt,
        check: (evaluator) =>
          sessionProblem(
            session,
            evaluator.organization(session.organizationId),
            undefined,
            context.origin,
          )?.reason,
      },
      (signal) =>
        frames(
          context.services.live.conversation(
            organizationId,
            session.conversationId,
            { signal, ...(after === undefined ? {} : { after }) },
          ),
          "visitor",
        ),
      context.request,
    );
  },
};

/**
 * Where a stream resumes: `Last-Event-ID` (an empty one is none), else the
 * body's `after`. Checked before the stream opens, so a cursor that is not
 * one of this stream's event ids gets a 400, never a stream that breaks.
 *
 * @param context The request.
 * @param isCursor Whether text is an event id of this kind of stream.
 * @returns The cursor, or `undefined` to start from now.
 * @throws {RpcError} `BAD_REQUEST` (`stream.last_event_id`, `param.after.invalid`).
 */
export async function resumeCursor(
  context: MethodContext,
  isCursor: (cursor: string) => boolean | Promise<boolean>,
): Promise<string | undefined> {
  const header = context.request.headers.get("last-event-id");
  if (header !== null && header !== "") {
    if (!await isCursor(header)) {
      throw new RpcError(
        "BAD_REQUEST",
        "Header Last-Event-ID is not an event id of this stream",
        { reason: "stream.last_event_id" },
      );
    }
    return header;
  }
  const after = context.params.optionalString("after", 64);
  if (after !== undefined && !await isCursor(after)) {
    throw new RpcError(
      "BAD_REQUEST",
      'Field "after" is not an event id of this stream',
      { reason: "param.after.invalid" },
    );
  }
  return after;
}

/**
 * Watch events as Server-Sent Events, with the watch cursor as event id so
 * `Last-Event-ID` resumes exactly where a stream left off. A visitor hears
 * the agents type; agents hear the visitor type and see conversations change.
 *
 * @param events The watch.
 * @param audience Who the stream is for.
 * @param summarize How agents see a conversation (agent streams only).
 */
export async function* frames(
  events: AsyncIterable<WatchEvent>,
  audience: "visitor" | "agents",
  summarize?: (conversation: Conversation) => ConversationSummary,
): AsyncGenerator<
  AgentStreamEvent & { readonly id?: string },
  void,
  undefined
> {
  for await (const update of events) {
    switch (update.kind) {
      case "message":
        yield {
          id: update.cursor,
          event: "message",
          data: { conversationId: update.conversationId, ...update.message },
        };
        break;
      case "closed":
        yield {
          id: update.cursor,
          event: "closed",
          data: {
            conversationId: update.conversationId,
            reason: "conversation.closed",
          },
        };
        break;
      case "updated":
        if (summarize === undefined) break;
        yield {
          id: update.cursor,
          event: "conversation",
          data: {
            conversationId: update.conversationId,
            conversation: summarize(update.conversation),
          },
        };
        break;
      case "typing":
        // Nobody is told of their own side typing.
        if (audience === "visitor" && update.author === "visitor") break;
        yield {
          event: "typing",
          data: {
            conversationId: update.conversationId,
            author: update.author,
            ...(update.agent === undefined ? {} : { agent: update.agent }),
          },
        };
        break;
    }
  }
}

/**
 * @param raw The `text` field.
 * @returns The trimmed text.
 * @throws {RpcError} `BAD_REQUEST` when empty or too long.
 */
export function messageText(raw: string | undefined): string {
  const text = raw?.trim() ?? "";
  if (text.length === 0 || text.length > MAX_MESSAGE_LENGTH) {
    throw new RpcError(
      "BAD_REQUEST",
      `Field "text" must be 1 to ${MAX_MESSAGE_LENGTH} characters`,
      { reason: "param.text.length" },
    );
  }
  return text;
}
