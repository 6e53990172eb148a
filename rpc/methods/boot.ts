/**
 * `chat.boot`: turns an admitted page load into a session. A verified user is
 * their token's `sub` and finds their conversation on any device; anyone else
 * is an anonymous visitor with a server-issued random id, and the `user_id`,
 * `email` and `name` they send are kept only as unverified attributes.
 *
 * A boot stores nothing: it finds the participant's open conversation when
 * there is one (a new visitor has none, so that is not even read), and
 * otherwise carries the attributes in the session token for the
 * conversation the first message creates. The widget settings come with it
 * as `config`, so a page load costs one public request.
 *
 * @module
 */

import type { Participant } from "../../chat/chat_store.ts";
import { isVisitorId } from "../../chat/participant.ts";
import { randomId } from "../../chat/random_id.ts";
import type { ConversationAttributes } from "../../store/conversation_store.ts";
import type { MethodDefinition } from "../method.ts";
import { pageContext } from "../page_context.ts";
import { sessionOrigin } from "../session_token.ts";
import type { BootData } from "../../wire/mod.ts";
import { widgetConfig } from "./widget_config.ts";

/** Recent messages returned with the session. */
const RECENT_MESSAGES = 50;

/** The `chat.boot` method. */
export const boot: MethodDefinition<"chat.boot"> = {
  access: "public",
  takesUserToken: true,
  async run(context): Promise<BootData> {
    const { organization, params, decision, origin, services, now } = context;
    const organizationId = organization.spec.id;
    const identity = decision!.identity;
    const userId = params.optionalString("user_id", 256);
    const email = params.optionalString("email", 254);
    const name = params.optionalString("name", 200);
    const sentVisitorId = params.optionalString("visitorId", 64);
    const pageFields = params.optionalObject("page");
    const bound = sessionOrigin(origin);
    const page = pageFields === undefined
      ? undefined
      : pageContext(pageFields, bound);

    const userData = identity.userData ?? {};
    const returning = identity.verified ||
      (sentVisitorId !== undefined && isVisitorId(sentVisitorId));
    const participant: Participant = identity.verified
      ? { kind: "user", subject: identity.subject! }
      : {
        kind: "visitor",
        visitorId: returning ? sentVisitorId! : services.chat.newVisitorId(),
      };
    const shownName = stringField(userData, "name") ?? name;
    const shownEmail = stringField(userData, "email") ?? email;
    const attributes: ConversationAttributes = {
      ...(userId === undefined ? {} : { userId }),
      ...(shownEmail === undefined ? {} : { email: shownEmail }),
      ...(shownName === undefined ? {} : { name: shownName }),
      ...(identity.userData === undefined
        ? {}
        : { userData: { ...identity.userData } }),
    };
    const [conversation, config] = await Promise.all([
      // A visitor id minted just now has no conversation to find.
      returning
        ? services.chat.findConversation(
          organizationId,
          participant,
          attributes,
        )
        : undefined,
      widgetConfig(context),
    ]);
    const [messages, withPage] = conversation === undefined
      ? [[], undefined]
      : await Promise.all([
        services.chat.recentMessages(conversation, RECENT_MESSAGES),
        page === undefined
          ? conversation
          : services.chat.setPage(organizationId, conversation.id, page),
      ]);
    const expiresAt = now + services.sessionLifetimeMs;
    const token = services.sessions.issue({
      sessionId: randomId(16),
      organizationId,
      origin: bound,
      participant,
      verified: identity.verified,
      ...(Object.keys(attributes).length === 0 ? {} : { attributes }),
      securityRevision: organization.securityRevision,
      expiresAt,
    });
    const contact = withPage?.contact ?? conversation?.contact;
    return {
      session: { token, expiresAt: new Date(expiresAt).toISOString() },
      user: {
        id: participant.kind === "user"
          ? participant.subject
          : participant.visitorId,
        verified: identity.verified,
        ...(shownName === undefined ? {} : { name: shownName }),
        ...(shownEmail === undefined ? {} : { email: shownEmail }),
      },
      ...(participant.kind === "visitor"
        ? { visitorId: participant.visitorId }
        : {}),
      conversation: conversation === undefined ? null : {
        id: conversation.id,
        messages,
        ...(contact === undefined ? {} : { contact }),
      },
      agentsOnline: config.agentsOnline,
      withinHours: config.withinHours,
      config,
    };
  },
};

function stringField(
  record: Readonly<Record<string, unknown>>,
  name: string,
): string | undefined {
  const value = record[name];
  return typeof value === "string" && value.length <= 256 ? value : undefined;
}
