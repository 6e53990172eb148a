/**
 * Business hours are public: `chat.getConfig` hands the widget the
 * policy's `widget.hours`, and leaves them out when the policy has none.
 */

import assert from "node:assert/strict";
import { startServer } from "./server_process.ts";

const POLICY = `version: 1
organizations:
  acme:
    domains: { allow: [acme.com] }
    widget:
      hours:
        timezone: europe/berlin
        weekly:
          mon-fri: "09:00-17:00"
          sat: ["13:00-16:00", "10:00-12:00"]
  always:
    domains: { allow: [always.example] }
`;

Deno.test("chat.getConfig returns widget.hours as the widget reads them, and none without", async () => {
  await using server = await startServer({ policy: POLICY });
  const acme = await server.rpc("chat.getConfig", { organizationId: "acme" }, {
    origin: "https://acme.com",
  });
  assert.equal(acme.status, 200);
  const weekday = ["09:00-17:00"];
  assert.deepEqual(acme.body.data.widget.hours, {
    timezone: "Europe/Berlin",
    weekly: {
      mon: weekday,
      tue: weekday,
      wed: weekday,
      thu: weekday,
      fri: weekday,
      sat: ["10:00-12:00", "13:00-16:00"],
      sun: [],
    },
  });
  const always = await server.rpc("chat.getConfig", {
    organizationId: "always",
  }, { origin: "https://always.example" });
  assert.equal(always.status, 200);
  assert.equal("hours" in always.body.data.widget, false);
});
