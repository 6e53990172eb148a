import {
  deepStrictEqual as deepEqual,
  strictEqual as equal,
} from "node:assert/strict";
import { parseCaseFile } from "./policy_cases.ts";

Deno.test("parseCaseFile() reports a token for a method name found wrong as not sent, too", () => {
  const file = parseCaseFile(
    "cases:\n  - name: a\n    method: chat boot\n    token: { sub: u }\n    expect: allowed\n",
  );
  deepEqual(file.problems.map((problem) => problem.code), [
    "bad-method",
    "token-not-sent",
  ]);
  deepEqual(file.malformed, [2]);
});

Deno.test("parseCaseFile() names no organization for a file without a list of cases", () => {
  const file = parseCaseFile("organization: acme\ncases: {}\n", {
    organizationId: "acme",
  });
  deepEqual(file.problems.map((problem) => problem.code), ["wrong-type"]);
  equal(file.organizationId, undefined);
});
