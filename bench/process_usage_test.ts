import { ok } from "node:assert/strict";
import { cpuSeconds, residentBytes } from "./process_usage.ts";

Deno.test("cpuSeconds() grows as this process works", async () => {
  const before = await cpuSeconds(Deno.pid);
  const until = performance.now() + 200;
  while (performance.now() < until) Math.sqrt(Math.random());
  const after = await cpuSeconds(Deno.pid);
  ok(after > before, `${after} after, ${before} before`);
});

Deno.test("residentBytes() is this process's memory, in bytes", async () => {
  const bytes = await residentBytes(Deno.pid);
  ok(Number.isInteger(bytes) && bytes > 2 ** 20, `${bytes}`);
});
