/**
 * The agent side, for holders of one of the organization's admin keys:
 * list conversations, read one, reply, close, and a live stream of every
 * conversation. A conversation id of another organization is simply not found.
 *
 * @module
 */

import type { Conversation } from "../../chat/chat_store.ts";
import { isFeedCursor } from "../../chat/live_feed.ts";
import { bearerToken } from "../credentials.ts";
import type { MethodContext, MethodDefinition } from "../method.ts";
import { RpcError } from "../rpc_error.ts";
import type { VisitorReferences } from "../visitor_reference.ts";
import type { CompiledOrganization } from "../../policy/types.ts";
import {
  type AgentIdentity,
  CONVERSATION_VIEWS,
  type ConversationSummary,
  MAX_MESSAGE_LENGTH,
} from "../../wire/mod.ts";
import { messageText, resumeCursor } from "./chat_messages.ts";
import { FramedWatch } from "./watch_frames.ts";

/**
 * `agent.listConversations {organizationId, cursor?, limit?, filter?}`,
 * newest first, with who the caller is and every agent of the organization.
 */
export const listConversations: MethodDefinition<"agent.listConversations"> = {
  access: "agent",
  async run({ organization, params, services, agent }) {
    const cursor = params.optionalString("cursor", 256);
    const limit = params.optionalInteger("limit", 1, 100);
    const filter = params.optionalString("filter", 16) ?? "all";
    if (!(CONVERSATION_VIEWS as readonly string[]).includes(filter)) {
      throw new RpcError(
        "BAD_REQUEST",
        `Field "filter" must be one of ${CONVERSATION_VIEWS.join(", ")}`,
        { reason: "param.filter.type" },
      );
    }
    const page = await services.chat.listConversations(organization.spec.id, {
      ...(cursor === undefined ? {} : { cursor }),
      ...(limit === undefined ? {} : { limit }),
      ...(filter === "mine" ? { filter: { assignee: agent!.id } } : {}),
      ...(filter === "unassigned" ? { filter: { assignee: null } } : {}),
    });
    return {
      conversations: page.conversations.map((conversation) =>
        summarize(conversation, services.visitorReferences)
      ),
      ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
      agent: agent!,
      agents: agentsOf(organization),
    };
  },
};

/** `agent.getConversation {organizationId, conversationId}`. */
export const getConversation: MethodDefinition<"agent.getConversation"> = {
  access: "agent",
  async run(context) {
    const conversation = await findConversation(context);
    const after = context.params.optionalString("after", 64);
    const messages = await context.services.chat.listMessages(
      context.organization.spec.id,
      conversation.id,
      { limit: 200, ...(after === undefined ? {} : { after }) },
    );
    return {
      conversation: summarize(
        conversation,
        context.services.visitorReferences,
      ),
      messages,
    };
  },
};

/** `agent.reply {organizationId, conversationId, text}`. */
export const reply: MethodDefinition<"agent.reply"> = {
  access: "agent",
  async run(context) {
    const text = messageText(
      context.params.optionalText("text", MAX_MESSAGE_LENGTH * 2),
    );
    const conversation = await findConversation(context);
    const message = await context.services.chat.append(
      context.organization.spec.id,
      conversation.id,
      "agent",
      text,
      { keep: context.organization.spec.maxMessages, agent: context.agent! },
    );
    return { message };
  },
};

/**
 * `agent.assign {organizationId, conversationId, agentId}`: hands a
 * conversation to one of the organization's agents, or (`null`) to nobody.
 */
export const assign: MethodDefinition<"agent.assign"> = {
  access: "agent",
  async run(context) {
    const conversation = await findConversation(context);
    const agentId = context.params.nullableString("agentId", 64);
    const agent = agentId === null
      ? null
      : agentsOf(context.organization).find(({ id }) => id === agentId);
    if (agent === undefined) {
      throw new RpcError(
        "BAD_REQUEST",
        "No such agent in this organization",
        { reason: "param.agentId.unknown" },
      );
    }
    const assigned = await context.services.chat.assign(
      context.organization.spec.id,
      conversation.id,
      agent,
    );
    return changeAnswer(context, conversation, assigned);
  },
};

/** `agent.typing {organizationId, conversationId}`: the visitor sees "… is typing". */
export const typing: MethodDefinition<"agent.typing"> = {
  access: "agent",
  async run(context) {
    const conversation = await findConversation(context);
    await context.services.chat.typing(
      context.organization.spec.id,
      conversation.id,
      "agent",
      context.agent!,
    );
    return {};
  },
};

/** `agent.close {organizationId, conversationId}`. */
export const close: MethodDefinition<"agent.close"> = {
  access: "agent",
  async run(context) {
    const conversation = await findConversation(context);
    const closed = await context.services.chat.close(
      context.organization.spec.id,
      conversation.id,
    );
    return changeAnswer(context, conversation, closed);
  },
};

/**
 * `agent.stream {organizationId}`: new messages and closes of every
 * conversation, for as long as the admin key stays in the policy.
 */
export const streamAll: MethodDefinition<"agent.stream"> = {
  access: "agent",
  async run(context) {
    const organizationId = context.organization.spec.id;
    const key = bearerToken(context.request)!;
    const agent = context.agent!;
    // A position past the feed's head was never handed out either.
    const after = await resumeCursor(
      context,
      async (cursor) =>
        isFeedCursor(cursor) &&
        Number(cursor) <=
          await context.services.live.feedHead(organizationId),
    );
    return context.services.streams.open(
      {
        credential: `agent:${organizationId}:${agent.id}`,
        ip: context.ip,
        check: (evaluator) =>
          evaluator.identifyAdminKey(organizationId, key)?.id === agent.id
            ? undefined
            : "agent.key_invalid",
        // Visitors see an agent online while the inbox is open.
        hold: () => context.services.presence.hold(organizationId, agent.id),
      },
      (sink) =>
        context.services.live.watchOrganization(
          organizationId,
          { after },
          new FramedWatch(
            sink,
            "agents",
            (conversation) =>
              summarize(conversation, context.services.visitorReferences),
          ),
        ),
    );
  },
};

/** Every agent of the organization, as others may see them (never a key). */
function agentsOf(organization: CompiledOrganization): AgentIdentity[] {
  return organization.spec.adminKeys.map(({ id, name }) => ({ id, name }));
}

/**
 * What a method that changes a conversation answers: the conversation as
 * changed, or as found when there was nothing to change (already closed,
 * already with that agent).
 */
function changeAnswer(
  context: MethodContext,
  found: Conversation,
  changed: Conversation | undefined,
): { conversation: ConversationSummary } {
  return {
    conversation: summarize(
      changed ?? found,
      context.services.visitorReferences,
    ),
  };
}

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

/**
 * A conversation as the agent side sees it: a verified user by their `sub`,
 * an anonymous visitor by a reference, never by the `visitorId` (a
 * credential: whoever holds it reads and writes the conversation).
 *
 * @param conversation The stored conversation.
 * @param references Turns a visitor id into its reference.
 * @returns The summary.
 */
export function summarize(
  conversation: Conversation,
  references: VisitorReferences,
): ConversationSummary {
  const { participant, page, contact, language } = conversation;
  const { name, email, userId, userData } = conversation.attributes;
  return {
    id: conversation.id,
    visitor: {
      id: participant.kind === "user"
        ? participant.subject
        : references.of(participant.visitorId),
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
    ...(page === undefined ? {} : { page }),
    ...(contact === undefined ? {} : { contact }),
    ...(language === undefined ? {} : { language }),
    ...(conversation.verified && userData !== undefined ? { userData } : {}),
  };
}
