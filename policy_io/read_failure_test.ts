import assert from "node:assert/strict";
import { readFailure, UnreadableFileError } from "./read_failure.ts";

const FAILURES: ReadonlyArray<readonly [string, unknown, string]> = [
  ["a missing file", new Deno.errors.NotFound("x"), "no such file"],
  ["a directory", new Deno.errors.IsADirectory("x"), "is a directory"],
  [
    "a denied permission",
    new Deno.errors.PermissionDenied("x"),
    "permission denied",
  ],
  [
    "a permission Deno did not grant",
    new Deno.errors.NotCapable("x"),
    "permission denied",
  ],
  ["any other error", new Error("/etc/shadow: EIO"), "read error"],
];

for (const [name, error, words] of FAILURES) {
  Deno.test(`readFailure() says "${words}" for ${name}, never the error's text`, () => {
    assert.equal(readFailure(error), words);
  });
}

Deno.test("UnreadableFileError.of() names the path and why, with a stable code", () => {
  const error = UnreadableFileError.of("policy.yaml", "no such file");
  assert.equal(error.message, 'Cannot read "policy.yaml": no such file');
  assert.equal(error.code, "unreadable-file");
  assert.equal(error.name, "UnreadableFileError");
});
