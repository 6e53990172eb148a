import assert from "node:assert/strict";
import { validateInThread } from "./file_validation.ts";
import {
  classifyPolicyFile,
  PolicyDirectory,
  type PolicyFileKind,
} from "./policy_directory.ts";

const ENV = {
  ACME_JWT: "acme-jwt-secret-0123456789abcdef0123456",
  BETA_ADMIN: "beta-admin-key-0123456789abcdef01234567",
};

/** The variables each organization's file may name. */
const SECRETS = "secrets: { acme: [ACME_*], beta: [BETA_ADMIN] }\n";

function organizationFile(allow: string, extra = ""): string {
  return `version: 1\ndomains:\n  allow: [${allow}]\n${extra}`;
}

const FILES: ReadonlyArray<readonly [string, string]> = [
  [
    "_parley.yaml",
    `version: 1\ndefaults:\n  limits: { ip: 5/minute }\n${SECRETS}`,
  ],
  [
    "acme.yaml",
    organizationFile(
      "acme.com",
      'jwt:\n  mode: optional\n  keys: [{ id: "2026-11", secret: { env: ACME_JWT } }]\n',
    ),
  ],
  [
    "beta.yml",
    organizationFile(
      "beta.example",
      "admin:\n  keys: [{ id: ada, secret: { env: BETA_ADMIN } }]\n",
    ),
  ],
  ["gamma.json", '{"version": 1, "domains": {"mode": "off"}}'],
  ["acme.test.yaml", "cases: []\n"],
  ["README.md", "# not a policy\n"],
  [".acme.yaml.swp", "binary"],
];

async function loaded(): Promise<PolicyDirectory> {
  const directory = new PolicyDirectory({ env: ENV });
  await directory.apply(FILES);
  return directory;
}

const NAMES: readonly [string, PolicyFileKind, string | undefined][] = [
  ["_parley.yaml", "settings", undefined],
  ["acme.yaml", "organization", "acme"],
  ["acme-2.yml", "organization", "acme-2"],
  ["Acme_Inc.json", "organization", "Acme_Inc"],
  ["acme.test.yaml", "test", "acme"],
  ["acme.test.yml", "test", "acme"],
  ["_parley.yml", "reserved", undefined],
  ["_shared.yaml", "reserved", undefined],
  ["acme corp.yaml", "bad-name", undefined],
  ["acme.prod.yaml", "bad-name", undefined],
  ["README.md", "ignored", undefined],
  [".acme.yaml.swp", "ignored", undefined],
  [".hidden.yaml", "ignored", undefined],
  ["acme.yaml~", "ignored", undefined],
];

for (const [name, kind, organizationId] of NAMES) {
  Deno.test(`classifyPolicyFile() reads "${name}" as ${kind}`, () => {
    const found = classifyPolicyFile(name);
    assert.equal(found.kind, kind);
    assert.equal(found.organizationId, organizationId);
  });
}

Deno.test("PolicyDirectory compiles one organization per file, its id from the name", async () => {
  const evaluator = (await loaded()).evaluator;
  assert.deepEqual([...evaluator.spec.organizations.keys()].sort(), [
    "acme",
    "beta",
    "gamma",
  ]);
  assert.equal(evaluator.spec.defaults.limits.ip.text, "5/minute");
  assert.equal(
    evaluator.organization("acme")?.spec.limits.ip.text,
    "5/minute",
    "organizations inherit _parley.yaml's defaults",
  );
  const decision = await evaluator.evaluate({
    organizationId: "acme",
    origin: "https://acme.com",
    method: "chat.boot",
  });
  assert.equal(decision.allowed, true);
  assert.equal(decision.rule, "acme.com");
  assert.equal(evaluator.verifyAdminKey("beta", ENV.BETA_ADMIN), true);
  assert.equal(evaluator.organization("acme.test"), undefined);
  assert.ok(Object.isFrozen(evaluator));
});

