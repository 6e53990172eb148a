/**
 * Who a conversation belongs to, checked and copied: a verified user (the
 * token's `sub`) or an anonymous visitor (a server-issued random id).
 *
 * @module
 */

import type { Participant } from "../store/conversation_store.ts";
import { ChatError } from "./chat_error.ts";

const PARTICIPANT_ID_MAX = 256;
const VISITOR_ID_PATTERN = /^[A-Za-z0-9_-]{22,64}$/;

/**
 * Whether `id` has the shape of a visitor id from
 * `ChatStore.newVisitorId()`; the RPC layer issues a fresh id for any
 * other value a page sends.
 *
 * @param id A client-sent visitor id.
 * @returns `true` when it can be used as a visitor id.
 */
export function isVisitorId(id: string): boolean {
  return VISITOR_ID_PATTERN.test(id);
}

/**
 * Refuses a participant whose id a store must not key on.
 *
 * @throws {ChatError} `participant-invalid`.
 */
export function checkParticipant(participant: Participant): void {
  const id = participant.kind === "user"
    ? participant.subject
    : participant.visitorId;
  const valid = participant.kind === "user"
    ? typeof id === "string" && id !== "" && id.length <= PARTICIPANT_ID_MAX
    : typeof id === "string" && isVisitorId(id);
  if (!valid) {
    throw new ChatError(
      "participant-invalid",
      `Participant ${participant.kind} id is invalid`,
    );
  }
}

/** The participant's own fields only, whatever else the object carried. */
export function copyParticipant(participant: Participant): Participant {
  return participant.kind === "user"
    ? { kind: "user", subject: participant.subject }
    : { kind: "visitor", visitorId: participant.visitorId };
}
