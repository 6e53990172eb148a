/**
 * The widget checks an away-form address before sending it so a typo is
 * answered at once; it must never refuse what the server takes, nor send
 * what the server refuses without saying so. Both judge the same table.
 */

import assert from "node:assert/strict";
import { isEmailAddress } from "../widget/email_address.ts";
import { EMAIL_CASES } from "./email_cases.ts";
import { startServer } from "./server_process.ts";

const ORIGIN = "https://shop.acme.com";

Deno.test("isEmailAddress() and chat.setContact give every address the same verdict", async () => {
  await using server = await startServer({
    policy: `version: 1
organizations:
  acme:
    domains: { mode: enforce, allow: [shop.acme.com] }
    jwt: { mode: "off" }
    limits: { session: 100/minute }
`,
  });
  const boot = await server.rpc("chat.boot", { organizationId: "acme" }, {
    origin: ORIGIN,
  });
  assert.equal(boot.status, 200);
  const token: string = boot.body.data.session.token;
  for (const [address, valid, what] of EMAIL_CASES) {
    const reply = await server.rpc("chat.setContact", { email: address }, {
      origin: ORIGIN,
      token,
    });
    assert.equal(isEmailAddress(address), valid, `widget: ${what}`);
    assert.equal(reply.status, valid ? 200 : 400, `server: ${what}`);
    if (!valid) assert.equal(reply.body.error.code, "BAD_REQUEST", what);
  }
});
