/**
 * What a page view costs, in real Chromium against the real server with the
 * seed's default limits (100 a minute per organization, 20 a minute per IP):
 * a returning visitor's pages ask nothing of the server, a stream runs only
 * for a conversation or an open panel, and the session kept between pages
 * follows identity, expiry and revocation.
 */

import assert from "node:assert/strict";
import type { BrowserContext, Page, Request } from "playwright-core";
import {
  bootScript,
  hostPage,
  recordedErrors,
  securityErrors,
  widgetParts,
  widgetReady,
} from "./browser.ts";
import { mintChatToken } from "./chat_token.ts";
import {
  ACME_ADMIN_KEY,
  ACME_JWT_SECRET,
  e2ePolicy,
  openWidgetFixture,
  type PageOptions,
  SHOP_HOST,
  type WidgetFixture,
} from "./widget_fixture.ts";

/** The e2e policy with the seed's default limits. */
function seedLimits(shopOrigin: string, webhookUrl: string): string {
  const policy = e2ePolicy(shopOrigin, webhookUrl);
  const seeded = policy.replace(
    "limits: { organization: 1000/minute, ip: 1000/minute }",
    "limits: { organization: 100/minute, ip: 20/minute }",
  );
  assert.notEqual(seeded, policy);
  return seeded;
}

/** The public entry points: what the per-IP limit counts. */
const PUBLIC = /\/rpc\/chat\.(boot|getConfig|getJWTDocs)$/;

/** Every RPC a browser context sends, with the time it was sent. */
class RpcLog {
  readonly calls: { method: string; at: number; request: Request }[] = [];

  constructor(context: BrowserContext) {
    context.on("request", (request) => {
      const method = /\/rpc\/([\w.]+)$/.exec(request.url())?.[1];
      if (method) this.calls.push({ method, at: Date.now(), request });
    });
  }

  count(method: string | RegExp): number {
    return this.calls.filter(({ request, method: name }) =>
      typeof method === "string"
        ? name === method
        : method.test(new URL(request.url()).pathname)
    ).length;
  }
}

/**
 * A host page at `path` that boots the widget with `boot`, served on the
 * shop's host; returns its URL.
 */
function servePage(
  fixture: WidgetFixture,
  path: string,
  boot: Record<string, unknown> = {},
): string {
  fixture.site.serve(
    `${path}/boot.js`,
    bootScript({
      apiBaseUrl: fixture.server.baseUrl,
      organizationId: "acme",
      ...boot,
    }),
  );
  fixture.site.serve(path, {
    body: hostPage([fixture.widgetUrl, `${path}/boot.js`]),
  });
  return fixture.site.url(SHOP_HOST, path);
}

/** A visitor: one browser context (its own localStorage), one tab. */
async function visitor(fixture: WidgetFixture, options?: PageOptions) {
  const { page, context, watch } = await fixture.newPage(options);
  return { page, context, watch, rpc: new RpcLog(context) };
}

/** Loads `url` and waits until the widget is ready, with no error reported. */
async function view(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await widgetReady(page);
  assert.equal(await widgetParts(page).launcher.isVisible(), true);
  assert.deepEqual(await recordedErrors(page), []);
}

/** The conversation id of the newest conversation in acme's inbox. */
async function newestConversation(fixture: WidgetFixture): Promise<string> {
  const reply = await fixture.server.rpc("agent.listConversations", {
    organizationId: "acme",
  }, { token: ACME_ADMIN_KEY });
  return reply.body.data.conversations[0].id;
}