Deno.test("PolicyDirectory keeps a broken file's last good version while a good edit of another takes effect", async () => {
  const directory = await loaded();
  const before = directory.evaluator;
  const update = await directory.apply([
    ["beta.yml", organizationFile("beta.example", "domains: twice\n")],
    ["acme.yaml", organizationFile('"*.acme.com"')],
  ]);
  assert.equal(update.changed, true);
  assert.deepEqual(
    update.files.map((file) => [file.file, file.ok]),
    [["acme.yaml", true], ["beta.yml", false]],
  );
  const beta = update.files[1]?.problems.find((problem) =>
    problem.severity === "error"
  );
  assert.equal(beta?.code, "duplicate-key");
  assert.equal(beta?.file, "beta.yml");
  assert.equal(beta?.line, 4);
  const evaluator = directory.evaluator;
  assert.equal(
    evaluator.organization("beta"),
    before.organization("beta"),
    "beta keeps its last good version",
  );
  assert.equal(
    (await evaluator.evaluate({
      organizationId: "acme",
      origin: "https://shop.acme.com",
    })).allowed,
    true,
    "acme's edit is in force",
  );
  assert.equal(
    (await before.evaluate({
      organizationId: "acme",
      origin: "https://shop.acme.com",
    })).allowed,
    false,
    "an evaluator already handed out never changes",
  );
  assert.deepEqual(directory.failures(), [{
    file: "beta.yml",
    line: 4,
    column: 1,
    code: "duplicate-key",
  }]);
});

Deno.test("PolicyDirectory compiles only the edited organization", async () => {
  const directory = await loaded();
  const before = directory.evaluator;
  await directory.apply([["gamma.json", '{"version": 1, "name": "Gamma"}']]);
  const after = directory.evaluator;
  assert.notEqual(after, before);
  assert.equal(after.organization("gamma")?.spec.name, "Gamma");
  assert.equal(after.organization("acme"), before.organization("acme"));
  assert.equal(after.organization("beta"), before.organization("beta"));
});

Deno.test("PolicyDirectory adds an organization for a new file and removes it with the file", async () => {
  const directory = await loaded();
  await directory.apply([["delta.yaml", organizationFile("delta.example")]]);
  assert.ok(directory.evaluator.organization("delta"));
  const update = await directory.apply([["delta.yaml", undefined]]);
  assert.deepEqual(update.files.map((file) => [file.file, file.removed]), [[
    "delta.yaml",
    true,
  ]]);
  assert.equal(directory.evaluator.organization("delta"), undefined);
  assert.ok(directory.evaluator.organization("acme"));
});

Deno.test("PolicyDirectory removes an organization whose only version failed, and serves nothing for it", async () => {
  const directory = new PolicyDirectory();
  await directory.apply([[
    "acme.yaml",
    "version: 1\ndomains: { mode: strict }\n",
  ]]);
  assert.equal(directory.evaluator.organization("acme"), undefined);
  assert.deepEqual(directory.failures().map((failure) => failure.code), [
    "bad-enum",
  ]);
});

Deno.test("PolicyDirectory keeps the last good _parley.yaml when its new version is broken", async () => {
  const directory = await loaded();
  const before = directory.evaluator;
  await directory.apply([["_parley.yaml", "version: 1\nsever: {}\n"]]);
  assert.equal(directory.evaluator, before, "nothing in force changed");
  assert.equal(directory.settingsUnusable, false);
  assert.equal(directory.evaluator.spec.defaults.limits.ip.text, "5/minute");
  assert.deepEqual(directory.failures().map((failure) => failure.file), [
    "_parley.yaml",
  ]);
});

Deno.test("PolicyDirectory says when a broken _parley.yaml never compiled", async () => {
  const directory = new PolicyDirectory();
  await directory.apply([
    ["_parley.yaml", "version: 1\norganizations: {}\n"],
    ["gamma.yaml", "version: 1\ndomains: { mode: off }\n"],
  ]);
  assert.equal(directory.settingsUnusable, true);
  assert.equal(directory.failures()[0]?.code, "foreign-organization");
  await directory.apply([["_parley.yaml", undefined]]);
  assert.equal(directory.settingsUnusable, false);
});

Deno.test("PolicyDirectory recompiles every organization when the defaults change, and none for a server edit", async () => {
  const directory = await loaded();
  const before = directory.evaluator;
  await directory.apply([[
    "_parley.yaml",
    `version: 1\ndefaults:\n  limits: { ip: 5/minute }\nserver: { trustProxy: 2 }\n${SECRETS}`,
  ]]);
  const serverOnly = directory.evaluator;
  assert.equal(serverOnly.spec.server.trustProxy, 2);
  assert.equal(serverOnly.organization("acme"), before.organization("acme"));
  await directory.apply([[
    "_parley.yaml",
    `version: 1\ndefaults:\n  limits: { ip: 9/minute }\n${SECRETS}`,
  ]]);
  const after = directory.evaluator;
  assert.equal(after.organization("acme")?.spec.limits.ip.text, "9/minute");
  assert.equal(after.organization("gamma")?.spec.limits.ip.text, "9/minute");
  assert.equal(after.spec.server.trustProxy, 0);
});

