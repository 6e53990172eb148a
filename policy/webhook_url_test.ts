import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { PRIVATE_WEBHOOK_URLS } from "../tests/private_webhook_urls.ts";
import { PolicyDirectory } from "./policy_directory.ts";
import {
  validateOrganizationFile,
  validatePolicy,
  validateSettingsFile,
} from "./validate.ts";

const ENV = { HOOK_SECRET: "w".repeat(40) };

/** A policy whose `acme` posts its webhook to `url` (written on line 5). */
function policyWith(url: string, server = ""): string {
  return [
    "version: 1",
    ...(server === "" ? [] : [`server: ${server}`]),
    "organizations:",
    "  acme:",
    "    domains: { mode: off }",
    `    webhook: { url: "${url}", secret: { env: HOOK_SECRET } }`,
    "",
  ].join("\n");
}

function codesOf(text: string): string[] {
  return validatePolicy(text, { env: ENV }).problems.map((problem) =>
    problem.code
  );
}

for (const [url, reaches] of PRIVATE_WEBHOOK_URLS) {
  Deno.test(`validatePolicy() refuses a webhook to ${reaches} (${url}) with webhook-private-address at its line`, () => {
    const { spec, problems } = validatePolicy(policyWith(url), { env: ENV });
    strictEqual(spec, undefined);
    deepStrictEqual(
      problems.map((problem) => [problem.code, problem.path, problem.line]),
      [["webhook-private-address", "organizations.acme.webhook.url", 5]],
    );
    // The URL may carry a token: it is never repeated.
    const rendered = problems.map((problem) =>
      `${problem.message} ${problem.hint}`
    ).join("\n");
    ok(!rendered.includes(new URL(url).pathname.slice(1) || "\u0000"));
    ok(rendered.includes("server.allowWebhookHosts"));
  });
}

Deno.test("validatePolicy() accepts a webhook to a public https host", () => {
  const { spec, problems } = validatePolicy(
    policyWith("https://hooks.acme.com/parley?token=x"),
    { env: ENV },
  );
  deepStrictEqual(problems, []);
  strictEqual(
    spec?.organizations.get("acme")?.webhook?.url,
    "https://hooks.acme.com/parley?token=x",
  );
});

Deno.test("validatePolicy() refuses a webhook over http to a public host with webhook-not-https", () => {
  deepStrictEqual(codesOf(policyWith("http://hooks.acme.com/parley")), [
    "webhook-not-https",
  ]);
});

Deno.test("validatePolicy() lets the hosts of server.allowWebhookHosts use http and loopback, and no other", () => {
  const server = '{ allowWebhookHosts: [127.0.0.1, "::1", Hooks.Dev.Test.] }';
  for (
    const url of [
      "http://127.0.0.1:8080/hook",
      "http://2130706433:8080/hook",
      "http://[::1]:6379/",
      "http://hooks.dev.test/hook",
    ]
  ) {
    deepStrictEqual(codesOf(policyWith(url, server)), [], url);
  }
  const { spec } = validatePolicy(policyWith("http://127.0.0.1/", server), {
    env: ENV,
  });
  deepStrictEqual(spec?.server.allowWebhookHosts, [
    "127.0.0.1",
    "[::1]",
    "hooks.dev.test",
  ]);
  for (
    const url of [
      "http://localhost:8080/hook",
      "http://127.0.0.2/hook",
      "http://169.254.169.254/",
    ]
  ) {
    deepStrictEqual(
      codesOf(policyWith(url, server)),
      ["webhook-private-address"],
      url,
    );
  }
  deepStrictEqual(
    codesOf(policyWith("http://api.hooks.dev.test/", server)),
    ["webhook-not-https"],
  );
});

Deno.test("validatePolicy() refuses allowWebhookHosts entries that are not bare hosts", () => {
  const problems = validatePolicy(
    policyWith(
      "https://hooks.acme.com/",
      '{ allowWebhookHosts: ["http://localhost", "localhost:3000", "*.dev.test", 7, ok.test] }',
    ),
    { env: ENV },
  ).problems;
  deepStrictEqual(
    problems.map((problem) => [problem.code, problem.path]),
    [
      ["bad-webhook-host", "server.allowWebhookHosts[0]"],
      ["bad-webhook-host", "server.allowWebhookHosts[1]"],
      ["bad-webhook-host", "server.allowWebhookHosts[2]"],
      ["wrong-type", "server.allowWebhookHosts[3]"],
    ],
  );
});

Deno.test("an organization's file cannot set allowWebhookHosts: server is the operator's, in _parley.yaml", () => {
  const { problems } = validateOrganizationFile(
    [
      "version: 1",
      "server: { allowWebhookHosts: [127.0.0.1] }",
      'webhook: { url: "http://127.0.0.1/hook", secret: { env: HOOK_SECRET } }',
      "",
    ].join("\n"),
    { organizationId: "beta", env: ENV },
  );
  deepStrictEqual(
    problems.filter((problem) => problem.severity === "error").map((
      problem,
    ) => [problem.code, problem.path]),
    [
      ["unknown-key", "server"],
      ["webhook-private-address", "webhook.url"],
    ],
  );
  const settings = validateSettingsFile(
    "version: 1\nserver: { allowWebhookHosts: [127.0.0.1] }\n",
  );
  deepStrictEqual(settings.settings?.server.allowWebhookHosts, ["127.0.0.1"]);
});

Deno.test("PolicyDirectory validates organization files against _parley.yaml's allowWebhookHosts, again when it changes", async () => {
  const directory = new PolicyDirectory({ env: ENV });
  const secrets = "secrets: { beta: [HOOK_SECRET] }";
  const beta =
    'version: 1\ndomains: { mode: off }\nwebhook: { url: "http://127.0.0.1:9/hook", secret: { env: HOOK_SECRET } }\n';
  let update = await directory.apply([
    ["_parley.yaml", `version: 1\n${secrets}\n`],
    ["beta.yaml", beta],
  ]);
  deepStrictEqual(
    update.files.find((file) => file.file === "beta.yaml")?.problems.map((
      problem,
    ) => problem.code),
    ["webhook-private-address"],
  );
  strictEqual(update.evaluator.organization("beta"), undefined);
  update = await directory.apply([[
    "_parley.yaml",
    `version: 1\n${secrets}\nserver: { allowWebhookHosts: [127.0.0.1] }\n`,
  ]]);
  strictEqual(
    update.evaluator.organization("beta")?.spec.webhook?.url,
    "http://127.0.0.1:9/hook",
  );
  deepStrictEqual(update.evaluator.spec.server.allowWebhookHosts, [
    "127.0.0.1",
  ]);
  // Taken away again: the file fails now, and its last good version stays
  // in force — the dispatcher refuses its deliveries (webhook_dispatcher.ts).
  update = await directory.apply([[
    "_parley.yaml",
    `version: 1\n${secrets}\n`,
  ]]);
  deepStrictEqual(update.evaluator.spec.server.allowWebhookHosts, []);
  ok(update.evaluator.organization("beta") !== undefined);
  deepStrictEqual(
    directory.reports().find((report) => report.file === "beta.yaml")
      ?.problems.map((problem) => problem.code),
    ["webhook-private-address"],
  );
});
