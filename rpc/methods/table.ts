/**
 * Every RPC method by its wire name.
 *
 * @module
 */

import type { RpcMethod } from "../../wire/mod.ts";
import type { MethodDefinition } from "../method.ts";
import * as agent from "./agent.ts";
import { boot } from "./boot.ts";
import { listMessages, sendMessage } from "./chat_messages.ts";
import { getConfig } from "./get_config.ts";
import { getJwtDocs } from "./get_jwt_docs.ts";
import { securityReport } from "./security_report.ts";
import * as visitor from "./visitor_context.ts";
import { streamMessages } from "./visitor_stream.ts";

/** Every method of the wire contract, each typed by its name. */
export type MethodTable = {
  readonly [M in RpcMethod]: MethodDefinition<M>;
};

const TABLE: MethodTable = {
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
};

/** Method name → definition. A null prototype keeps `__proto__` & co. out. */
export const METHODS: MethodTable = Object.freeze(
  Object.assign(Object.create(null), TABLE),
);

/**
 * @param name A method name from a request's path.
 * @returns Its definition, or `undefined` for a name the contract lacks.
 */
export function methodNamed(name: string): MethodDefinition | undefined {
  return isMethodName(name) ? METHODS[name] : undefined;
}

function isMethodName(name: string): name is RpcMethod {
  return Object.hasOwn(METHODS, name);
}
