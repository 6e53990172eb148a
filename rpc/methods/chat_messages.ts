/**
 * The visitor's session methods: `chat.sendMessage`, `chat.listMessages` and
 * `chat.stream`. Each acts only on the conversation named in the session.
 *
 * @module
 */

import { EVENT_STREAM_HEADERS, eventStream } from "../../chat/event_stream.ts";
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
    const organizationId = organization.spec.id;
    const message = await services.chat.append(
      organizationId,
      session!.conversationId,
      "visitor",
      text,
    );
    const webhook = organization.spec.webhook;
    if (webhook !== undefined) {
      services.webhooks.deliver(webhook, {
        type: "message.created",
        organizationId,
        conversationId: session!.conversationId,
        message,
      });
    }
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

/** `chat.stream` → `text/event-stream` of the conversation's new messages, then `closed` once it is closed. */
export const streamMessages: MethodDefinition = {
  access: "session",
  run(context): Promise<Response> {
    return Promise.resolve(
      messageStream(context, context.session!.conversationId),
    );
  },
};

/**
 * A live `text/event-stream` reply: one `message` event per new message, with
 * the message id as event id so `Last-Event-ID` resumes without loss.
 *
 * @param context The admitted request.
 * @param conversationId One conversation, or every conversation of the organization.
 * @returns The streaming response.
 */
export function messageStream(
  context: MethodContext,
  conversationId: string | undefined,
): Response {
  const after = context.request.headers.get("last-event-id") ??
    context.params.optionalString("after", 64);
  const signal = context.request.signal;
  const updates = context.services.chat.watch(
    context.organization.spec.id,
    conversationId,
    { signal, ...(after === null || after === undefined ? {} : { after }) },
  );
  async function* events() {
    for await (const update of updates) {
      yield update.kind === "message"
        ? {
          // The watch cursor, so Last-Event-ID resumes exactly where this left off.
          id: update.cursor,
          event: "message",
          data: { conversationId: update.conversationId, ...update.message },
        }
        // The last event: the session's conversation takes no more messages.
        : {
          id: update.cursor,
          event: "closed",
          data: { conversationId: update.conversationId },
        };
    }
  }
  return new Response(eventStream(events(), { signal }), {
    headers: EVENT_STREAM_HEADERS,
  });
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
