import assert from "node:assert/strict";
import { adminKeyVariables } from "./admin_key_variables.ts";

Deno.test("adminKeyVariables() reads admin keys' variables of every organization, not other secrets", () => {
  const text = `version: 1
organizations:
  acme:
    jwt: { mode: required, keys: [{ id: k1, secret: { env: ACME_JWT } }] }
    admin:
      keys:
        - { name: Ada, secret: { env: ACME_KEY_ADA } }
        - { name: Inline, secret: "inline-secret-of-at-least-32-bytes!!" }
  beta:
    admin: { keys: [{ secret: { env: BETA_ADMIN } }] }
    webhook: { url: "https://beta.example/hook", secret: { env: BETA_HOOK } }
`;
  assert.deepEqual(adminKeyVariables(text, "policy"), [
    "ACME_KEY_ADA",
    "BETA_ADMIN",
  ]);
});

Deno.test("adminKeyVariables() reads an organization file of a policy directory, and nothing from text that does not parse that far", () => {
  const file = `version: 1
admin:
  keys: [{ name: Grace, secret: { env: ACME_KEY_GRACE } }]
`;
  assert.deepEqual(adminKeyVariables(file, "organization"), ["ACME_KEY_GRACE"]);
  assert.deepEqual(adminKeyVariables(file, "policy"), []);
  assert.deepEqual(adminKeyVariables("admin: [", "organization"), []);
  assert.deepEqual(adminKeyVariables("", "policy"), []);
});
