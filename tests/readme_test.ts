/**
 * README is part of the product: what it tells integrators must match the code.
 */

import assert from "node:assert/strict";
import { LOADER_SNIPPET } from "../widget/loader_snippet.ts";
import { METHODS } from "../rpc/methods/table.ts";
import { ERROR_STATUS } from "../rpc/wire.ts";

const readme = await Deno.readTextFile(
  new URL("../README.md", import.meta.url),
);

Deno.test("README shows the loader snippet the widget drains", () => {
  assert.ok(
    readme.includes(LOADER_SNIPPET),
    "README's loader snippet differs from LOADER_SNIPPET",
  );
});

Deno.test("README's error table lists every wire code with its status", () => {
  for (const [code, status] of Object.entries(ERROR_STATUS)) {
    assert.match(
      readme,
      new RegExp(`\\| \`${code}\` +\\| ${status} +\\|`),
      code,
    );
  }
});

Deno.test("README documents every RPC method", () => {
  for (const method of Object.keys(METHODS)) {
    assert.match(readme, new RegExp(`\\| \`${method}\` +\\|`), method);
  }
});

Deno.test("README shows the two set-up commands", () => {
  assert.match(readme, /deno task start/);
  assert.match(readme, /deno task test/);
  assert.match(readme, /npx --yes deno@2\.9\.6 task start/);
});
