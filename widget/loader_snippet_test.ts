import assert from "node:assert/strict";
import { LOADER_SNIPPET } from "./loader_snippet.ts";

type Stub =
  & { q: [string, unknown[]][] }
  & Record<string, (...args: unknown[]) => void>;

/** Runs the snippet as a page would, against the given window object. */
function runSnippet(page: { ChatWidget?: unknown }): void {
  new Function("window", LOADER_SNIPPET)(page);
}

Deno.test("LOADER_SNIPPET queues every API call, in order, with its arguments", () => {
  const page: { ChatWidget?: Stub } = {};
  runSnippet(page);
  const stub = page.ChatWidget!;
  const onReady = () => {};
  stub.boot!({ organizationId: "acme" });
  stub.onReady!(onReady);
  stub.show!();
  for (const method of ["shutdown", "update", "hide"]) {
    assert.equal(typeof stub[method], "function");
  }
  assert.deepEqual(stub.q, [["boot", [{ organizationId: "acme" }]], [
    "onReady",
    [onReady],
  ], ["show", []]]);
});

Deno.test("LOADER_SNIPPET leaves an already loaded widget alone", () => {
  const real = { version: "0.1.0" };
  const page: { ChatWidget?: unknown } = { ChatWidget: real };
  runSnippet(page);
  assert.equal(page.ChatWidget, real);
});

Deno.test("LOADER_SNIPPET is one line without HTML-breaking characters", () => {
  assert.doesNotMatch(LOADER_SNIPPET, /[\n<>]/);
});
