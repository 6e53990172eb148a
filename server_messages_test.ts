import assert from "node:assert/strict";
import { compilePolicy } from "./policy/compile.ts";
import { PolicyError } from "./policy/error.ts";
import {
  cannotBuildLine,
  cannotListenLine,
  cannotStartLines,
  listeningLines,
  policyVariablesLine,
  signInLine,
} from "./server_messages.ts";
import { ServerSettingsError, SettingProblem } from "./server_settings.ts";

Deno.test("cannotStartLines() prints a policy's warnings with the warning: label policy check uses", () => {
  const error = new PolicyError([
    {
      code: "inline-secret",
      severity: "warning",
      path: "organizations.acme.admin.keys[0].secret",
      line: 9,
      column: 15,
      message: "Secret of admin key is written inline in the policy",
    },
    {
      code: "unknown-key",
      severity: "error",
      path: "organizations.acme.domain",
      line: 4,
      column: 5,
      message: 'Unknown key "domain"',
      hint: 'Did you mean "domains"?',
    },
  ]);
  assert.deepEqual(cannotStartLines(error, "policy.yaml"), [
    "parley: the policy has errors, not starting:",
    "policy.yaml:9:15 inline-secret warning: Secret of admin key is written inline in the policy",
    'policy.yaml:4:5 unknown-key Unknown key "domain" (Did you mean "domains"?)',
  ]);
});

Deno.test("cannotStartLines() names each setting on its own line", () => {
  const error = new ServerSettingsError([
    new SettingProblem("PORT", 'PORT must be a port number, got "abc"'),
    new SettingProblem("HOSTNAME", "HOSTNAME must be an address"),
  ]);
  assert.deepEqual(cannotStartLines(error, null), [
    'parley: cannot start: PORT must be a port number, got "abc"',
    "parley: cannot start: HOSTNAME must be an address",
  ]);
});

Deno.test("policyVariablesLine() lists what the policy reads and what is not set", () => {
  assert.equal(policyVariablesLine({ named: [], missing: [] }), undefined);
  assert.equal(
    policyVariablesLine({ named: ["A_KEY", "B_KEY"], missing: [] }),
    "parley: the policy reads A_KEY, B_KEY (all set)",
  );
  assert.match(
    policyVariablesLine({ named: ["A_KEY", "B_KEY"], missing: ["B_KEY"] })!,
    /^parley: the policy reads A_KEY, B_KEY; not set: B_KEY \(export it and restart/,
  );
});

const SECRET = "a-secret-of-at-least-thirty-two-bytes!!";

Deno.test("signInLine() is silent while an organization has an admin key, and names the unset admin variables otherwise", () => {
  const withKey = compilePolicy(
    `version: 1
organizations:
  acme:
    admin: { keys: [{ secret: { env: ACME_ADMIN_KEY } }] }
`,
    { env: { ACME_ADMIN_KEY: SECRET } },
  );
  assert.equal(
    signInLine(withKey, { named: ["ACME_ADMIN_KEY"], missing: [] }, [
      "ACME_ADMIN_KEY",
    ]),
    undefined,
  );
  const without = compilePolicy(`version: 1
organizations:
  acme: {}
`);
  assert.match(
    signInLine(without, {
      named: ["ACME_ADMIN_KEY", "JWT"],
      missing: ["ACME_ADMIN_KEY", "JWT"],
    }, [
      "ACME_ADMIN_KEY",
    ])!,
    /^parley: no organization has an admin key whose variable is set, so nobody can sign in at \/agent: set ACME_ADMIN_KEY \(/,
  );
  assert.match(
    signInLine(without, { named: [], missing: [] }, [])!,
    /^parley: no organization has an admin key, so nobody can sign in at \/agent: add admin: /,
  );
});

Deno.test("listeningLines() brackets an IPv6 address and shows the demo's inbox with its key", () => {
  const lines = listeningLines({
    hostname: "::1",
    port: 8787,
    policyPath: null,
    revision: "abc",
    store: { engine: "kv", location: "/srv/parley/kv.sqlite" },
    demoAdminKey: "demo-key",
  });
  assert.deepEqual(lines, [
    "parley: listening on http://[::1]:8787/ · policy built-in demo · revision abc · store kv /srv/parley/kv.sqlite",
    "parley: agent inbox http://[::1]:8787/agent?org=demo · admin key demo-key",
  ]);
});

Deno.test("cannotListenLine() gives the fix for each bind failure", () => {
  assert.match(
    cannotListenLine("127.0.0.1", 8787, new Deno.errors.AddrInUse("in use")),
    /another process uses port 8787: .*PORT=8788, or PORT=0/,
  );
  assert.match(
    cannotListenLine("127.0.0.1", 80, new Deno.errors.PermissionDenied("no")),
    /ports below 1024 need privileges\): set PORT=8787/,
  );
  assert.match(
    cannotListenLine("10.9.9.9", 8787, new Deno.errors.AddrNotAvailable("no")),
    /HOSTNAME=10\.9\.9\.9 is not an address of this machine/,
  );
});

Deno.test("cannotBuildLine() names what failed to build, in one line", () => {
  assert.equal(
    cannotBuildLine(
      new Error("widget/locales has problems:\nde.json: missing-key: send"),
    ),
    "parley: cannot build the widget: widget/locales has problems:\nde.json: missing-key: send",
  );
  assert.equal(
    cannotBuildLine("esbuild stopped"),
    "parley: cannot build the widget: esbuild stopped",
  );
});
