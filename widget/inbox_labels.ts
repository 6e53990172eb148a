/**
 * How the inbox names people: a visitor by what they told the page (their
 * name or email), else a verified user by their token's `sub` and an
 * anonymous visitor by the first characters of their reference (`v.3kP9xQ2a`,
 * never the `visitorId`); with ✓ or "(unverified)" after it. An agent by
 * their key's name, "(you)" for the one signed in. The language a visitor
 * reads the widget in by its English name and tag, "German (de)", so an
 * agent knows which language to answer in.
 *
 * @module
 */

import {
  type AgentIdentity,
  type ConversationSummary,
  VISITOR_REFERENCE_PREFIX,
} from "../wire/mod.ts";
import { inboxText } from "./inbox_strings.ts";

/** Characters of an anonymous visitor's reference shown after its `v.`. */
const SHORT_REFERENCE = 8;

/**
 * @param conversation The conversation whose visitor to name.
 * @returns The name, without the verified mark.
 */
export function visitorName(conversation: ConversationSummary): string {
  const { name, email, id } = conversation.visitor;
  const reference = conversation.verified
    ? id
    : `${VISITOR_REFERENCE_PREFIX}${
      id.slice(VISITOR_REFERENCE_PREFIX.length).slice(0, SHORT_REFERENCE)
    }`;
  return name ?? email ?? reference;
}

/**
 * @param conversation The conversation whose visitor to name.
 * @returns The name with ✓ (verified) or "(unverified)": the list's, the
 *   thread's heading and a notification's title.
 */
export function visitorLabel(conversation: ConversationSummary): string {
  const visitor = visitorName(conversation);
  return conversation.verified
    ? inboxText("visitorVerified", { visitor })
    : inboxText("visitorUnverified", { visitor });
}

/**
 * @param agent The agent to name.
 * @param me The agent signed in, if known.
 * @returns The agent's name, with "(you)" for the one signed in.
 */
export function agentLabel(
  agent: AgentIdentity,
  me: AgentIdentity | undefined,
): string {
  return agent.id === me?.id
    ? inboxText("agentYou", { agent: agent.name })
    : agent.name;
}

/**
 * @param tag The locale the visitor reads the widget in (`de`, `pt-BR`).
 * @returns Its English name (from `Intl.DisplayNames`) and the tag,
 *   `German (de)`; the tag alone when the browser has no name for it.
 */
export function languageLabel(tag: string): string {
  let language: string | undefined;
  try {
    language = new Intl.DisplayNames(["en"], { type: "language" }).of(tag);
  } catch {
    return tag;
  }
  return language && language !== tag
    ? inboxText("languageName", { language, tag })
    : tag;
}