Deno.test("PolicyDirectory refuses two files for one organization and keeps the version in force", async () => {
  const directory = await loaded();
  const before = directory.evaluator.organization("acme");
  const update = await directory.apply([[
    "acme.json",
    '{"version": 1, "domains": {"mode": "off"}}',
  ]]);
  assert.equal(update.files[0]?.problems[0]?.code, "duplicate-organization");
  assert.equal(directory.evaluator.organization("acme"), before);
  assert.deepEqual(
    directory.failures().map((failure) => [failure.file, failure.code]),
    [["acme.json", "duplicate-organization"], [
      "acme.yaml",
      "duplicate-organization",
    ]],
  );
  await directory.apply([["acme.yaml", undefined]]);
  assert.equal(
    directory.evaluator.organization("acme")?.spec.domains.mode,
    "off",
  );
  assert.deepEqual(directory.failures(), []);
});

Deno.test("PolicyDirectory reports reserved and malformed file names", async () => {
  const directory = new PolicyDirectory();
  await directory.apply([
    ["_shared.yaml", "version: 1\n"],
    ["acme corp.yaml", "version: 1\n"],
  ]);
  assert.deepEqual(
    directory.failures().map((failure) => [failure.file, failure.code]),
    [["_shared.yaml", "reserved-file-name"], [
      "acme corp.yaml",
      "bad-organization-id",
    ]],
  );
  assert.equal(directory.evaluator.spec.organizations.size, 0);
});

Deno.test("PolicyDirectory revisions depend on the files in force, not the order they came in", async () => {
  const forward = (await loaded()).evaluator.revision;
  const backward = new PolicyDirectory({ env: ENV });
  await backward.apply([...FILES].reverse());
  assert.equal(backward.evaluator.revision, forward);
  assert.match(forward, /^[0-9a-f]{16}$/);
  await backward.apply([["gamma.json", '{"version": 1, "name": "G"}']]);
  assert.notEqual(backward.evaluator.revision, forward);
  await backward.apply([["gamma.json", FILES[3]![1]]]);
  assert.equal(backward.evaluator.revision, forward);
});

Deno.test("PolicyDirectory keeps each file's warnings, naming the file", async () => {
  const directory = new PolicyDirectory();
  await directory.apply([["acme.yaml", "version: 1\n"]]);
  assert.deepEqual(
    directory.evaluator.warnings.map((warning) => [
      warning.file,
      warning.code,
    ]),
    [["acme.yaml", "no-domains"]],
  );
});

Deno.test("PolicyDirectory reports a missing secret in one file without blocking the others", async () => {
  const directory = new PolicyDirectory({ env: {} });
  await directory.apply(FILES);
  assert.deepEqual(
    directory.failures().map((failure) => [failure.file, failure.code]),
    [["acme.yaml", "env-missing"], ["beta.yml", "env-missing"]],
  );
  assert.deepEqual([...directory.evaluator.spec.organizations.keys()], [
    "gamma",
  ]);
});

Deno.test("PolicyDirectory keeps the last good version of a file that cannot be read", async () => {
  const directory = await loaded();
  const before = directory.evaluator;
  const update = await directory.apply([
    ["acme.yaml", { unreadable: "permission denied" }],
    ["_parley.yaml", { unreadable: "permission denied" }],
  ]);
  assert.equal(update.changed, false);
  assert.equal(directory.evaluator, before);
  assert.deepEqual(
    directory.failures().map((failure) => [failure.file, failure.code]),
    [["_parley.yaml", "unreadable-file"], ["acme.yaml", "unreadable-file"]],
  );
});

const BETA_WITH_ACME_SECRET = organizationFile(
  "beta.example",
  "webhook:\n  url: https://beta.example/hook\n  secret: { env: ACME_JWT }\n",
);

Deno.test("PolicyDirectory refuses beta's file naming acme's variable, and keeps beta's last good version", async () => {
  const directory = await loaded();
  const before = directory.evaluator.organization("beta");
  const update = await directory.apply([["beta.yml", BETA_WITH_ACME_SECRET]]);
  assert.deepEqual(
    update.files[0]?.problems.map((problem) => [
      problem.code,
      problem.line,
      problem.column,
    ]),
    [["secret-not-assigned", 6, 18]],
  );
  assert.equal(directory.evaluator.organization("beta"), before);
  assert.equal(
    directory.evaluator.organization("beta")?.spec.webhook,
    undefined,
  );
});

Deno.test("PolicyDirectory does not load a new organization whose file names another's variable", async () => {
  const directory = await loaded();
  await directory.apply([["delta.yaml", BETA_WITH_ACME_SECRET]]);
  assert.equal(directory.evaluator.organization("delta"), undefined);
  assert.deepEqual(
    directory.failures().filter((failure) => failure.file === "delta.yaml"),
    [{ file: "delta.yaml", line: 6, column: 18, code: "secret-not-assigned" }],
  );
});

