import assert from "node:assert/strict";
import { compilePolicy } from "./compile.ts";
import { EnvironmentReads } from "./environment_reads.ts";

Deno.test("EnvironmentReads records every variable a policy names and which are unset, in file order", () => {
  const reads = new EnvironmentReads((name) =>
    ({ ACME_JWT: "acme-secret-0123456789abcdef0123456789", EMPTY: "" })[name]
  );
  const text = `version: 1
organizations:
  acme:
    jwt: { mode: required, keys: [{ id: k1, secret: { env: ACME_JWT } }] }
    admin: { keys: [{ secret: { env: ACME_ADMIN } }, { secret: { env: EMPTY } }] }
`;
  assert.throws(() => compilePolicy(text, { env: reads.lookup }));
  assert.deepEqual(reads.named, ["ACME_JWT", "ACME_ADMIN", "EMPTY"]);
  assert.deepEqual(reads.missing, ["ACME_ADMIN", "EMPTY"]);
});
