import assert from "node:assert/strict";
import { hourStart } from "../../observability/security_tally.ts";
import { testEachEngine } from "../store_engines.ts";
import { widgetReady } from "./browser.ts";
import { mintChatToken, TOKEN_FETCHER_SCRIPT } from "./chat_token.ts";
import {
  ACME_ADMIN_KEY,
  ACME_JWT_SECRET,
  EVIL_HOST,
  openWidgetFixture,
  SHOP_HOST,
} from "./widget_fixture.ts";

const ACME_OLD_JWT_SECRET = "e2e-acme-old-jwt-secret-0123456789abcdef";

/** acme in the migration's middle: domains in report mode, JWT optional, a new key and the old one. */
function migratingPolicy(shopOrigin: string): string {
  return `version: 1
defaults:
  limits: { organization: 1000/minute, ip: 1000/minute }
organizations:
  acme:
    name: Acme Inc.
    domains: { mode: report, allow: ["${shopOrigin}"] }
    jwt:
      mode: optional
      keys:
        - { id: "2026-11", secret: { env: ACME_JWT_SECRET } }
        - { id: "2026-08", secret: { env: ACME_OLD_JWT_SECRET } }
    admin:
      keys: [{ secret: { env: ACME_ADMIN_KEY } }]
`;
}

testEachEngine(
  "the /agent Security view shows the report of known traffic in words, a chart, keys and origins",
  async (engine) => {
    const store = await engine.location();
    const threeDaysAgo = Date.now() - 3 * 24 * 3_600_000;
    {
      // The old key's last boots, from before this test.
      await using history = await engine.open(store);
      await history.securityCounters.add([{
        organizationId: "acme",
        hour: hourStart(threeDaysAgo),
        metric: "key",
        key: "2026-08",
        count: 40,
        lastSeen: threeDaysAgo,
      }]);
    }
    await using fixture = await openWidgetFixture({
      policy: migratingPolicy,
      env: { ACME_OLD_JWT_SECRET },
      store,
    });
    const shop = fixture.site.origin(SHOP_HOST);
    const evil = fixture.site.origin(EVIL_HOST);

    // A signed-in visitor whose page first hands the widget a stale token:
    // the widget's one retry costs one failed authentication.
    const now = Math.floor(Date.now() / 1000);
    let issued = 0;
    fixture.site.serve("/token.js", TOKEN_FETCHER_SCRIPT);
    fixture.site.serve("/chat-token", () => {
      issued += 1;
      const claims = { iss: shop, sub: "user-7", org_id: "acme" };
      return Response.json({
        token: mintChatToken(
          ACME_JWT_SECRET,
          issued === 1
            ? { ...claims, iat: now - 1200, exp: now - 600 }
            : claims,
          "2026-11",
        ),
      });
    });
    const visitor = await fixture.visit({ scriptsBefore: ["/token.js"] });
    await widgetReady(visitor.page);
    assert.equal(issued, 2);
    // More of the day's traffic: signed boots, anonymous ones, and a page
    // off the allow list that report mode still admits.
    const boot = (origin: string, token?: string) =>
      fixture.server.rpc("chat.boot", { organizationId: "acme" }, {
        origin,
        ...(token === undefined ? {} : { token }),
      });
    for (let i = 0; i < 3; i++) {
      const signed = mintChatToken(
        ACME_JWT_SECRET,
        { iss: shop, sub: `user-${i}`, org_id: "acme" },
        "2026-11",
      );
      assert.equal((await boot(shop, signed)).status, 200);
    }
    assert.equal((await boot(shop)).status, 200);
    assert.equal((await boot(evil)).status, 200);
    assert.equal((await boot(evil)).status, 200);

    const agent = await fixture.newPage();
    await agent.page.goto(`${fixture.server.baseUrl}/agent`);
    await agent.page.getByLabel("Organization id").fill("acme");
    await agent.page.getByLabel("Admin key").fill(ACME_ADMIN_KEY);
    await agent.page.getByRole("button", { name: "Open inbox" }).click();
    await agent.page.getByRole("button", { name: "Security" }).click();
    const view = agent.page.locator("#security");
    const summary = view.locator(".security-summary p");
    await summary.first().waitFor();
    assert.equal(await agent.page.locator("#inbox").isVisible(), false);
    assert.deepEqual(await summary.allInnerTexts(), [
      "57.1% of the 7 boots admitted in the last 24 h carried a valid token.",
      `required would have refused 3 of 7, from these origins: ${evil} (2), ${shop} (1).`,
      `enforce would have refused 2 of 7, from this origin: ${evil} (2).`,
      "1 boot carried an invalid token: jwt.expired 1.",
      "The failed-authentication limit (10/10m per address) blocked nothing.",
    ]);
    assert.deepEqual(await view.locator(".security-keys li").allInnerTexts(), [
      "key 2026-11 last used just now: still in use",
      "key 2026-08 last used 3 days ago: safe to retire",
    ]);
    assert.deepEqual(
      await view.locator(".security-origins tbody tr").allInnerTexts(),
      [`${shop}\t6\t1`, `${evil}\t2\t0`],
    );
    // The chart: one bar per hour, stacked by token state, one scale.
    const chart = view.getByRole("img", { name: /Boots per hour/ });
    assert.equal(await chart.locator("g").count(), 24);
    const drawn = await chart.locator("g rect").evaluateAll((rects) => {
      const heights: Record<string, number> = {};
      for (const rect of rects) {
        const fill = rect.getAttribute("fill")!;
        heights[fill] = (heights[fill] ?? 0) +
          Number(rect.getAttribute("height"));
      }
      return heights;
    });
    const unit = drawn["#cf222e"]!;
    assert.deepEqual(
      Object.fromEntries(
        Object.entries(drawn).map((
          [fill, height],
        ) => [fill, Math.round(height / unit)]),
      ),
      { "#1a7f37": 4, "#8c959f": 3, "#cf222e": 1 },
      "verified, absent and invalid boots as 4 : 3 : 1",
    );

    // A week's window: the same boots, one bar per hour of 7 days.
    await view.getByLabel("Window").selectOption("168");
    await summary.first().filter({ hasText: "last 7 days" }).waitFor();
    assert.equal(await chart.count(), 1, "the chart is replaced, not added");
    assert.equal(await chart.locator("g").count(), 168);
    assert.equal(
      await summary.first().innerText(),
      "57.1% of the 7 boots admitted in the last 7 days carried a valid token.",
    );

    await agent.page.getByRole("button", { name: "Conversations" }).click();
    assert.equal(await agent.page.locator("#inbox").isVisible(), true);
    assert.equal(await view.isVisible(), false);
    assert.deepEqual(agent.watch.pageErrors, []);
    const violations = await agent.page.evaluate(() =>
      (globalThis as unknown as { parleyCspViolations: string[] })
        .parleyCspViolations
    );
    assert.deepEqual(violations, [], "the view breaks the page's strict CSP");
  },
);
