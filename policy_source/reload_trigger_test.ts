import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { type ReloadRequest, ReloadTrigger } from "./reload_trigger.ts";

const relevant = (name: string) =>
  !name.startsWith(".") && name.endsWith(".yaml");

/** Rewrites `file` every 20 ms until `until` resolves. */
async function churn(file: string, until: Promise<unknown>): Promise<void> {
  let done = false;
  void until.finally(() => done = true);
  for (let i = 0; !done && i < 500; i++) {
    await Deno.writeTextFile(file, `edit ${i}\n`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function watching(
  run: (dir: string, requests: ReloadRequest[]) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "parley-trigger-" });
  const requests: ReloadRequest[] = [];
  const trigger = new ReloadTrigger(dir, (request) => requests.push(request), {
    relevant,
  });
  trigger.start();
  try {
    await run(dir, requests);
  } finally {
    trigger.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("ReloadTrigger schedules nothing for names the source ignores (an editor's swap file)", async () => {
  await watching(async (dir, requests) => {
    await churn(`${dir}/.beta.yaml.swp`, delay(800));
    await delay(300);
    deepStrictEqual(requests, []);
  });
});

Deno.test("ReloadTrigger reports a relevant edit while a swap file churns", async () => {
  await watching(async (dir, requests) => {
    const seen = (async () => {
      await delay(200);
      await Deno.writeTextFile(`${dir}/acme.yaml`, "version: 1\n");
      for (let i = 0; i < 250 && requests.length === 0; i++) await delay(20);
    })();
    await churn(`${dir}/.beta.yaml.swp`, seen);
    strictEqual(requests.length, 1);
    deepStrictEqual([...requests[0]!.names], ["acme.yaml"]);
  });
});

Deno.test("ReloadTrigger ends a burst that never pauses, so edits are read while a file keeps changing", async () => {
  await watching(async (dir, requests) => {
    // Each event restarted a 100 ms wait: a file rewritten every 20 ms was
    // never read while it kept changing.
    await churn(`${dir}/beta.yaml`, delay(1_500));
    ok(requests.length >= 2, `${requests.length} reloads during the churn`);
    ok(requests.every((request) => request.names.has("beta.yaml")));
  });
});