Deno.test("one visitor loads 30 pages in a minute: the launcher on every page, no error, at most 2 public requests and no stream; writing opens one, the reply arrives live and is there on the next page", async () => {
  await using fixture = await openWidgetFixture({ policy: seedLimits });
  const url = servePage(fixture, "/shop");
  const { page, rpc, watch } = await visitor(fixture);
  // However long the machine takes, 2 public requests cannot spend 20/minute.
  for (let n = 1; n <= 30; n++) await view(page, `${url}?page=${n}`);
  assert.ok(rpc.count(PUBLIC) <= 2, `${rpc.count(PUBLIC)} public requests`);
  assert.equal(rpc.count("chat.stream"), 0, "nobody chats: no stream");
  assert.equal(rpc.count(/\/rpc\/chat\./), rpc.count(PUBLIC));

  const { launcher, log, input, panel } = widgetParts(page);
  await launcher.click();
  await input.fill("Do you ship to Norway?");
  await input.press("Enter");
  await log.locator('li.visitor:not([data-key^="local:"])', {
    hasText: "Do you ship to Norway?",
  }).waitFor();
  assert.ok(rpc.count("chat.stream") >= 1, "the open panel streams");
  const conversationId = await newestConversation(fixture);
  await fixture.server.rpc("agent.reply", {
    organizationId: "acme",
    conversationId,
    text: "Yes, in 3 days.",
  }, { token: ACME_ADMIN_KEY });
  await log.locator("li.agent", { hasText: "Yes, in 3 days." }).waitFor();

  // The next page: no boot; its one call is the conversation's stream.
  const before = rpc.calls.length;
  await view(page, `${url}?page=31`);
  await panel.waitFor({ state: "hidden" });
  await launcher.click();
  await log.locator("li.agent", { hasText: "Yes, in 3 days." }).waitFor();
  await log.locator("li.visitor", { hasText: "Do you ship to Norway?" })
    .waitFor();
  const calls = rpc.calls.slice(before).map(({ method }) => method);
  assert.deepEqual(calls, ["chat.stream"]);
  assert.deepEqual(watch.pageErrors, []);
});

Deno.test("ten visitors behind one address load 5 pages each within a minute: none is refused, at most 10 boots, no stream", async () => {
  await using fixture = await openWidgetFixture({ policy: seedLimits });
  const url = servePage(fixture, "/office");
  const visitors = [];
  for (let i = 0; i < 10; i++) visitors.push(await visitor(fixture));
  // All from 127.0.0.1: at most 10 public requests cannot spend 20/minute,
  // however long the machine takes to load the 50 pages.
  for (let n = 1; n <= 5; n++) {
    await Promise.all(
      visitors.map(({ page }) => view(page, `${url}?page=${n}`)),
    );
  }
  const boots = visitors.reduce((sum, { rpc }) => sum + rpc.count(PUBLIC), 0);
  assert.ok(boots <= 10, `${boots} boots`);
  for (const { rpc } of visitors) assert.equal(rpc.count("chat.stream"), 0);
});

Deno.test("identity: alice's conversation is never shown to bob on the next page, and after shutdown() an anonymous visitor starts empty", async () => {
  await using fixture = await openWidgetFixture({ policy: seedLimits });
  const shop = fixture.site.origin(SHOP_HOST);
  const token = (sub: string) =>
    mintChatToken(ACME_JWT_SECRET, {
      iss: shop,
      sub,
      org_id: "acme-optional",
      user_data: { name: sub },
    });
  const asAlice = servePage(fixture, "/alice", {
    organizationId: "acme-optional",
    userJWT: token("alice"),
  });
  const asBob = servePage(fixture, "/bob", {
    organizationId: "acme-optional",
    userJWT: token("bob"),
  });
  const { page, rpc } = await visitor(fixture);
  const { launcher, log, input } = widgetParts(page);

  await view(page, asAlice);
  await launcher.click();
  await input.fill("Alice's private question");
  await input.press("Enter");
  await log.locator('li.visitor:not([data-key^="local:"])').waitFor();
  await view(page, asAlice);
  assert.equal(rpc.count("chat.boot"), 1, "the same sub reuses the session");

  await view(page, asBob);
  assert.equal(rpc.count("chat.boot"), 2, "another sub boots again");
  const bobStream = page.waitForResponse((response) =>
    response.url().endsWith("/rpc/chat.stream")
  );
  await launcher.click();
  await bobStream;
  await page.waitForTimeout(500);
  assert.equal(
    await log.locator("li", { hasText: "Alice's private question" }).count(),
    0,
  );

  // Back as alice: her conversation is hers again.
  await view(page, asAlice);
  assert.equal(rpc.count("chat.boot"), 3);
  await launcher.click();
  await log.locator("li", { hasText: "Alice's private question" }).waitFor();

  // An anonymous visitor writes, signs out (shutdown), and the next page starts empty.
  const anonymous = servePage(fixture, "/anonymous", {
    organizationId: "acme-optional",
  });
  await view(page, anonymous);
  await launcher.click();
  await input.fill("Before signing out");
  await input.press("Enter");
  await log.locator('li.visitor:not([data-key^="local:"])').waitFor();
  await page.evaluate(() =>
    (globalThis as unknown as { ChatWidget: { shutdown(): void } }).ChatWidget
      .shutdown()
  );
  assert.deepEqual(
    await page.evaluate(() =>
      Object.keys(localStorage).filter((key) => key.includes("acme-optional"))
    ),
    [],
    "shutdown forgets the visitor and the stored session",
  );
  const boots = rpc.count("chat.boot");
  await view(page, anonymous);
  assert.equal(rpc.count("chat.boot"), boots + 1);
  const stream = page.waitForResponse((response) =>
    response.url().endsWith("/rpc/chat.stream")
  );
  await launcher.click();
  await stream;
  await page.waitForTimeout(500);
  assert.equal(await log.locator("li.visitor").count(), 0);
});

