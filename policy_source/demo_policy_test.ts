import assert from "node:assert/strict";
import { compilePolicy } from "../policy/compile.ts";
import { DEMO_POLICY_FILE, demoPolicyText } from "./demo_policy.ts";

const KEY = "demo-admin-key-0123456789abcdef0123456789";

Deno.test("demoPolicyText() is the example file on the server's port, with an admin key", async () => {
  const file = await Deno.readTextFile(DEMO_POLICY_FILE);
  const evaluator = compilePolicy(demoPolicyText(file, 9123, KEY));
  const demo = evaluator.organization("demo")!.spec;
  assert.deepEqual(demo.domains.allow.map((pattern) => pattern.source), [
    "http://localhost:9123",
    "http://127.0.0.1:9123",
  ]);
  assert.equal(demo.adminKeys.length, 1);
  assert.equal(evaluator.identifyAdminKey("demo", KEY)?.name, "Demo agent");
  const asFile = compilePolicy(file).organization("demo")!.spec;
  assert.equal(demo.name, asFile.name);
  assert.deepEqual(demo.widget, asFile.widget);
  assert.equal(asFile.adminKeys.length, 0, "the file itself holds no key");
});

Deno.test("demoPolicyText() refuses an example file without the demo's allow list", () => {
  assert.throws(
    () => demoPolicyText("version: 1\norganizations: {}\n", 8787, KEY),
    TypeError,
  );
});
