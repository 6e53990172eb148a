/**
 * Sessions against the real server: what `chat.boot` issues is accepted only
 * from the page origin it was issued to, only untampered and unexpired, and
 * only while the organization's security settings stay as they were.
 */

import assert from "node:assert/strict";
import { SessionSigner } from "../rpc/session_token.ts";
import { signWithJsonwebtoken } from "./jsonwebtoken_minter.ts";
import { startServer, waitFor } from "./server_process.ts";
import { serverStore, testEachEngine } from "./store_engines.ts";
import { acmeClaims, ORIGINS, SECRETS, testPolicy } from "./test_policy.ts";

async function bootAcme(server: Awaited<ReturnType<typeof startServer>>) {
  const reply = await server.rpc("chat.boot", { organizationId: "acme" }, {
    origin: ORIGINS.acme,
  });
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body.data;
}

testEachEngine(
  "sessions are bound to origin, signature, expiry and policy",
  async (engine, t) => {
    await using server = await startServer({
      ...await serverStore(engine),
      policy: testPolicy(),
      env: SECRETS,
    });
    const boot = await bootAcme(server);
    const token: string = boot.session.token;

    await t.step("a valid session sends and lists messages", async () => {
      const sent = await server.rpc("chat.sendMessage", {
        text: "  Hello there  ",
      }, {
        origin: ORIGINS.acme,
        token,
      });
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      assert.equal(sent.body.data.message.text, "Hello there");
      assert.equal(sent.body.data.message.author, "visitor");
      const listed = await server.rpc("chat.listMessages", {}, {
        origin: ORIGINS.acme,
        token,
      });
      assert.equal(listed.status, 200);
      assert.deepEqual(
        listed.body.data.messages.map((m: { text: string }) => m.text),
        ["Hello there"],
      );
    });

    const rows: {
      name: string;
      token: string;
      origin?: string;
      body?: unknown;
      reason: string;
    }[] = [
      {
        name: "from another origin",
        token,
        origin: ORIGINS.evil,
        reason: "session.origin",
      },
      {
        name: "from the apex of an allowed wildcard",
        token,
        origin: ORIGINS.acmeApex,
        reason: "session.origin",
      },
      {
        name: "with a tampered payload",
        token: tamperPayload(
          token,
          (claims) => ({ ...claims, conversationId: "someone-else" }),
        ),
        origin: ORIGINS.acme,
        reason: "session.signature",
      },
      {
        name: "with an extended expiry",
        token: tamperPayload(
          token,
          (claims) => ({ ...claims, expiresAt: Date.now() + 1e10 }),
        ),
        origin: ORIGINS.acme,
        reason: "session.signature",
      },
      {
        name: "with one flipped signature character",
        token: token.slice(0, -2) + (token.at(-2) === "A" ? "B" : "A") +
          token.at(-1),
        origin: ORIGINS.acme,
        reason: "session.signature",
      },
      {
        name: "that is not a session token",
        token: "v1.abc",
        origin: ORIGINS.acme,
        reason: "session.malformed",
      },
      {
        name: "naming another organization in the body",
        token,
        origin: ORIGINS.acme,
        body: { organizationId: "globex", text: "hi" },
        reason: "session.organization_mismatch",
      },
    ];
    for (const row of rows) {
      await t.step(`a session used ${row.name} is refused`, async () => {
        const reply = await server.rpc(
          "chat.sendMessage",
          row.body ?? { text: "hi" },
          {
            token: row.token,
            ...(row.origin === undefined ? {} : { origin: row.origin }),
          },
        );
        assert.equal(reply.status, 401);
        assert.equal(reply.body.error.code, "SESSION_INVALID");
        assert.equal(reply.body.error.reason, row.reason);
      });
    }

    await t.step("an empty or over-long message is a BAD_REQUEST", async () => {
      for (const text of ["   ", "x".repeat(4001), 42]) {
        const reply = await server.rpc("chat.sendMessage", { text }, {
          origin: ORIGINS.acme,
          token,
        });
        assert.equal(reply.status, 400);
        assert.equal(reply.body.error.code, "BAD_REQUEST");
      }
    });

    await t.step(
      "a policy change to the organization's domains revokes its sessions",
      async () => {
        const policy = testPolicy().replace(
          'allow: [acme.com, "*.acme.com"]',
          'allow: ["*.acme.com"]',
        );
        await Deno.writeTextFile(server.policyPath, policy);
        await waitFor(async () => {
          const health = await (await fetch(`${server.baseUrl}/healthz`))
            .json();
          return health.lastReloadError === null &&
            (await server.rpc("chat.sendMessage", { text: "still there?" }, {
                origin: ORIGINS.acme,
                token,
              })).status ===
              401;
        });
        const reply = await server.rpc("chat.sendMessage", {
          text: "still there?",
        }, { origin: ORIGINS.acme, token });
        assert.equal(reply.body.error.code, "SESSION_INVALID");
        assert.equal(reply.body.error.reason, "session.revoked");
        const fresh = await bootAcme(server);
        const after = await server.rpc("chat.sendMessage", {
          text: "new session",
        }, {
          origin: ORIGINS.acme,
          token: fresh.session.token,
        });
        assert.equal(after.status, 200);
      },
    );
  },
);

