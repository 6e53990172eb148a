/**
 * Conversations for the inbox's browser tests, written over the wire as the
 * shop's visitors would: one named visitor with a page, a referrer, a
 * contact address and an agent's answer, and one anonymous visitor known
 * only by their reference.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  ACME_ADMIN_KEY,
  SHOP_HOST,
  type WidgetFixture,
} from "./widget_fixture.ts";

/** A visitor of the shop: boots (with `boot`'s fields) and writes each text. */
export async function visitorWrites(
  fixture: WidgetFixture,
  boot: Record<string, unknown>,
  ...texts: string[]
): Promise<{ token: string; conversationId: string }> {
  const origin = fixture.site.origin(SHOP_HOST);
  const booted = await fixture.server.rpc("chat.boot", {
    organizationId: "acme",
    ...boot,
  }, { origin });
  assert.equal(booted.status, 200, JSON.stringify(booted.body));
  const token: string = booted.body.data.session.token;
  for (const text of texts) {
    const sent = await fixture.server.rpc("chat.sendMessage", { text }, {
      origin,
      token,
    });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
  }
  // Found by its last message: a boot may create no conversation, the first
  // message does.
  const listed = await fixture.server.rpc("agent.listConversations", {
    organizationId: "acme",
  }, { token: ACME_ADMIN_KEY });
  const conversation = listed.body.data.conversations.find((
    { lastMessage }: { lastMessage: { text: string } | null },
  ) => lastMessage?.text === texts.at(-1));
  assert.ok(conversation, "the conversation is listed");
  return { token, conversationId: conversation.id };
}

/**
 * Pat, on the jackets page with a contact address, answered by Ada; and an
 * anonymous visitor asking about delivery.
 *
 * @returns Pat's conversation id and session token.
 */
export async function seedInbox(
  fixture: WidgetFixture,
): Promise<{ token: string; conversationId: string }> {
  await visitorWrites(
    fixture,
    {},
    "Do you deliver to Norway? And how long does it take?",
  );
  const pat = await visitorWrites(fixture, {
    name: "Pat Visitor",
    email: "pat@example.com",
    page: {
      url: fixture.site.url(SHOP_HOST, "/jackets/blue"),
      title: "Blue jacket — Acme shop",
      referrer: fixture.site.url(SHOP_HOST, "/jackets"),
    },
  }, "Hi! Does the blue jacket come in size M?");
  const contact = await fixture.server.rpc("chat.setContact", {
    email: "pat@example.com",
  }, { origin: fixture.site.origin(SHOP_HOST), token: pat.token });
  assert.equal(contact.status, 200);
  const replied = await fixture.server.rpc("agent.reply", {
    organizationId: "acme",
    conversationId: pat.conversationId,
    text: "It does! Shall I reserve one for you?",
  }, { token: ACME_ADMIN_KEY });
  assert.equal(replied.status, 200);
  return pat;
}

/** A visitor's next message in a seeded conversation. */
export async function visitorWritesAgain(
  fixture: WidgetFixture,
  token: string,
  text: string,
): Promise<void> {
  const sent = await fixture.server.rpc("chat.sendMessage", { text }, {
    origin: fixture.site.origin(SHOP_HOST),
    token,
  });
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
}
