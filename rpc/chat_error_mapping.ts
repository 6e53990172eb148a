/**
 * How chat-store refusals reach the wire. A closed conversation ends the
 * session (the widget boots again and gets a fresh conversation); the rest
 * are bad input.
 *
 * @module
 */

import type { ChatError } from "../chat/chat_error.ts";
import { RpcError } from "./rpc_error.ts";

/**
 * @param error A chat-store error.
 * @returns The wire error to answer with.
 */
export function rpcErrorFromChat(error: ChatError): RpcError {
  switch (error.code) {
    case "conversation-closed":
      return new RpcError(
        "SESSION_INVALID",
        "The conversation was closed; boot again",
        {
          reason: "session.conversation_closed",
        },
      );
    default:
      return new RpcError("BAD_REQUEST", error.message, {
        reason: `chat.${error.code}`,
      });
  }
}
