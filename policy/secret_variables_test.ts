import assert from "node:assert/strict";
import { secretVariables } from "./secret_variables.ts";

Deno.test("secretVariables() finds every { env: NAME } secret in file order, and which are admin keys'", () => {
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
  assert.deepEqual(secretVariables(text), [
    { name: "ACME_JWT", adminKey: false },
    { name: "ACME_KEY_ADA", adminKey: true },
    { name: "BETA_ADMIN", adminKey: true },
    { name: "BETA_HOOK", adminKey: false },
  ]);
});

Deno.test("secretVariables() reads an organization file of a policy directory, and nothing from a text that does not parse", () => {
  const file = `version: 1
admin:
  keys: [{ name: Grace, secret: { env: ACME_KEY_GRACE } }]
`;
  assert.deepEqual(secretVariables(file), [
    { name: "ACME_KEY_GRACE", adminKey: true },
  ]);
  assert.deepEqual(secretVariables("admin: [\n  { secret: { env: X }"), []);
  assert.deepEqual(secretVariables(""), []);
});
