/**
 * The agent side, for holders of one of the organization's admin keys:
 * list conversations, read one, reply, close, and a live stream of every
 * conversation. A conversation id of another organization is simply not found.
 *
 * @module
 */

import type { Conversation } from "../../chat/chat_store.ts";
import { bearerToken } from "../admission.ts";
import type { MethodContext, MethodDefinition } from "../method.ts";
import { RpcError } from "../rpc_error.ts";
import { type ConversationSummary, MAX_MESSAGE_LENGTH } from "../wire.ts";
import { frames, messageText, resumeCursor } from "./chat_messages.ts";

/** `agent.listConversations {organizationId, cursor?}`, newest first. */
export const listConversations: MethodDefinition = {
  access: "agent",
  async run({ organization, params, services }) {
    const cursor = params.optionalString("cursor", 256);
    const limit = params.optionalInteger("limit", 1, 100);
    const page = await services.chat.listConversations(organization.spec.id, {
      ...(cursor === undefined ? {} : { cursor }),
      ...(limit === undefined ? {} : { limit }),
    });
    return {
      conversations: page.conversations.map(summarize),
      ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
    };
  },
};

/** `agent.getConversation {organizationId, conversationId}`. */
export const getConversation: MethodDefinition = {
  access: "agent",
  async run(context) {
    const conversation = await findConversation(context);
    const after = context.params.optionalString("after", 64);
    const messages = await context.services.chat.listMessages(
      context.organization.spec.id,
      conversation.id,
      { limit: 200, ...(after === undefined ? {} : { after }) },
    );
    return { conversation: summarize(conversation), messages };
  },
};

/** `agent.reply {organizationId, conversationId, text}`. */
export const reply: MethodDefinition = {
  access: "agent",
  async run(context) {
    const text = messageText(
      context.params.optionalString("text", MAX_MESSAGE_LENGTH * 2),
    );
    const conversation = await findConversation(context);
    const message = await context.services.chat.append(
      context.organization.spec.id,
      conversation.id,
      "agent",
      text,
      { keep: context.organization.spec.maxMessages },
    );
    return { message };
  },
};

/** `agent.close {organizationId, conversationId}`. */
export const close: MethodDefinition = {
  access: "agent",
  async run(context) {
    const conversation = await findConversation(context);
    const closed = await context.services.chat.close(
      context.organization.spec.id,
      conversation.id,
    );
    return { conversation: summarize(closed ?? conversation) };
  },
};

/**
 * `agent.stream {organizationId}`: new messages and closes of every
 * conversation, for as long as the admin key stays in the policy.
 */
export const streamAll: MethodDefinition = {
  access: "agent",
  run(context) {
    const organizationId = context.organization.spec.id;
    const key = bearerToken(context.request)!;
    const after = resumeCursor(context);
    return Promise.resolve(context.services.streams.open(
      {
        credential: `agent:${organizationId}:${key}`,
        ip: context.ip,
        check: (evaluator) =>
          evaluator.verifyAdminKey(organizationId, key)
            ? undefined
            : "agent.key_invalid",
      },
      (signal) =>
        frames(
          context.services.live.organization(organizationId, {
            signal,
            ...(after === undefined ? {} : { after }),
          }),
        ),
      context.request,
    ));
  },
};

async function findConversation(context: MethodContext): Promise<Conversation> {
  const id = context.params.requiredString("conversationId", 128);
  const conversation = await context.services.chat.getConversation(
    context.organization.spec.id,
    id,
  );
  if (conversation === undefined) {
    throw new RpcError(
      "BAD_REQUEST",
      "No such conversation in this organization",
      {
        reason: "param.conversationId.unknown",
      },
    );
  }
  return conversation;
}

/** A conversation as the agent side sees it. */
export function summarize(conversation: Conversation): ConversationSummary {
  const participant = conversation.participant;
  const { name, email, userId, userData } = conversation.attributes;
  return {
    id: conversation.id,
    visitor: {
      id: participant.kind === "user"
        ? participant.subject
        : participant.visitorId,
      ...(name === undefined ? {} : { name }),
      ...(email === undefined ? {} : { email }),
      ...(userId === undefined ? {} : { userId }),
    },
    verified: conversation.verified,
    status: conversation.status,
    lastMessage: conversation.lastMessage ?? null,
    updatedAt: conversation.updatedAt,
    trimmed: conversation.trimmed,
    assignee: conversation.assignee ?? null,
    ...(conversation.page === undefined ? {} : { page: conversation.page }),
    ...(conversation.contact === undefined
      ? {}
      : { contact: conversation.contact }),
    ...(conversation.verified && userData !== undefined ? { userData } : {}),
  };
}
