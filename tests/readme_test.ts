/**
 * README and docs/ are part of the product: what they tell integrators must
 * match the code. Every fenced code block of README.md and docs/*.md is
 * checked by its language — a policy validates, a command names a real task,
 * CLI command and flags, TypeScript type-checks (and the library snippet, which
 * says it runs, runs), the token example mints a token the README's policy
 * verifies — or is of a kind no test here can run
 * (a proxy's configuration, a program's output).
 *
 * Blocks may rely on these names, which the tests supply: `user` (the site's
 * signed-in user) in JavaScript, and the `{ env: NAME }` secrets of a policy.
 */

import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { parseCaseFile } from "../policy/policy_cases.ts";
import {
  validateOrganizationFile,
  validatePolicy,
  validateSettingsFile,
} from "../policy/validate.ts";
import { compilePolicy } from "../policy/compile.ts";
import { LOADER_SNIPPET } from "../widget/loader_snippet.ts";
import { METHODS } from "../rpc/methods/table.ts";
import { ERROR_STATUS } from "../wire/mod.ts";
import {
  type CodeBlock,
  codeBlocks,
  type MarkdownDoc,
  readDocs,
  ROOT,
} from "./markdown_docs.ts";

const docs = await readDocs();
const blocks = docs.flatMap(codeBlocks);
const readme = docs.find((doc) => doc.path === "README.md")!.text;
const rpcReference = docFile("docs/rpc.md").text;

function docFile(path: string): MarkdownDoc {
  const doc = docs.find((doc) => doc.path === path);
  assert.ok(doc, `${path} is missing`);
  return doc;
}

function where(block: CodeBlock): string {
  return `${block.doc}:${block.line}`;
}

/** Every `{ env: NAME }` of a text set to a secret long enough. */
function envFor(text: string): Record<string, string> {
  return Object.fromEntries(
    [...text.matchAll(/env: ([A-Z0-9_]+)/g)].map((match) => [
      match[1]!,
      `${match[1]}-0123456789abcdef0123456789abcdef`,
    ]),
  );
}

/** Languages whose blocks no test here can run, and why. */
const NOT_RUN: Record<string, string> = {
  "": "a program's output or a directory listing",
  nginx: "an nginx configuration",
  caddy: "a Caddyfile",
  ini: "a systemd unit",
};

