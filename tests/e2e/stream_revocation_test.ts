import assert from "node:assert/strict";
import { securityErrors, widgetParts, widgetReady } from "./browser.ts";
import {
  ACME_ADMIN_KEY,
  openWidgetFixture,
  SHOP_HOST,
  type WidgetFixture,
} from "./widget_fixture.ts";

/** Rewrites the server's policy file and waits until it is in force. */
async function reload(fixture: WidgetFixture, policy: string): Promise<void> {
  const health = async () =>
    (await (await fetch(`${fixture.server.baseUrl}/healthz`)).json())
      .policyRevision;
  const before = await health();
  await Deno.writeTextFile(fixture.server.policyPath, policy);
  const deadline = Date.now() + 10_000;
  while (await health() === before) {
    assert.ok(Date.now() < deadline, "the policy was not reloaded");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

Deno.test("the /agent inbox asks to sign in again once its key leaves the policy", async () => {
  await using fixture = await openWidgetFixture();
  const agent = await fixture.newPage();
  await agent.page.goto(`${fixture.server.baseUrl}/agent`);
  await agent.page.getByLabel("Organization id").fill("acme");
  await agent.page.getByLabel("Admin key").fill(ACME_ADMIN_KEY);
  await agent.page.getByRole("button", { name: "Open inbox" }).click();
  await agent.page.getByRole("status").filter({ hasText: "Live" }).waitFor();

  // Ada's key (the one signed in) is replaced by another secret.
  await reload(
    fixture,
    fixture.policy.replace(
      "secret: { env: ACME_ADMIN_KEY } }\n        - { id: grace",
      "secret: { env: ACME_JWT_SECRET } }\n        - { id: grace",
    ),
  );
  await agent.page.getByRole("status").filter({ hasText: "sign in again" })
    .waitFor();
  assert.equal(await agent.page.locator("#login").isVisible(), true);
  assert.equal(await agent.page.locator("#inbox").isVisible(), false);
  assert.deepEqual(agent.watch.pageErrors, []);
});

Deno.test("a widget whose open panel's origin leaves the policy boots again and reports DOMAIN_NOT_ALLOWED", async () => {
  await using fixture = await openWidgetFixture();
  const { page, watch } = await fixture.visit({});
  await widgetReady(page);
  // An open panel holds a stream; a closed one with no conversation asks
  // nothing until its next call (tests/e2e/page_views_test.ts).
  const streaming = page.waitForResponse((response) =>
    response.url().endsWith("/rpc/chat.stream")
  );
  await widgetParts(page).launcher.click();
  await streaming;
  const shop = fixture.site.origin(SHOP_HOST);
  await reload(
    fixture,
    fixture.policy.replace(
      `acme:\n    name: Acme Inc.\n    domains: { mode: enforce, allow: ["${shop}"] }`,
      `acme:\n    name: Acme Inc.\n    domains: { mode: enforce, allow: ["https://elsewhere.example"] }`,
    ),
  );
  const [error] = await securityErrors(page);
  assert.equal(error?.code, "DOMAIN_NOT_ALLOWED");
  await widgetParts(page).host.waitFor({ state: "detached" });
  assert.deepEqual(watch.pageErrors, []);
});
