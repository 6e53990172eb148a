import assert from "node:assert/strict";
import {
  classifyPolicyFile,
  PolicyDirectory,
  type PolicyFileKind,
} from "./policy_directory.ts";

const ENV = {
  ACME_JWT: "acme-jwt-secret-0123456789abcdef0123456",
  BETA_ADMIN: "beta-admin-key-0123456789abcdef01234567",
};

function organizationFile(allow: string, extra = ""): string {
  return `version: 1\ndomains:\n  allow: [${allow}]\n${extra}`;
}

const FILES: ReadonlyArray<readonly [string, string]> = [
  ["_parley.yaml", "version: 1\ndefaults:\n  limits: { ip: 5/minute }\n"],
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

function loaded(): PolicyDirectory {
  const directory = new PolicyDirectory({ env: ENV });
  directory.apply(FILES);
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
  const evaluator = loaded().evaluator;
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
  const directory = loaded();
  const before = directory.evaluator;
  const update = directory.apply([
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
    message: beta?.message,
  }]);
});

Deno.test("PolicyDirectory compiles only the edited organization", () => {
  const directory = loaded();
  const before = directory.evaluator;
  directory.apply([["gamma.json", '{"version": 1, "name": "Gamma"}']]);
  const after = directory.evaluator;
  assert.notEqual(after, before);
  assert.equal(after.organization("gamma")?.spec.name, "Gamma");
  assert.equal(after.organization("acme"), before.organization("acme"));
  assert.equal(after.organization("beta"), before.organization("beta"));
});

Deno.test("PolicyDirectory adds an organization for a new file and removes it with the file", () => {
  const directory = loaded();
  directory.apply([["delta.yaml", organizationFile("delta.example")]]);
  assert.ok(directory.evaluator.organization("delta"));
  const update = directory.apply([["delta.yaml", undefined]]);
  assert.deepEqual(update.files.map((file) => [file.file, file.removed]), [[
    "delta.yaml",
    true,
  ]]);
  assert.equal(directory.evaluator.organization("delta"), undefined);
  assert.ok(directory.evaluator.organization("acme"));
});

Deno.test("PolicyDirectory removes an organization whose only version failed, and serves nothing for it", () => {
  const directory = new PolicyDirectory();
  directory.apply([["acme.yaml", "version: 1\ndomains: { mode: strict }\n"]]);
  assert.equal(directory.evaluator.organization("acme"), undefined);
  assert.deepEqual(directory.failures().map((failure) => failure.code), [
    "bad-enum",
  ]);
});

Deno.test("PolicyDirectory keeps the last good _parley.yaml when its new version is broken", () => {
  const directory = loaded();
  const before = directory.evaluator;
  directory.apply([["_parley.yaml", "version: 1\nsever: {}\n"]]);
  assert.equal(directory.evaluator, before, "nothing in force changed");
  assert.equal(directory.settingsUnusable, false);
  assert.equal(directory.evaluator.spec.defaults.limits.ip.text, "5/minute");
  assert.deepEqual(directory.failures().map((failure) => failure.file), [
    "_parley.yaml",
  ]);
});

Deno.test("PolicyDirectory says when a broken _parley.yaml never compiled", () => {
  const directory = new PolicyDirectory();
  directory.apply([
    ["_parley.yaml", "version: 1\norganizations: {}\n"],
    ["gamma.yaml", "version: 1\ndomains: { mode: off }\n"],
  ]);
  assert.equal(directory.settingsUnusable, true);
  assert.equal(directory.failures()[0]?.code, "foreign-organization");
  directory.apply([["_parley.yaml", undefined]]);
  assert.equal(directory.settingsUnusable, false);
});

Deno.test("PolicyDirectory recompiles every organization when the defaults change, and none for a server edit", () => {
  const directory = loaded();
  const before = directory.evaluator;
  directory.apply([[
    "_parley.yaml",
    "version: 1\ndefaults:\n  limits: { ip: 5/minute }\nserver: { trustProxy: 2 }\n",
  ]]);
  const serverOnly = directory.evaluator;
  assert.equal(serverOnly.spec.server.trustProxy, 2);
  assert.equal(serverOnly.organization("acme"), before.organization("acme"));
  directory.apply([[
    "_parley.yaml",
    "version: 1\ndefaults:\n  limits: { ip: 9/minute }\n",
  ]]);
  const after = directory.evaluator;
  assert.equal(after.organization("acme")?.spec.limits.ip.text, "9/minute");
  assert.equal(after.organization("gamma")?.spec.limits.ip.text, "9/minute");
  assert.equal(after.spec.server.trustProxy, 0);
});

Deno.test("PolicyDirectory refuses two files for one organization and keeps the version in force", () => {
  const directory = loaded();
  const before = directory.evaluator.organization("acme");
  const update = directory.apply([[
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
  directory.apply([["acme.yaml", undefined]]);
  assert.equal(
    directory.evaluator.organization("acme")?.spec.domains.mode,
    "off",
  );
  assert.deepEqual(directory.failures(), []);
});

Deno.test("PolicyDirectory reports reserved and malformed file names", () => {
  const directory = new PolicyDirectory();
  directory.apply([
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

Deno.test("PolicyDirectory revisions depend on the files in force, not the order they came in", () => {
  const forward = loaded().evaluator.revision;
  const backward = new PolicyDirectory({ env: ENV });
  backward.apply([...FILES].reverse());
  assert.equal(backward.evaluator.revision, forward);
  assert.match(forward, /^[0-9a-f]{16}$/);
  backward.apply([["gamma.json", '{"version": 1, "name": "G"}']]);
  assert.notEqual(backward.evaluator.revision, forward);
  backward.apply([["gamma.json", FILES[3]![1]]]);
  assert.equal(backward.evaluator.revision, forward);
});

Deno.test("PolicyDirectory keeps each file's warnings, naming the file", () => {
  const directory = new PolicyDirectory();
  directory.apply([["acme.yaml", "version: 1\n"]]);
  assert.deepEqual(
    directory.evaluator.warnings.map((warning) => [
      warning.file,
      warning.code,
    ]),
    [["acme.yaml", "no-domains"]],
  );
});

Deno.test("PolicyDirectory reports a missing secret in one file without blocking the others", () => {
  const directory = new PolicyDirectory({ env: {} });
  directory.apply(FILES);
  assert.deepEqual(
    directory.failures().map((failure) => [failure.file, failure.code]),
    [["acme.yaml", "env-missing"], ["beta.yml", "env-missing"]],
  );
  assert.deepEqual([...directory.evaluator.spec.organizations.keys()], [
    "gamma",
  ]);
});

Deno.test("PolicyDirectory keeps the last good version of a file that cannot be read", () => {
  const directory = loaded();
  const before = directory.evaluator;
  const update = directory.apply([
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