/** What a YAML block is, from its shape. */
function yamlKind(
  code: string,
): "policy" | "settings" | "organization" | "cases" | null {
  if (/^organizations:/m.test(code)) return "policy";
  if (/^cases:/m.test(code)) return "cases";
  if (/^# _parley\.yaml\b/.test(code)) return "settings";
  if (/^# [\w-]+\.(yaml|yml)\b/.test(code)) return "organization";
  return null;
}

Deno.test("README shows the loader snippet the widget drains", () => {
  assert.ok(
    readme.includes(LOADER_SNIPPET),
    "README's loader snippet differs from LOADER_SNIPPET",
  );
});

Deno.test("docs/rpc.md's error table lists every wire code with its status", () => {
  for (const [code, status] of Object.entries(ERROR_STATUS)) {
    assert.match(
      rpcReference,
      new RegExp(`\\| \`${code}\` +\\| ${status} +\\|`),
      code,
    );
  }
});

Deno.test("docs/rpc.md documents every RPC method", () => {
  for (const method of Object.keys(METHODS)) {
    assert.match(rpcReference, new RegExp(`\\| \`${method}\` +\\|`), method);
  }
});

Deno.test("README shows the two set-up commands", () => {
  assert.match(readme, /deno task start/);
  assert.match(readme, /deno task test/);
  assert.match(readme, /npx --yes deno@2\.9\.6 task start/);
});

Deno.test("every code block is of a language the doc tests check or know they cannot run", () => {
  const checked = new Set(["yaml", "sh", "ts", "js", "html"]);
  for (const block of blocks) {
    assert.ok(
      checked.has(block.language) || block.language in NOT_RUN,
      `${where(block)}: no doc test for \`\`\`${block.language}`,
    );
  }
});

Deno.test("every YAML block is a policy, an organization file or policy tests, and each is valid", () => {
  const yaml = blocks.filter((block) => block.language === "yaml");
  assert.ok(yaml.length >= 4, "the policy blocks are missing");
  for (const block of yaml) {
    const kind = yamlKind(block.code);
    const env = envFor(block.code);
    switch (kind) {
      case "policy": {
        const { problems } = validatePolicy(block.code, { env });
        assert.deepEqual(
          problems.filter((problem) => problem.severity === "error"),
          [],
          where(block),
        );
        break;
      }
      case "settings": {
        const { problems } = validateSettingsFile(block.code);
        assert.deepEqual(problems, [], where(block));
        break;
      }
      case "organization": {
        const organizationId = /^# ([\w-]+)\./.exec(block.code)![1]!;
        const { problems } = validateOrganizationFile(block.code, {
          organizationId,
          env,
        });
        assert.deepEqual(problems, [], where(block));
        break;
      }
      case "cases": {
        const parsed = parseCaseFile(block.code);
        assert.deepEqual(parsed.problems, [], where(block));
        const written = block.code.match(/^ {2}- name:/gm)?.length ?? 0;
        assert.ok(written > 0, where(block));
        assert.equal(parsed.cases.length, written, where(block));
        break;
      }
      default:
        assert.fail(`${where(block)}: a YAML block of no known kind`);
    }
  }
});

/** Each policy CLI command with the flags its usage names. */
async function policyCliUsage(): Promise<Map<string, Set<string>>> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", "cli/main.ts", "help"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const usage = new Map<string, Set<string>>();
  let command: string | undefined;
  for (const line of new TextDecoder().decode(output.stdout).split("\n")) {
    const start = /deno task policy ([a-z]+)/.exec(line);
    if (start !== null) command = start[1]!;
    else if (!/^\s{6,}\[/.test(line)) command = undefined;
    if (command === undefined) continue;
    const flags = usage.get(command) ?? new Set();
    for (const flag of line.matchAll(/--[a-z-]+/g)) flags.add(flag[0]);
    usage.set(command, flags);
  }
  assert.ok(usage.has("check"), "the policy CLI's usage has no commands");
  return usage;
}

Deno.test("every shell block names real tasks, policy commands, flags and files", async () => {
  const tasks = Object.keys(
    JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))).tasks,
  );
  const usage = await policyCliUsage();
  const sh = blocks.filter((block) => block.language === "sh");
  assert.ok(sh.length > 0);
  for (const block of sh) {
    const commands = block.code.replace(/\\\n/g, " ").split("\n")
      .map((line) => line.replace(/(^|\s)#.*$/, "").trim())
      .filter((line) => line !== "");
    for (const command of commands) {
      const context = `${where(block)}: ${command}`;
      const task = /\btask ([\w:-]+)(.*)$/.exec(command);
      if (task !== null) {
        assert.ok(tasks.includes(task[1]!), `${context}: no such task`);
        if (task[1] === "policy") {
          const [, name, rest] = /^\s*(\S+)(.*)$/.exec(task[2]!) ?? [];
          const flags = usage.get(name ?? "");
          assert.ok(flags, `${context}: no such policy command`);
          for (const flag of rest!.matchAll(/--[a-z-]+/g)) {
            assert.ok(flags.has(flag[0]), `${context}: no flag ${flag[0]}`);
          }
        }
      }
      const entry = /\bdeno (?:run|serve)\b.*?\s(\S+\.ts)\b/.exec(command);
      const files = [
        ...(entry === null || entry[1]!.startsWith("/") ? [] : [entry[1]!]),
        ...[...command.matchAll(/(?:^|\s)(examples\/\S+)/g)].map((m) => m[1]!),
      ];
      for (const file of files) {
        await Deno.stat(new URL(file, ROOT)).catch(() =>
          assert.fail(`${context}: ${file} does not exist`)
        );
      }
    }
  }
});

/** Runs `deno` with the project's configuration; never writes deno.lock. */
async function deno(args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      args[0]!,
      "--frozen",
      "--config",
      `${ROOT.pathname}deno.json`,
      ...args.slice(1),
    ],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test("every TypeScript block type-checks against mod.ts", async () => {
  const ts = blocks.filter((block) => block.language === "ts");
  assert.ok(ts.length > 0);
  const dir = await Deno.makeTempDir({ prefix: "parley-docs-" });
  try {
    for (const block of ts) {
      const file = `${dir}/block_${ts.indexOf(block)}.ts`;
      await Deno.writeTextFile(
        file,
        block.code.replaceAll(
          '"jsr:@parley/parley"',
          JSON.stringify(new URL("mod.ts", ROOT).href),
        ),
      );
      const result = await deno(["check", file]);
      assert.equal(result.code, 0, `${where(block)}:\n${result.stderr}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the library snippet runs as written: it serves, judges a token, and exits by itself once closed", async () => {
  const [snippet] = codeBlocks(docFile("docs/deploy.md")).filter((block) =>
    block.language === "ts"
  );
  assert.ok(snippet, "docs/deploy.md has no library snippet");
  assert.match(
    snippet.code,
    /await handler\.close\(\);\nawait store\.close\(\);/,
  );
  const policyBlock = codeBlocks(docFile("README.md")).find((block) =>
    yamlKind(block.code) === "policy"
  );
  assert.ok(policyBlock, "README has no policy");
  const env = envFor(policyBlock.code);
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ org_id: "acme" })
    .setProtectedHeader({ alg: "HS256", kid: "2026-11" })
    .setIssuer("https://shop.acme.com")
    .setAudience("chat-widget")
    .setSubject("user_123")
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(new TextEncoder().encode(env.ACME_CHAT_JWT_SECRET!));
  const dir = await Deno.makeTempDir({ prefix: "parley-docs-" });
  try {
    await Deno.writeTextFile(`${dir}/policy.yaml`, policyBlock.code);
    await Deno.writeTextFile(
      `${dir}/library.ts`,
      snippet.code.replaceAll(
        '"jsr:@parley/parley"',
        JSON.stringify(new URL("mod.ts", ROOT).href),
      ) + "console.log(JSON.stringify(decision.identity));\n",
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--frozen",
        "--config",
        `${ROOT.pathname}deno.json`,
        "-A",
        `${dir}/library.ts`,
      ],
      cwd: dir,
      env: { ...env, USER_TOKEN: token, PORT: "0", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
      // Still running after this means something kept it alive.
      signal: AbortSignal.timeout(60_000),
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    const identity = JSON.parse(
      new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!,
    );
    assert.equal(identity.verified, true);
    assert.equal(identity.subject, "user_123");
    assert.doesNotMatch(stderr, /request\.signal/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("README's jsonwebtoken example mints a token README's policy verifies", async () => {
  const js = blocks.filter((block) => block.language === "js");
  assert.ok(js.length > 0);
  const policyBlock = codeBlocks(docFile("README.md")).find((block) =>
    yamlKind(block.code) === "policy"
  );
  assert.ok(policyBlock, "README has no policy");
  const env = envFor(policyBlock.code);
  const evaluator = compilePolicy(policyBlock.code, {
    env: (name) => env[name],
  });
  const dir = await Deno.makeTempDir({ prefix: "parley-docs-" });
  try {
    for (const block of js) {
      const file = `${dir}/block_${js.indexOf(block)}.mjs`;
      await Deno.writeTextFile(
        file,
        `const user = { id: "user_123", name: "Ada Lovelace", email: "ada@example.com" };\n` +
          block.code + "console.log(token);\n",
      );
      const result = await deno(["run", "--allow-env", file], env);
      assert.equal(result.code, 0, `${where(block)}:\n${result.stderr}`);
      const decision = await evaluator.evaluate({
        organizationId: "acme",
        origin: "https://shop.acme.com",
        method: "chat.boot",
        token: result.stdout.trim(),
        userId: "user_123",
      });
      assert.equal(
        decision.allowed,
        true,
        `${where(block)}: ${decision.reason}`,
      );
      assert.equal(decision.identity?.verified, true, where(block));
      assert.equal(decision.identity?.subject, "user_123", where(block));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every HTML block that boots the widget starts with the loader snippet", () => {
  const html = blocks.filter((block) => block.language === "html");
  assert.ok(html.length > 0);
  for (const block of html) {
    if (!block.code.includes("ChatWidget.boot")) continue;
    const loader = block.code.indexOf(LOADER_SNIPPET);
    assert.ok(loader !== -1, `${where(block)}: no loader snippet`);
    assert.ok(
      loader < block.code.indexOf("widget.js"),
      `${where(block)}: the loader must come before widget.js`,
    );
  }
});
