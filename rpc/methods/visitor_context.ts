/**
 * What the visitor's session tells agents besides messages: that they are
 * typing (`chat.typing`), where to answer them when nobody is online
 * (`chat.setContact`), and the page they moved to (`chat.setPage`, for
 * single-page sites that navigate without booting again).
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
    await services.chat.typing(
      organization.spec.id,
      session!.conversationId,
      "visitor",
    );
    return {};
  },
};

/** `chat.setContact {email}` → `{contact}`: where agents may answer by email. */
export const setContact: MethodDefinition<"chat.setContact"> = {
  access: "session",
  async run({ organization, params, session, services }) {
    const email = emailAddress(params);
    const conversation = await services.chat.setContact(
      organization.spec.id,
      session!.conversationId,
      email,
    );
    return { contact: conversation?.contact ?? { email } };
  },
};

/**
 * `chat.setPage {url, title?, referrer?}` → `{page}`, or `{page: null}` when
 * the URL is not on the session's origin (it is then not stored).
 */
export const setPage: MethodDefinition<"chat.setPage"> = {
  access: "session",
  async run({ organization, params, session, services }) {
    const page = pageContext(params, session!.origin);
    if (page === undefined) return { page: null };
    await services.chat.setPage(
      organization.spec.id,
      session!.conversationId,
      page,
    );
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
