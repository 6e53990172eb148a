import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import type { FileValidationOutcome } from "../policy/file_validation.ts";
import { PolicyWorker } from "./policy_worker.ts";

const SECRET = "worker-test-secret-0123456789abcdef0123456789";

function organizationProblems(outcome: FileValidationOutcome): string[] {
  ok(outcome.kind === "organization");
  return outcome.result.problems.map((problem) => problem.code);
}

/** A file of `count` unknown keys: slow to parse, every key a problem. */
function unknownKeys(count: number): string {
  return `version: 1\n${
    Array.from({ length: count }, (_, i) => `k${i}: 1`).join("\n")
  }\n`;
}

Deno.test("PolicyWorker validates a file off the main thread and returns it frozen", async () => {
  using worker = disposable(new PolicyWorker());
  const outcome = await worker.validate({
    kind: "organization",
    text: "version: 1\ndomains: { allow: [acme.com] }\n",
    options: { organizationId: "acme", secrets: new Map() },
  });
  ok(outcome.kind === "organization");
  strictEqual(outcome.result.organization?.domains.allow[0]?.host, "acme.com");
  ok(Object.isFrozen(outcome.result.organization?.domains.allow));
});

Deno.test("PolicyWorker reads the process environment only for the organization's own variables", async () => {
  Deno.env.set("WORKER_TEST_ACME_HOOK", SECRET);
  try {
    using worker = disposable(new PolicyWorker());
    const text =
      "version: 1\ndomains: { mode: off }\nwebhook: { url: 'https://x.example/h', secret: { env: WORKER_TEST_ACME_HOOK } }\n";
    const secrets = new Map([["acme", ["WORKER_TEST_ACME_*"]]]);
    const acme = await worker.validate({
      kind: "organization",
      text,
      options: { organizationId: "acme", secrets },
    });
    ok(acme.kind === "organization");
    strictEqual(acme.result.organization?.webhook?.secret, SECRET);
    deepStrictEqual(
      organizationProblems(
        await worker.validate({
          kind: "organization",
          text,
          options: { organizationId: "beta", secrets },
        }),
      ),
      ["secret-not-assigned"],
    );
  } finally {
    Deno.env.delete("WORKER_TEST_ACME_HOOK");
  }
});

Deno.test("PolicyWorker stops a file past its time limit (compile-timeout) and goes on with the next", async () => {
  using worker = disposable(new PolicyWorker({ timeLimitMs: 1 }));
  const slow = worker.validate({
    kind: "organization",
    text: unknownKeys(20_000),
    options: { organizationId: "beta" },
  });
  deepStrictEqual(organizationProblems(await slow), ["compile-timeout"]);
  using patient = disposable(new PolicyWorker());
  deepStrictEqual(
    organizationProblems(
      await patient.validate({
        kind: "organization",
        text: "version: 1\ndomains: { mode: off }\n",
        options: { organizationId: "acme" },
      }),
    ),
    [],
  );
});

Deno.test("PolicyWorker answers every request of a burst, in order", async () => {
  using worker = disposable(new PolicyWorker());
  const outcomes = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      worker.validate({
        kind: "organization",
        text: `version: 1\nname: Org ${i}\ndomains: { mode: off }\n`,
        options: { organizationId: `org${i}` },
      })),
  );
  deepStrictEqual(
    outcomes.map((outcome) =>
      outcome.kind === "organization" ? outcome.result.organization?.name : ""
    ),
    Array.from({ length: 50 }, (_, i) => `Org ${i}`),
  );
});

Deno.test("PolicyWorker leaves the main thread free while a large file compiles", async () => {
  using worker = disposable(new PolicyWorker());
  let settled = false;
  const compiling = worker.validate({
    kind: "organization",
    text: unknownKeys(60_000),
    options: { organizationId: "beta" },
  }).finally(() => settled = true);
  let ticks = 0;
  while (!settled) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    ticks += 1;
  }
  const outcome = await compiling;
  // The worker sends back the first 100 problems of each code and counts the rest.
  const problems = organizationProblems(outcome);
  strictEqual(problems.filter((code) => code === "unknown-key").length, 100);
  deepStrictEqual(outcome.omitted, { "unknown-key": 59_900 });
  ok(ticks >= 3, `the main thread ran ${ticks} timers meanwhile`);
});

Deno.test("PolicyWorker answers pending files once closed, and refuses an env lookup", async () => {
  const worker = new PolicyWorker();
  const pending = worker.validate({
    kind: "settings",
    text: unknownKeys(20_000),
    options: {},
  });
  worker.close();
  const outcome = await pending;
  deepStrictEqual(outcome.result.problems.map((problem) => problem.code), [
    "compile-failed",
  ]);
  await rejects(
    new PolicyWorker().validate({
      kind: "settings",
      text: "version: 1\n",
      options: { env: {} },
    }),
    TypeError,
  );
});

function disposable(worker: PolicyWorker): PolicyWorker & Disposable {
  return Object.assign(worker, { [Symbol.dispose]: () => worker.close() });
}
