/**
 * The widget's languages on the server, against the real server process:
 * locale files served as small cacheable public JSON, the organization's
 * texts per locale in the settings, and the visitor's language stored with
 * the conversation for the inbox.
 */

import assert from "node:assert/strict";
import { type ServerProcess, startServer } from "./server_process.ts";
import {
  serverStore,
  testEachEngine,
  type TestEngine,
} from "./store_engines.ts";
import { ORIGINS, SECRETS } from "./test_policy.ts";

const origin = ORIGINS.acme;
const admin = { token: SECRETS.ACME_ADMIN_KEY };

const POLICY = `version: 1
organizations:
  acme:
    name: Acme Inc.
    domains: { allow: ["*.acme.com"] }
    widget:
      language: de
      title: { en: Acme Support, de: Acme Hilfe }
      greeting: { en: "Hi!", de: "Hallo!", de-AT: "Grüß Gott!" }
      awayMessage: Leave your email
    admin:
      keys: [{ secret: { env: ACME_ADMIN_KEY } }]
`;

async function start(engine?: TestEngine): Promise<ServerProcess> {
  return await startServer({
    ...(engine === undefined ? {} : await serverStore(engine)),
    policy: POLICY,
    env: SECRETS,
  });
}

Deno.test("locale files and texts per locale, from one server", async (t) => {
  await using server = await start();

  await t.step(
    "GET /locales/de.json serves the German catalogue as public JSON with an ETag, and 304 on revalidation",
    async () => {
      const response = await fetch(`${server.baseUrl}/locales/de.json`);
      assert.equal(response.status, 200);
      assert.equal(
        response.headers.get("content-type"),
        "application/json; charset=utf-8",
      );
      assert.equal(response.headers.get("access-control-allow-origin"), "*");
      assert.match(response.headers.get("cache-control") ?? "", /public/);
      const etag = response.headers.get("etag");
      assert.match(etag ?? "", /^"[\w-]+"$/);
      const file = JSON.parse(
        await Deno.readTextFile(
          new URL("../widget/locales/de.json", import.meta.url),
        ),
      );
      assert.deepEqual(await response.json(), file);
      const again = await fetch(`${server.baseUrl}/locales/de.json`, {
        headers: { "If-None-Match": etag! },
      });
      assert.equal(again.status, 304);
      await again.body?.cancel();
    },
  );

  for (
    const [name, path] of [
      ["English, built into widget.js", "/locales/en.json"],
      ["a locale Parley does not ship", "/locales/xx.json"],
      ["a path that climbs out", "/locales/../deno.json"],
      ["a locale without .json", "/locales/de"],
    ]
  ) {
    await t.step(`GET /locales answers 404 for ${name}`, async () => {
      const response = await fetch(`${server.baseUrl}${path}`);
      assert.equal(response.status, 404);
      await response.body?.cancel();
    });
  }

  await t.step(
    "chat.getConfig carries widget.language, each text in the organization's language, and the maps for the widget",
    async () => {
      const reply = await server.rpc("chat.getConfig", {
        organizationId: "acme",
      });
      assert.equal(reply.status, 200);
      const widget = reply.body.data.widget;
      assert.equal(widget.language, "de");
      assert.equal(widget.title, "Acme Hilfe");
      assert.equal(widget.greeting, "Hallo!");
      assert.equal(widget.awayMessage, "Leave your email");
      assert.deepEqual(widget.texts, {
        title: { en: "Acme Support", de: "Acme Hilfe" },
        greeting: { en: "Hi!", de: "Hallo!", "de-AT": "Grüß Gott!" },
      });
    },
  );
});

testEachEngine(
  "the visitor's language is stored with the conversation and shown to agents; a tag Parley does not speak is refused",
  async (engine) => {
    await using server = await start(engine);
    const boot = await server.rpc("chat.boot", { organizationId: "acme" }, {
      origin,
    });
    assert.equal(boot.status, 200);
    const session = { origin, token: boot.body.data.session.token };
    const send = (body: Record<string, unknown>) =>
      server.rpc("chat.sendMessage", { text: "Hallo", ...body }, session);
    const first = await send({ language: "de-AT" });
    assert.equal(first.status, 200);
    const language = async () => {
      const listed = await server.rpc("agent.listConversations", {
        organizationId: "acme",
      }, admin);
      assert.equal(listed.status, 200);
      return listed.body.data.conversations[0].language;
    };
    assert.equal(await language(), "de");
    assert.equal((await send({ language: "fr" })).status, 200);
    assert.equal(await language(), "fr");
    assert.equal((await send({})).status, 200);
    assert.equal(await language(), "fr", "a message without one keeps it");
    const refused = await send({ language: "klingon" });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, "BAD_REQUEST");
    assert.equal(refused.body.error.reason, "param.language.invalid");
  },
);