Deno.test("expiry: with 20 s sessions, pages over 30 s show no error and the widget boots again before the stored session ends", async () => {
  await using fixture = await openWidgetFixture({
    policy: seedLimits,
    env: { PARLEY_SESSION_LIFETIME: "20s" },
  });
  const url = servePage(fixture, "/expiry");
  const { page, rpc } = await visitor(fixture);
  const started = Date.now();
  let pages = 0;
  /** The stored session's expiry before each boot. */
  const expiries: number[] = [];
  while (Date.now() - started < 30_000) {
    const boots = rpc.count("chat.boot");
    const stored = await page.evaluate(() =>
      Object.entries(localStorage).find(([key]) =>
        key.startsWith("parley:session:")
      )?.[1]
    ).catch(() => undefined);
    await view(page, `${url}?page=${++pages}`);
    if (rpc.count("chat.boot") > boots && stored) {
      const booted = rpc.calls.filter(({ method }) => method === "chat.boot")
        .at(-1)!.at;
      const { expiresAt } = JSON.parse(stored);
      assert.ok(booted < expiresAt, "booted before the stored session ended");
      expiries.push(expiresAt);
    }
    await page.waitForTimeout(2_000);
  }
  const boots = rpc.count("chat.boot");
  assert.ok(boots >= 2, `${boots} boots over ${pages} pages`);
  assert.ok(boots < pages, `${boots} boots for ${pages} pages: none reused`);
  assert.ok(expiries.length >= 1, "a stored session was renewed");
});