Deno.test("PolicyDirectory without a secrets: map lets organization files name no variable", async () => {
  const directory = new PolicyDirectory({ env: ENV });
  await directory.apply(
    FILES.map(([name, text]) =>
      name === "_parley.yaml" ? [name, "version: 1\n"] as const : [name, text]
    ),
  );
  assert.deepEqual(
    directory.failures().map((failure) => [failure.file, failure.code]),
    [["acme.yaml", "secret-not-assigned"], [
      "beta.yml",
      "secret-not-assigned",
    ]],
  );
  assert.deepEqual([...directory.evaluator.spec.organizations.keys()], [
    "gamma",
  ]);
});

Deno.test("PolicyDirectory recompiles only the organization whose secrets: entry changed", async () => {
  const directory = await loaded();
  const before = directory.evaluator;
  await directory.apply([[
    "_parley.yaml",
    "version: 1\ndefaults:\n  limits: { ip: 5/minute }\nsecrets: { acme: [ACME_*], beta: [BETA_ADMIN, BETA_HOOK] }\n",
  ]]);
  const after = directory.evaluator;
  assert.notEqual(after.organization("beta"), before.organization("beta"));
  assert.equal(after.organization("acme"), before.organization("acme"));
  assert.equal(after.organization("gamma"), before.organization("gamma"));
});

Deno.test("PolicyDirectory takes an organization out when the variables it uses are no longer assigned to it", async () => {
  const directory = await loaded();
  // acme's latest version fails, so its last good one is checked again.
  await directory.apply([["acme.yaml", "version: 1\ndomains: twice\n"]]);
  assert.ok(directory.evaluator.organization("acme"));
  await directory.apply([[
    "_parley.yaml",
    "version: 1\ndefaults:\n  limits: { ip: 5/minute }\nsecrets: { beta: [BETA_ADMIN] }\n",
  ]]);
  assert.equal(directory.evaluator.organization("acme"), undefined);
  assert.ok(directory.evaluator.organization("beta"));
});

const REFUSALS: ReadonlyArray<readonly [string, string]> = [
  [
    "file-too-large",
    "File is larger than 1048576 bytes (1 MiB), so it is not read",
  ],
  [
    "symlink-outside",
    "File is a symbolic link to a place outside the policy directory",
  ],
];

for (const [code, message] of REFUSALS) {
  Deno.test(`PolicyDirectory keeps the last good version of a file the reader refused (${code}), and loads no new one`, async () => {
    const directory = await loaded();
    const before = directory.evaluator;
    const refused = { refused: { code, message, hint: "Fix it" } };
    const update = await directory.apply([
      ["acme.yaml", refused],
      ["delta.yaml", refused],
    ]);
    assert.equal(update.changed, false);
    assert.equal(directory.evaluator, before);
    assert.equal(directory.evaluator.organization("delta"), undefined);
    assert.deepEqual(directory.failures(), [
      { file: "acme.yaml", line: 1, column: 1, code },
      { file: "delta.yaml", line: 1, column: 1, code },
    ]);
  });
}

Deno.test("PolicyDirectory runs each file's validation through the validator it is given", async () => {
  const kinds: string[] = [];
  const directory = new PolicyDirectory({
    env: ENV,
    validate: (request) => {
      kinds.push(`${request.kind}:${request.options.filename}`);
      return validateInThread(request);
    },
  });
  await directory.apply(FILES);
  assert.deepEqual(kinds.sort(), [
    "organization:acme.yaml",
    "organization:beta.yml",
    "organization:gamma.json",
    "settings:_parley.yaml",
  ]);
  assert.equal(directory.evaluator.spec.organizations.size, 3);
});

Deno.test("PolicyDirectory keeps a refused file's problem when the defaults change, and its last good version takes them", async () => {
  const directory = await loaded();
  await directory.apply([["acme.yaml", {
    refused: { code: "symlink-outside", message: "Outside", hint: "Fix it" },
  }]]);
  await directory.apply([[
    "_parley.yaml",
    `version: 1\ndefaults:\n  limits: { ip: 9/minute }\n${SECRETS}`,
  ]]);
  assert.deepEqual(
    directory.failures().map((failure) => [failure.file, failure.code]),
    [["acme.yaml", "symlink-outside"]],
  );
  assert.equal(
    directory.evaluator.organization("acme")?.spec.limits.ip.text,
    "9/minute",
  );
});
