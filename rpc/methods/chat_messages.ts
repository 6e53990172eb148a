/**
 * The visitor's message methods: `chat.sendMessage` and `chat.listMessages`.
 * Each acts only on the session's participant's open conversation; the
 * first message creates it (a boot creates none), with the attributes the
 * boot recorded in the session.
 *
 * @module
 */

import { ChatError } from "../../chat/chat_error.ts";
import { samePage } from "../../chat/chat_store.ts";
import { matchLocale } from "../../wire/locale_match.ts";
import type { MethodContext, MethodDefinition } from "../method.ts";
import { pageContext } from "../page_context.ts";
import { RpcError } from "../rpc_error.ts";
import {
  type ChatMessage,
  MAX_MESSAGE_LENGTH,
  type SentMessage,
} from "../../wire/mod.ts";

/**
 * `chat.sendMessage {text, page?, language?}` → `{message, conversationId}`.
 * The `page` the visitor is on is recorded with it (the widget sends it with
 * the first message of a page, as nothing was sent for the page before), and
 * the `language` the visitor reads the widget in (a locale Parley ships),
 * which agents see beside the thread.
 */
export const sendMessage: MethodDefinition<"chat.sendMessage"> = {
  access: "session",
  async run(context): Promise<SentMessage> {
    const { organization, params, services } = context;
    const session = context.session!;
    const text = messageText(
      params.optionalText("text", MAX_MESSAGE_LENGTH * 2),
    );
    const pageFields = params.optionalObject("page");
    const page = pageFields === undefined
      ? undefined
      : pageContext(pageFields, session.origin);
    const language = visitorLanguage(params.optionalString("language", 64));
    const organizationId = organization.spec.id;
    const webhook = organization.spec.webhook !== undefined;
    for (let attempt = 0;; attempt++) {
      // A new conversation is created with the page; an open one may need it.
      const conversation = await services.chat.conversationFor(
        organizationId,
        session.participant,
        session.attributes ?? {},
        page,
        language,
      );
      try {
        if (page !== undefined && !samePage(conversation.page, page)) {
          await services.chat.setPage(organizationId, conversation.id, page);
        }
        if (language !== undefined && conversation.language !== language) {
          await services.chat.setLanguage(
            organizationId,
            conversation.id,
            language,
          );
        }
        const message = await services.chat.append(
          organizationId,
          conversation.id,
          "visitor",
          text,
          {
            keep: organization.spec.maxMessages,
            webhook,
            unansweredAfterMs: organization.spec.widget.unansweredAfterMs,
          },
        );
        if (webhook) services.webhooksDue();
        return { message, conversationId: conversation.id };
      } catch (error) {
        // Closed between finding and writing: the next one is a new conversation.
        const closed = error instanceof ChatError &&
          error.code === "conversation-closed";
        if (!closed || attempt > 0) throw error;
      }
    }
  },
};

/** `chat.listMessages {after?, limit?}` → `{messages}`, oldest first (none before the first message). */
export const listMessages: MethodDefinition<"chat.listMessages"> = {
  access: "session",
  async run(
    { organization, params, session, services },
  ): Promise<{ messages: ChatMessage[] }> {
    const after = params.optionalString("after", 64);
    const limit = params.optionalInteger("limit", 1, 200);
    const conversation = await services.chat.findConversation(
      organization.spec.id,
      session!.participant,
    );
    if (conversation === undefined) return { messages: [] };
    const messages = await services.chat.listMessages(
      organization.spec.id,
      conversation.id,
      {
        ...(after === undefined ? {} : { after }),
        ...(limit === undefined ? {} : { limit }),
      },
    );
    return { messages };
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
 * @param raw The `language` field.
 * @returns The locale Parley ships that it names, as the widget writes it.
 * @throws {RpcError} `BAD_REQUEST` (`param.language.invalid`) for a tag of
 *   no locale Parley ships: agents see only languages the widget speaks.
 */
function visitorLanguage(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const locale = matchLocale(raw);
  if (locale === undefined) {
    throw new RpcError(
      "BAD_REQUEST",
      'Field "language" is not a locale the widget speaks',
      { reason: "param.language.invalid" },
    );
  }
  return locale;
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
