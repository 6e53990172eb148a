/**
 * The visitor's session methods: `chat.sendMessage`, `chat.listMessages` and
 * `chat.stream`. Each acts only on the conversation named in the session.
 *
 * @module
 */

import type { WatchEvent } from "../../chat/live_feed.ts";
import type { ServerSentEvent } from "../../chat/event_stream.ts";
import { sessionProblem } from "../admission.ts";
import type { MethodContext, MethodDefinition } from "../method.ts";
import { RpcError } from "../rpc_error.ts";
import { type ChatMessage, MAX_MESSAGE_LENGTH } from "../wire.ts";

/** `chat.sendMessage {text}` → `{message}`. */
export const sendMessage: MethodDefinition = {
  access: "session",
  async run(
    { organization, params, session, services },
  ): Promise<{ message: ChatMessage }> {
    const text = messageText(
      params.optionalString("text", MAX_MESSAGE_LENGTH * 2),
    );
    const webhook = organization.spec.webhook !== undefined;
    const message = await services.chat.append(
      organization.spec.id,
      session!.conversationId,
      "visitor",
      text,
      { keep: organization.spec.maxMessages, webhook },
    );
    if (webhook) services.webhooksDue();
    return { message };
  },
};

/** `chat.listMessages {after?, limit?}` → `{messages}`, oldest first. */
export const listMessages: MethodDefinition = {
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
export const streamMessages: MethodDefinition = {
  access: "session",
  run(context): Promise<Response> {
    const session = context.session!;
    const organizationId = context.organization.spec.id;
    const after = resumeCursor(context);
    return Promise.resolve(context.services.streams.open(
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
        ),
      context.request,
    ));
  },
};

/** Where a stream resumes: `Last-Event-ID`, else the body's `after`. */
export function resumeCursor(context: MethodContext): string | undefined {
  return context.request.headers.get("last-event-id") ??
    context.params.optionalString("after", 64);
}

/**
 * Watch events as Server-Sent Events, with the watch cursor as event id so
 * `Last-Event-ID` resumes exactly where a stream left off.
 */
export async function* frames(
  events: AsyncIterable<WatchEvent>,
): AsyncGenerator<ServerSentEvent<unknown>, void, undefined> {
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
        yield {
          id: update.cursor,
          event: "conversation",
          data: { conversationId: update.conversationId },
        };
        break;
      case "typing":
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
