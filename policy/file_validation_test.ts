import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  failedOutcome,
  foldOutcome,
  frozenOutcome,
  validateFile,
} from "./file_validation.ts";

const SECRET = "s".repeat(40);

Deno.test("validateFile() runs the validation of the request's kind", () => {
  const organization = validateFile({
    kind: "organization",
    text: "version: 1\ndomains: { mode: off }\n",
    options: { organizationId: "acme" },
  });
  ok(organization.kind === "organization");
  strictEqual(organization.result.organization?.id, "acme");
  const settings = validateFile({
    kind: "settings",
    text: "version: 1\nserver: { trustProxy: 1 }\n",
    options: {},
  });
  ok(settings.kind === "settings");
  strictEqual(settings.result.settings?.server.trustProxy, 1);
});

Deno.test("frozenOutcome() freezes a cloned outcome all the way down, byte arrays kept", () => {
  const outcome = validateFile({
    kind: "policy",
    text:
      "version: 1\norganizations:\n  acme:\n    domains: { allow: [acme.com] }\n    jwt: { mode: optional, keys: [{ id: k, secret: { env: K } }] }\n",
    options: { env: { K: SECRET } },
  });
  const cloned = frozenOutcome(structuredClone(outcome));
  ok(cloned.kind === "policy");
  const spec = cloned.result.spec;
  ok(spec && Object.isFrozen(spec) && Object.isFrozen(spec.organizations));
  const acme = spec.organizations.get("acme");
  ok(acme && Object.isFrozen(acme.domains.allow[0]));
  ok(Object.isFrozen(acme.jwt.keys[0]));
  deepStrictEqual(acme.jwt.keys[0]?.secret, new TextEncoder().encode(SECRET));
});

Deno.test("failedOutcome() holds one error and no value", () => {
  const outcome = failedOutcome("organization", {
    code: "compile-timeout",
    severity: "error",
    path: "",
    line: 1,
    column: 1,
    message: "Took too long",
  });
  ok(outcome.kind === "organization");
  strictEqual(outcome.result.organization, undefined);
  deepStrictEqual(outcome.result.problems.map((problem) => problem.code), [
    "compile-timeout",
  ]);
});

Deno.test("foldOutcome() keeps the first problems of each code and counts the rest", () => {
  const outcome = validateFile({
    kind: "organization",
    text: `version: 1\n${
      Array.from({ length: 1_000 }, (_, i) => `k${i}: 1`).join("\n")
    }\n`,
    options: { organizationId: "beta" },
  });
  const folded = foldOutcome(outcome, 100);
  deepStrictEqual(folded.omitted, { "unknown-key": 900 });
  strictEqual(
    folded.result.problems.filter((problem) => problem.code === "unknown-key")
      .length,
    100,
  );
  strictEqual(
    folded.result.problems.find((problem) => problem.code === "unknown-key")
      ?.line,
    2,
    "the first ones, in order",
  );
  strictEqual(foldOutcome(folded, 100), folded, "nothing more to leave out");
});
