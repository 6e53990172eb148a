import assert from "node:assert/strict";
import { recordedErrors, widgetParts, widgetReady } from "./browser.ts";
import { mintChatToken, TOKEN_FETCHER_SCRIPT } from "./chat_token.ts";
import {
  ACME_JWT_SECRET,
  openWidgetFixture,
  SHOP_HOST,
} from "./widget_fixture.ts";

Deno.test("an expired token is replaced once through getUserJWT and the boot succeeds", async () => {
  await using fixture = await openWidgetFixture();
  const iss = fixture.site.origin(SHOP_HOST);
  const now = Math.floor(Date.now() / 1000);
  let issued = 0;
  fixture.site.serve("/token.js", TOKEN_FETCHER_SCRIPT);
  // The site's token endpoint first hands out a stale token (a cached one), then fresh ones.
  fixture.site.serve("/chat-token", () => {
    issued += 1;
    const claims = { iss, sub: "user-7", org_id: "acme-secure" };
    const token = issued === 1
      ? mintChatToken(ACME_JWT_SECRET, {
        ...claims,
        iat: now - 1200,
        exp: now - 600,
      })
      : mintChatToken(ACME_JWT_SECRET, claims);
    return Response.json({ token });
  });
  const { page, watch } = await fixture.visit({
    scriptsBefore: ["/token.js"],
    boot: { organizationId: "acme-secure" },
  });
  await widgetReady(page);
  await widgetParts(page).launcher.waitFor({ state: "visible" });
  assert.equal(
    await page.evaluate(() =>
      (globalThis as unknown as { parleyTokenCalls: number }).parleyTokenCalls
    ),
    2,
  );
  assert.equal(issued, 2);
  assert.deepEqual(await recordedErrors(page), []);
  assert.deepEqual(watch.pageErrors, []);
});

Deno.test("a second expired token is reported as JWT_INVALID, not retried forever", async () => {
  await using fixture = await openWidgetFixture();
  const iss = fixture.site.origin(SHOP_HOST);
  const now = Math.floor(Date.now() / 1000);
  let issued = 0;
  fixture.site.serve("/token.js", TOKEN_FETCHER_SCRIPT);
  fixture.site.serve("/chat-token", () => {
    issued += 1;
    const token = mintChatToken(ACME_JWT_SECRET, {
      iss,
      sub: "user-7",
      org_id: "acme-secure",
      iat: now - 1200,
      exp: now - 600,
    });
    return Response.json({ token });
  });
  const { page } = await fixture.visit({
    scriptsBefore: ["/token.js"],
    boot: { organizationId: "acme-secure" },
  });
  await page.waitForFunction(() =>
    (globalThis as unknown as { parleyErrors: unknown[] }).parleyErrors.length >
      0
  );
  const [error] = await recordedErrors(page);
  assert.equal(error?.code, "JWT_INVALID");
  assert.equal(error?.reason, "jwt.expired");
  assert.equal(issued, 2);
  assert.equal(await widgetParts(page).host.count(), 0);
});
