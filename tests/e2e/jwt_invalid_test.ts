import assert from "node:assert/strict";
import { securityErrors, widgetParts } from "./browser.ts";
import { mintChatToken } from "./chat_token.ts";
import {
  ACME_JWT_SECRET,
  EVIL_HOST,
  openWidgetFixture,
  SHOP_HOST,
} from "./widget_fixture.ts";

const attacks: {
  name: string;
  token: (shopOrigin: string) => string;
  reason: string;
}[] = [
  {
    name: "a token signed with another secret",
    token: (iss) =>
      mintChatToken("an-attacker-guessed-secret-0123456789", {
        iss,
        sub: "u1",
        org_id: "acme-secure",
      }),
    reason: "jwt.signature",
  },
  {
    name: "a token for another audience",
    token: (iss) =>
      mintChatToken(ACME_JWT_SECRET, {
        iss,
        sub: "u1",
        org_id: "acme-secure",
        aud: "billing",
      }),
    reason: "jwt.aud",
  },
  {
    name: "a token issued for another origin",
    token: () =>
      mintChatToken(ACME_JWT_SECRET, {
        iss: "http://evil.test",
        sub: "u1",
        org_id: "acme-secure",
      }),
    reason: "jwt.iss",
  },
  {
    name: "a token for another organization",
    token: (iss) =>
      mintChatToken(ACME_JWT_SECRET, { iss, sub: "u1", org_id: "acme" }),
    reason: "jwt.org_id",
  },
  {
    name: "a truncated token",
    token: (iss) =>
      mintChatToken(ACME_JWT_SECRET, { iss, sub: "u1", org_id: "acme-secure" })
        .slice(0, 40),
    reason: "jwt.malformed",
  },
];

Deno.test("bad tokens get JWT_INVALID with the failed check as reason, and no widget", async (t) => {
  await using fixture = await openWidgetFixture();
  const shopOrigin = fixture.site.origin(SHOP_HOST);
  for (const attack of attacks) {
    await t.step(attack.name, async () => {
      const { page, watch } = await fixture.visit({
        boot: {
          organizationId: "acme-secure",
          userJWT: attack.token(shopOrigin),
        },
      });
      const [error] = await securityErrors(page);
      assert.equal(error?.code, "JWT_INVALID");
      assert.equal(error?.reason, attack.reason);
      assert.equal(await widgetParts(page).host.count(), 0);
      assert.deepEqual(watch.pageErrors, []);
    });
  }
  assert.notEqual(shopOrigin, `http://${EVIL_HOST}`);
});
