/**
 * What the visitor's session tells agents besides messages: that they are
 * typing (`chat.typing`), where to answer them when nobody is online
 * (`chat.setContact`), and the page they moved to (`chat.setPage`, for
 * single-page sites that navigate without booting again). Typing and pages
 * go to the participant's open conversation and are dropped while there is
 * none; leaving an address starts one, as a first message does.
 *
 * @module
 */

import type { MethodDefinition } from "../method.ts";
import { pageContext } from "../page_context.ts";
import type { Params } from "../params.ts";
import { RpcError } from "../rpc_error.ts";
import { isEmailAddress, MAX_EMAIL_LENGTH } from "../../wire/mod.ts";

/** `chat.typing {}` → `{}`: agents' streams get a `typing` event. */
export const typing: MethodDefinition<"chat.typing"> = {
  access: "session",
  async run({ organization, session, services }) {
    const conversation = await services.chat.findConversation(
      organization.spec.id,
      session!.participant,
    );
    if (conversation !== undefined) {
      await services.chat.typing(
        organization.spec.id,
        conversation.id,
        "visitor",
      );
    }
    return {};
  },
};

/** `chat.setContact {email}` → `{contact}`: where agents may answer by email. */
export const setContact: MethodDefinition<"chat.setContact"> = {
  access: "session",
  async run({ organization, params, session, services }) {
    const email = emailAddress(params);
    const open = await services.chat.conversationFor(
      organization.spec.id,
      session!.participant,
      session!.attributes ?? {},
    );
    const conversation = await services.chat.setContact(
      organization.spec.id,
      open.id,
      email,
    );
    return { contact: conversation?.contact ?? { email } };
  },
};

/**
 * `chat.setPage {url, title?, referrer?}` → `{page}`, or `{page: null}` when
 * the URL is not on the session's origin or the visitor has no open
 * conversation yet (it is then not stored; the widget sends the page with
 * the first message).
 */
export const setPage: MethodDefinition<"chat.setPage"> = {
  access: "session",
  async run({ organization, params, session, services }) {
    const page = pageContext(params, session!.origin);
    if (page === undefined) return { page: null };
    const conversation = await services.chat.findConversation(
      organization.spec.id,
      session!.participant,
    );
    if (conversation === undefined) return { page: null };
    await services.chat.setPage(organization.spec.id, conversation.id, page);
    return { page };
  },
};

function emailAddress(params: Params): string {
  const email = params.requiredString("email", MAX_EMAIL_LENGTH).trim();
  // Unverified either way; a shape that cannot rewrite the agents' mailto:.
  if (!isEmailAddress(email)) {
    throw new RpcError(
      "BAD_REQUEST",
      'Field "email" is not an email address',
      { reason: "param.email.invalid" },
    );
  }
  return email;
}