Deno.test("revocation: after the page's origin leaves the policy, a stored session shows the launcher until its next call; the next send reports DOMAIN_NOT_ALLOWED and sends nothing; the next page boots and is refused", async () => {
  await using fixture = await openWidgetFixture({ policy: seedLimits });
  const url = servePage(fixture, "/revoked");
  const { page, rpc } = await visitor(fixture);
  await view(page, url);
  await view(page, url);
  assert.equal(rpc.count("chat.boot"), 1);

  const shop = fixture.site.origin(SHOP_HOST);
  const health = async () =>
    (await (await fetch(`${fixture.server.baseUrl}/healthz`)).json())
      .policyRevision;
  const revision = await health();
  await Deno.writeTextFile(
    fixture.server.policyPath,
    fixture.policy.replace(
      `acme:\n    name: Acme Inc.\n    domains: { mode: enforce, allow: ["${shop}"] }`,
      `acme:\n    name: Acme Inc.\n    domains: { mode: enforce, allow: ["https://elsewhere.example"] }`,
    ),
  );
  const deadline = Date.now() + 10_000;
  while (await health() === revision) {
    assert.ok(Date.now() < deadline, "the policy was not reloaded");
    await page.waitForTimeout(100);
  }

  // A page with a stored session asks nothing, so it shows the launcher.
  await view(page, url);
  assert.equal(rpc.count("chat.boot"), 1);

  // The visitor opens the panel and sends at once.
  const sends = rpc.count("chat.sendMessage");
  await page.evaluate(() => {
    const root = document.querySelector("parley-chat")!.shadowRoot!;
    root.querySelector<HTMLButtonElement>("button.launcher")!.click();
    root.querySelector("textarea")!.value = "Is this still you?";
    root.querySelector<HTMLFormElement>("form.composer")!.requestSubmit();
  });
  const [error] = await securityErrors(page);
  assert.equal(error?.code, "DOMAIN_NOT_ALLOWED");
  await widgetParts(page).host.waitFor({ state: "detached" });
  assert.ok(rpc.count("chat.sendMessage") <= sends + 1);
  for (const { method, request } of rpc.calls) {
    if (method !== "chat.sendMessage") continue;
    // Opening the panel starts the stream too; when its refusal comes first,
    // the widget ends the session and abandons the send in flight.
    const response = await request.response();
    if (response) assert.equal(response.status(), 401, "refused");
    else {assert.match(
        request.failure()?.errorText ?? "",
        /ABORTED/,
        "abandoned",
      );}
  }
  const inbox = await fixture.server.rpc("agent.listConversations", {
    organizationId: "acme",
  }, { token: ACME_ADMIN_KEY });
  assert.deepEqual(inbox.body.data.conversations, [], "nothing was sent");
  assert.deepEqual(
    await page.evaluate(() =>
      Object.keys(localStorage).filter((key) =>
        key.startsWith("parley:session:")
      )
    ),
    [],
    "the refused session is no longer stored",
  );

  // The next page boots, and is refused.
  await page.goto(url);
  const [refused] = await securityErrors(page);
  assert.equal(refused?.code, "DOMAIN_NOT_ALLOWED");
  assert.equal(rpc.count("chat.boot"), 3);
  assert.equal(await widgetParts(page).launcher.count(), 0);
});

Deno.test("storage that throws (private mode, blocked cookies) falls back to a boot per page", async () => {
  await using fixture = await openWidgetFixture({ policy: seedLimits });
  const url = servePage(fixture, "/private");
  const { page, rpc } = await visitor(fixture, {
    initScripts: [() => {
      Object.defineProperty(globalThis, "localStorage", {
        configurable: true,
        get() {
          throw new DOMException("The operation is insecure.", "SecurityError");
        },
      });
    }],
  });
  for (let n = 1; n <= 3; n++) await view(page, `${url}?page=${n}`);
  assert.equal(rpc.count("chat.boot"), 3);
  assert.equal(rpc.count("chat.getConfig"), 0, "the boot carries the settings");
});

Deno.test("settings and availability stay fresh: a new title reaches a returning visitor when the panel opens, and an agent coming online lifts the away form live", async () => {
  await using fixture = await openWidgetFixture({ policy: seedLimits });
  const url = servePage(fixture, "/fresh");
  const { page, rpc } = await visitor(fixture);
  await view(page, url);
  const { launcher, panel, away } = widgetParts(page);
  assert.equal(await launcher.getAttribute("aria-label"), "Acme Support");

  const health = async () =>
    (await (await fetch(`${fixture.server.baseUrl}/healthz`)).json())
      .policyRevision;
  const revision = await health();
  await Deno.writeTextFile(
    fixture.server.policyPath,
    fixture.policy.replace("title: Acme Support", "title: Acme Helpdesk"),
  );
  while (await health() === revision) await page.waitForTimeout(100);

  // A returning page uses the stored settings; opening the panel brings the new ones.
  await view(page, url);
  assert.equal(rpc.count("chat.boot"), 1);
  assert.equal(await launcher.getAttribute("aria-label"), "Acme Support");
  await launcher.click();
  await panel.getByRole("heading", { name: "Acme Helpdesk" }).waitFor();
  await away.waitFor({ state: "visible" });

  // An agent opens the inbox: the open panel hears it without a boot.
  const boots = rpc.count("chat.boot");
  await fixture.openInbox(ACME_ADMIN_KEY);
  await away.waitFor({ state: "hidden", timeout: 10_000 });
  assert.equal(rpc.count("chat.boot"), boots);
  // And the next page starts with the new title.
  await view(page, url);
  assert.equal(await launcher.getAttribute("aria-label"), "Acme Helpdesk");
});