testEachEngine("an expired session is refused", async (engine) => {
  const secret = "session-secret-for-tests-0123456789abcdef";
  await using server = await startServer({
    ...await serverStore(engine),
    policy: testPolicy(),
    env: { ...SECRETS, PARLEY_SESSION_SECRET: secret },
  });
  const boot = await bootAcme(server);
  const [, payload] = boot.session.token.split(".");
  const claims = JSON.parse(
    atob(payload.replaceAll("-", "+").replaceAll("_", "/")),
  );
  // Signed with the server's own secret, so only the expiry can refuse it.
  const signer = new SessionSigner(new TextEncoder().encode(secret));
  const expired = signer.issue({
    ...claims,
    expiresAt: Date.now() - 1000,
  });
  const reply = await server.rpc("chat.listMessages", {}, {
    origin: ORIGINS.acme,
    token: expired,
  });
  assert.equal(reply.status, 401);
  assert.equal(reply.body.error.code, "SESSION_INVALID");
  assert.equal(reply.body.error.reason, "session.expired");
  const live = signer.issue({
    ...claims,
    expiresAt: Date.now() + 60_000,
  });
  const ok = await server.rpc("chat.listMessages", {}, {
    origin: ORIGINS.acme,
    token: live,
  });
  assert.equal(ok.status, 200);
});

testEachEngine(
  "a verified user's session needs the token's origin",
  async (engine) => {
    await using server = await startServer({
      ...await serverStore(engine),
      policy: testPolicy(),
      env: SECRETS,
    });
    const token = signWithJsonwebtoken(
      acmeClaims({ sub: "user_7" }),
      SECRETS.ACME_JWT_SECRET,
      { keyid: "2026-11" },
    );
    const boot = await server.rpc("chat.boot", { organizationId: "acme" }, {
      origin: ORIGINS.acme,
      token,
    });
    assert.equal(boot.status, 200);
    const session = boot.body.data.session.token;
    const ok = await server.rpc("chat.listMessages", {}, {
      origin: ORIGINS.acme,
      token: session,
    });
    assert.equal(ok.status, 200);
    const other = await server.rpc("chat.listMessages", {}, {
      origin: "https://blog.acme.com",
      token: session,
    });
    assert.equal(other.body.error.reason, "session.origin");
  },
);

function tamperPayload(
  token: string,
  change: (claims: Record<string, unknown>) => unknown,
): string {
  const [prefix, payload, signature] = token.split(".");
  const claims = JSON.parse(
    atob(payload!.replaceAll("-", "+").replaceAll("_", "/")),
  );
  const forged = btoa(JSON.stringify(change(claims))).replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
  return `${prefix}.${forged}.${signature}`;
}
