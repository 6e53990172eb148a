/**
 * Every RPC method by its wire name.
 *
 * @module
 */

import type { MethodDefinition } from "../method.ts";
import * as agent from "./agent.ts";
import { boot } from "./boot.ts";
import { listMessages, sendMessage } from "./chat_messages.ts";
import { getConfig } from "./get_config.ts";
import { getJwtDocs } from "./get_jwt_docs.ts";
import { securityReport } from "./security_report.ts";
import * as visitor from "./visitor_context.ts";
import { streamMessages } from "./visitor_stream.ts";

/** Method name → definition. A null prototype keeps `__proto__` & co. out. */
export const METHODS: Readonly<Record<string, MethodDefinition>> = Object
  .freeze(
    Object.assign(Object.create(null), {
      "chat.getConfig": getConfig,
      "chat.getJWTDocs": getJwtDocs,
      "chat.boot": boot,
      "chat.sendMessage": sendMessage,
      "chat.listMessages": listMessages,
      "chat.stream": streamMessages,
      "chat.typing": visitor.typing,
      "chat.setContact": visitor.setContact,
      "chat.setPage": visitor.setPage,
      "agent.listConversations": agent.listConversations,
      "agent.getConversation": agent.getConversation,
      "agent.reply": agent.reply,
      "agent.close": agent.close,
      "agent.assign": agent.assign,
      "agent.typing": agent.typing,
      "agent.stream": agent.streamAll,
      "agent.securityReport": securityReport,
    }),
  );
