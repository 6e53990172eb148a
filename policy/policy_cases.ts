/**
 * Policy tests (`<id>.test.yaml`, `deno task policy test`): cases that say
 * what the evaluator must decide for a request, checked against the real
 * evaluator with tokens minted by `jose`.
 *
 * ```yaml
 * cases:
 *   - name: the shop boots anonymously
 *     origin: https://shop.acme.com     # omit for a request without Origin
 *     method: chat.boot                 # default chat.boot
 *     expect: allowed                   # or DOMAIN_NOT_ALLOWED, JWT_REQUIRED, JWT_INVALID, ORGANIZATION_NOT_FOUND
 *   - name: an expired token is refused
 *     origin: https://shop.acme.com
 *     token: { kid: "2026-11", sub: user_1, expiresIn: -1m }
 *     expect: JWT_INVALID
 *     reason: jwt.expired
 * ```
 *
 * The runner both mints and verifies, so no real secret is needed: a key
 * whose environment variable is unset gets a throwaway secret for the run
 * ({@linkcode throwawayEnv}), and `secret: other` signs with a wrong one.
 * Nothing here prints a secret or a token.
 *
 * @module
 */

import { parseOrigin } from "./host.ts";
import { mintUserToken } from "./mint_user_token.ts";
import {
  type MapEntry,
  parsePolicyText,
  type PolicyNode,
  type Position,
  timeOfNode,
} from "./parse.ts";
import { parseDuration } from "./rate.ts";
import type {
  Decision,
  DecisionCode,
  Evaluator,
  PolicyProblem,
} from "./types.ts";
import { suggestKey } from "./did_you_mean.ts";
import { ORGANIZATION_ID } from "./policy_schema.ts";
import { describeNode } from "./problems.ts";
import { activeKey } from "./user_token.ts";

/** What a case may expect: admission, or one of the evaluator's codes. */
export const EXPECTATIONS: readonly ("allowed" | DecisionCode)[] = Object
  .freeze([
    "allowed",
    "ORGANIZATION_NOT_FOUND",
    "DOMAIN_NOT_ALLOWED",
    "JWT_REQUIRED",
    "JWT_INVALID",
  ]);

/** The methods that carry a user token (`Authorization: Bearer` at boot). */
const USER_TOKEN_METHODS: ReadonlySet<string> = new Set(["chat.boot"]);

const FILE_KEYS = ["organization", "cases"];
const CASE_KEYS = [
  "name",
  "organization",
  "origin",
  "method",
  "app_id",
  "user_id",
  "now",
  "token",
  "expect",
  "reason",
  "rule",
  "verified",
];
const TOKEN_KEYS = ["kid", "sub", "expiresIn", "claims", "secret"];
const METHOD_NAME = /^[a-z]+\.[A-Za-z]+$/;
const DEFAULT_EXPIRES_IN_MS = 10 * 60_000;
/** `sub` of a minted token when the case names none. */
export const DEFAULT_SUBJECT = "test-user";

/** The token a case sends, minted by the runner. */
export interface CaseToken {
  /** The `kid` header; the first key active at the case's time when absent. */
  readonly kid?: string;
  /** The `sub` claim; {@linkcode DEFAULT_SUBJECT} when absent. */
  readonly sub?: string;
  /** `exp` minus `iat`, milliseconds; negative for an expired token. */
  readonly expiresInMs: number;
  /** Claims that override or add to the ones filled in. */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** `other`: sign with a wrong secret. */
  readonly secret?: "other";
}

/** One case of a test file. */
export interface PolicyCase {
  /** What the case proves, as written. */
  readonly name: string;
  /** The line the case starts on. */
  readonly line: number;
  /** The organization, when the case or the file names one. */
  readonly organizationId?: string;
  /** The `Origin` header; absent for a request without one. */
  readonly origin?: string;
  /** The RPC method; `chat.boot` when absent. */
  readonly method: string;
  readonly appId?: string;
  readonly userId?: string;
  /** The request's time, epoch milliseconds; the run's clock when absent. */
  readonly now?: number;
  readonly token?: CaseToken;
  /** `allowed` or the code the decision must carry. */
  readonly expect: "allowed" | DecisionCode;
  /** The stable reason code the decision must carry. */
  readonly reason?: string;
  /** The domain rule that must have matched. */
  readonly rule?: string;
  /** Whether the identity must be verified. */
  readonly verified?: boolean;
}

/** A parsed test file. */
export interface CaseFile {
  /** The organization the file's cases are for, when it says. */
  readonly organizationId?: string;
  /** The well-formed cases; a case with a problem is left out. */
  readonly cases: readonly PolicyCase[];
  /** The lines of the cases left out for their problems (they count as failed). */
  readonly malformed: readonly number[];
  /** Every problem of the file, sorted by position. */
  readonly problems: readonly PolicyProblem[];
}

/** Options of {@linkcode parseCaseFile}. */
export interface ParseCaseFileOptions {
  /**
   * The organization the file belongs to (a policy directory's
   * `<id>.test.yaml`); an `organization` key naming another is an error.
   */
  readonly organizationId?: string;
}

/**
 * Parses a test file, reporting every problem at once with its position.
 *
 * @param text The file's content, YAML or JSON.
 * @param options The organization a directory's test file belongs to.
 * @returns The cases and the problems.
 */
export function parseCaseFile(
  text: string,
  options: ParseCaseFileOptions = {},
): CaseFile {
  const parsed = parsePolicyText(text);
  const reader = new CaseFileReader(parsed.problems, options.organizationId);
  const file = reader.file(parsed.root);
  const problems = [...reader.problems].sort((a, b) =>
    a.line - b.line || a.column - b.column
  );
  return Object.freeze({
    ...file,
    problems: Object.freeze(problems.map((problem) => Object.freeze(problem))),
  });
}

class CaseFileReader {
  readonly problems: PolicyProblem[];
  readonly #organizationId: string | undefined;

  constructor(problems: readonly PolicyProblem[], organizationId?: string) {
    this.problems = [...problems];
    this.#organizationId = organizationId;
  }

  #report(
    code: string,
    path: string,
    at: Position,
    message: string,
    hint?: string,
  ): void {
    this.problems.push({
      code,
      severity: "error",
      path,
      line: at.line,
      column: at.column,
      message,
      ...(hint === undefined ? {} : { hint }),
    });
  }

  #map(
    node: PolicyNode,
    path: string,
    allowed: readonly string[],
  ): Map<string, MapEntry> | undefined {
    if (node.kind !== "map") {
      this.#report(
        "wrong-type",
        path,
        node,
        `Expected a mapping at "${path || "top level"}", found ${
          describeNode(node)
        }`,
      );
      return undefined;
    }
    const entries = new Map<string, MapEntry>();
    for (const entry of node.entries) {
      const entryPath = path === "" ? entry.key : `${path}.${entry.key}`;
      if (!allowed.includes(entry.key)) {
        this.#report(
          "unknown-key",
          entryPath,
          entry.at,
          `Unknown key "${entry.key}"`,
          suggestKey(entry.key, allowed),
        );
      } else if (entries.has(entry.key)) {
        this.#report(
          "duplicate-key",
          entryPath,
          entry.at,
          `Key "${entry.key}" is written twice`,
          "Keep one of the entries",
        );
      } else entries.set(entry.key, entry);
    }
    return entries;
  }

  #string(
    entry: MapEntry | undefined,
    path: string,
    numbers = false,
  ): string | undefined {
    if (entry === undefined) return undefined;
    const value = entry.value;
    if (value.kind === "scalar" && typeof value.value === "string") {
      return value.value;
    }
    if (numbers && value.kind === "scalar" && typeof value.value === "number") {
      return String(value.value);
    }
    this.#report(
      "wrong-type",
      path,
      value,
      `Expected a string at "${path}", found ${describeNode(value)}`,
      value.kind === "scalar" ? "Quote the value" : undefined,
    );
    return undefined;
  }

  #organization(
    entry: MapEntry | undefined,
    path: string,
  ): string | undefined {
    const id = this.#string(entry, path);
    if (id === undefined || entry === undefined) return undefined;
    if (!ORGANIZATION_ID.test(id)) {
      this.#report(
        "bad-organization-id",
        path,
        entry.value,
        `Organization id "${id.slice(0, 80)}" is not allowed`,
        "Use 1 to 64 letters, digits, '_' or '-'",
      );
      return undefined;
    }
    if (this.#organizationId !== undefined && id !== this.#organizationId) {
      this.#report(
        "foreign-organization",
        path,
        entry.value,
        `This file tests "${this.#organizationId}", not "${id}"`,
        `A test file is named for its organization: ${id}.test.yaml`,
      );
      return undefined;
    }
    return id;
  }

  file(root: PolicyNode | undefined): Omit<CaseFile, "problems"> {
    const empty = { cases: Object.freeze([]), malformed: Object.freeze([]) };
    if (root === undefined) {
      this.#report(
        "missing-key",
        "cases",
        { line: 1, column: 1 },
        "Test file is empty",
        "Write cases: followed by a list of cases",
      );
      return empty;
    }
    const top = this.#map(root, "", FILE_KEYS);
    if (top === undefined) return empty;
    const organizationId = this.#organization(
      top.get("organization"),
      "organization",
    ) ?? this.#organizationId;
    const casesEntry = top.get("cases");
    if (casesEntry === undefined) {
      this.#report(
        "missing-key",
        "cases",
        root,
        `Test file has no "cases"`,
        "Write cases: followed by a list of cases",
      );
      return empty;
    }
    if (casesEntry.value.kind !== "list") {
      this.#report(
        "wrong-type",
        "cases",
        casesEntry.value,
        `Expected a list at "cases", found ${describeNode(casesEntry.value)}`,
        "Write one '- name: ...' per case",
      );
      return empty;
    }
    const cases: PolicyCase[] = [];
    const malformed: number[] = [];
    casesEntry.value.items.forEach((item, index) => {
      const found = this.#case(item, `cases[${index}]`, organizationId);
      if (found !== undefined) cases.push(found);
      else malformed.push(item.line);
    });
    return {
      ...(organizationId === undefined ? {} : { organizationId }),
      cases: Object.freeze(cases),
      malformed: Object.freeze(malformed),
    };
  }

  #case(
    node: PolicyNode,
    path: string,
    fileOrganization: string | undefined,
  ): PolicyCase | undefined {
    const before = this.problems.length;
    const section = this.#map(node, path, CASE_KEYS);
    if (section === undefined) return undefined;
    const name = this.#string(section.get("name"), `${path}.name`);
    if (!section.has("name")) {
      this.#report(
        "missing-key",
        `${path}.name`,
        node,
        'Case has no "name"',
        "Say what the case proves, e.g. name: the shop boots anonymously",
      );
    }
    const organizationId = this.#organization(
      section.get("organization"),
      `${path}.organization`,
    ) ?? fileOrganization;
    const origin = this.#string(section.get("origin"), `${path}.origin`);
    const methodEntry = section.get("method");
    const method = this.#string(methodEntry, `${path}.method`) ?? "chat.boot";
    if (methodEntry !== undefined && !METHOD_NAME.test(method)) {
      this.#report(
        "bad-method",
        `${path}.method`,
        methodEntry.value,
        `Method "${method.slice(0, 64)}" is not an RPC method name`,
        "Write a method such as chat.boot or chat.getConfig",
      );
    }
    const appId = this.#string(section.get("app_id"), `${path}.app_id`, true);
    const userId = this.#string(
      section.get("user_id"),
      `${path}.user_id`,
      true,
    );
    const now = this.#time(section.get("now"), `${path}.now`);
    const tokenEntry = section.get("token");
    const token = tokenEntry && this.#token(tokenEntry, `${path}.token`);
    if (tokenEntry !== undefined && !USER_TOKEN_METHODS.has(method)) {
      this.#report(
        "token-not-sent",
        `${path}.token`,
        tokenEntry.at,
        `Method "${method}" does not take a user token`,
        "Only chat.boot sends the page's user token; remove token or test chat.boot",
      );
    }
    const expectEntry = section.get("expect");
    const expectText = this.#string(expectEntry, `${path}.expect`);
    const expect = EXPECTATIONS.find((value) => value === expectText);
    if (expectEntry === undefined) {
      this.#report(
        "missing-key",
        `${path}.expect`,
        node,
        'Case has no "expect"',
        `Write expect: allowed, or a code: ${EXPECTATIONS.slice(1).join(", ")}`,
      );
    } else if (expectText !== undefined && expect === undefined) {
      this.#report(
        "bad-expect",
        `${path}.expect`,
        expectEntry.value,
        `Expectation "${
          expectText.slice(0, 64)
        }" is not one the policy decides`,
        `Write allowed, or one of ${EXPECTATIONS.slice(1).join(", ")}`,
      );
    }
    const reason = this.#string(section.get("reason"), `${path}.reason`);
    const rule = this.#string(section.get("rule"), `${path}.rule`);
    const verifiedEntry = section.get("verified");
    let verified: boolean | undefined;
    if (verifiedEntry !== undefined) {
      const value = verifiedEntry.value;
      if (value.kind === "scalar" && typeof value.value === "boolean") {
        verified = value.value;
      } else {
        this.#report(
          "wrong-type",
          `${path}.verified`,
          value,
          `Expected true or false at "${path}.verified", found ${
            describeNode(value)
          }`,
        );
      }
    }
    if (
      this.problems.length > before || name === undefined ||
      expect === undefined
    ) {
      return undefined;
    }
    return Object.freeze({
      name,
      line: node.line,
      method,
      expect,
      ...(organizationId === undefined ? {} : { organizationId }),
      ...(origin === undefined ? {} : { origin }),
      ...(appId === undefined ? {} : { appId }),
      ...(userId === undefined ? {} : { userId }),
      ...(now === undefined ? {} : { now }),
      ...(token === undefined ? {} : { token }),
      ...(reason === undefined ? {} : { reason }),
      ...(rule === undefined ? {} : { rule }),
      ...(verified === undefined ? {} : { verified }),
    });
  }

  #time(entry: MapEntry | undefined, path: string): number | undefined {
    if (entry === undefined) return undefined;
    const node = entry.value;
    const time = timeOfNode(node);
    if (time === undefined) {
      this.#report(
        "bad-time",
        path,
        node,
        `Time at "${path}" is not an ISO time`,
        "Write a time such as 2026-12-20T09:00:00Z",
      );
      return undefined;
    }
    return time;
  }

  #token(entry: MapEntry, path: string): CaseToken | undefined {
    const section = this.#map(entry.value, path, TOKEN_KEYS);
    if (section === undefined) return undefined;
    const kid = this.#string(section.get("kid"), `${path}.kid`, true);
    const sub = this.#string(section.get("sub"), `${path}.sub`, true);
    const expiresEntry = section.get("expiresIn");
    let expiresInMs = DEFAULT_EXPIRES_IN_MS;
    if (expiresEntry !== undefined) {
      const text = this.#string(expiresEntry, `${path}.expiresIn`);
      const parsed = text === undefined ? undefined : signedDuration(text);
      if (parsed === undefined) {
        if (text !== undefined) {
          this.#report(
            "bad-duration",
            `${path}.expiresIn`,
            expiresEntry.value,
            `Duration "${text.slice(0, 64)}" is not a duration`,
            `Write a duration such as "10m", or "-1m" for a token that expired a minute ago`,
          );
        }
      } else expiresInMs = parsed;
    }
    const claimsEntry = section.get("claims");
    let claims: Record<string, unknown> | undefined;
    if (claimsEntry !== undefined) {
      if (claimsEntry.value.kind !== "map") {
        this.#report(
          "wrong-type",
          `${path}.claims`,
          claimsEntry.value,
          `Expected a mapping at "${path}.claims", found ${
            describeNode(claimsEntry.value)
          }`,
          "Write claims: { iss: https://other.example }",
        );
      } else claims = plainValue(claimsEntry.value) as Record<string, unknown>;
    }
    const secretEntry = section.get("secret");
    const secret = this.#string(secretEntry, `${path}.secret`);
    if (
      secretEntry !== undefined && secret !== undefined && secret !== "other"
    ) {
      // The value may be a pasted secret, so it is never echoed.
      this.#report(
        "bad-token-secret",
        `${path}.secret`,
        secretEntry.value,
        'A test token\'s secret can only be "other"',
        "Write secret: other to sign with a wrong secret; the runner knows the right one",
      );
    }
    return Object.freeze({
      expiresInMs,
      ...(kid === undefined ? {} : { kid }),
      ...(sub === undefined ? {} : { sub }),
      ...(claims === undefined ? {} : { claims: Object.freeze(claims) }),
      ...(secret === "other" ? { secret: "other" as const } : {}),
    });
  }
}

/** `10m`, `-1m`: a duration that may be negative. */
function signedDuration(text: string): number | undefined {
  if (text.startsWith("-")) {
    const ms = parseDuration(text.slice(1));
    return ms === undefined ? undefined : -ms;
  }
  return parseDuration(text);
}

/** A parsed node as plain JSON data (claims are written in YAML). */
function plainValue(node: PolicyNode): unknown {
  if (node.kind === "map") {
    const object: Record<string, unknown> = {};
    for (const entry of node.entries) {
      Object.defineProperty(object, entry.key, {
        value: plainValue(entry.value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return object;
  }
  if (node.kind === "list") return node.items.map(plainValue);
  const value = node.value;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "bigint") return Number(value);
  return value;
}

/**
 * An environment for running tests without secrets: a variable that is set
 * is read as usual, and one that is not gets a random 48-byte secret for the
 * run, so a policy whose keys name unset variables still compiles.
 *
 * @param real The real environment lookup.
 * @returns The lookup, and the names given throwaway secrets so far.
 */
export function throwawayEnv(
  real: (name: string) => string | undefined,
): { lookup: (name: string) => string; readonly substituted: string[] } {
  const made = new Map<string, string>();
  const substituted: string[] = [];
  return {
    substituted,
    lookup(name: string): string {
      const value = real(name);
      if (value !== undefined && value !== "") return value;
      let secret = made.get(name);
      if (secret === undefined) {
        secret = randomText(48);
        made.set(name, secret);
        substituted.push(name);
      }
      return secret;
    },
  };
}

function randomText(bytes: number): string {
  return crypto.getRandomValues(new Uint8Array(bytes)).toBase64({
    alphabet: "base64url",
    omitPadding: true,
  });
}

/** What a case expected and what was decided. */
export interface CaseOutcome {
  /** The case. */
  readonly case: PolicyCase;
  /** Whether every expectation held. */
  readonly passed: boolean;
  /** The evaluator's decision. */
  readonly decision: Decision;
}

/** Options of {@linkcode runPolicyCase}. */
export interface RunCaseOptions {
  /** The run's time, epoch milliseconds, for cases without `now`. */
  readonly now?: number;
  /** The organization of cases that name none (a policy with one organization). */
  readonly organizationId?: string;
}

/**
 * Runs one case against an evaluator: mints its token with the key the case
 * names (or a wrong secret), builds the request's facts and compares the
 * decision with every expectation the case states.
 *
 * @param evaluator The compiled policy (with throwaway secrets, usually).
 * @param testCase The case.
 * @param options The run's clock and the default organization.
 * @returns The decision and whether the case passed.
 */
export async function runPolicyCase(
  evaluator: Evaluator,
  testCase: PolicyCase,
  options: RunCaseOptions = {},
): Promise<CaseOutcome> {
  const now = testCase.now ?? options.now ?? Date.now();
  const organizationId = testCase.organizationId ?? options.organizationId ??
    "";
  const token = testCase.token === undefined
    ? undefined
    : await mintCaseToken(evaluator, testCase, organizationId, now);
  const decision = await evaluator.evaluate({
    organizationId,
    origin: testCase.origin ?? null,
    method: testCase.method,
    now,
    ...(testCase.appId === undefined ? {} : { appId: testCase.appId }),
    ...(testCase.userId === undefined ? {} : { userId: testCase.userId }),
    ...(token === undefined ? {} : { token }),
  });
  const passed =
    (testCase.expect === "allowed"
      ? decision.allowed
      : decision.code === testCase.expect) &&
    (testCase.reason === undefined || decision.reason === testCase.reason) &&
    (testCase.rule === undefined || decision.rule === testCase.rule) &&
    (testCase.verified === undefined ||
      decision.identity.verified === testCase.verified);
  return Object.freeze({ case: testCase, passed, decision });
}

async function mintCaseToken(
  evaluator: Evaluator,
  testCase: PolicyCase,
  organizationId: string,
  now: number,
): Promise<string> {
  const token = testCase.token!;
  const keys = evaluator.organization(organizationId)?.spec.jwt.keys ?? [];
  // With no key in force, sign with the first so the case sees it refused.
  const key = activeKey(keys, now, token.kid) ??
    (token.kid === undefined ? keys[0] : undefined);
  const kid = token.kid ?? key?.id;
  return await mintUserToken({
    secret: token.secret === "other" || key === undefined
      ? crypto.getRandomValues(new Uint8Array(48))
      : key.secret,
    ...(kid === undefined ? {} : { kid }),
    organizationId,
    subject: token.sub ?? DEFAULT_SUBJECT,
    ...(testCase.origin === undefined ? {} : {
      issuer: parseOrigin(testCase.origin)?.origin ?? testCase.origin,
    }),
    now,
    expiresInMs: token.expiresInMs,
    ...(token.claims === undefined ? {} : { claims: token.claims }),
  });
}

/**
 * The expectation of a case in words: `JWT_INVALID (reason jwt.expired)`.
 *
 * @param testCase The case.
 * @returns The text.
 */
export function describeExpectation(testCase: PolicyCase): string {
  const details = [
    ...(testCase.reason === undefined ? [] : [`reason ${testCase.reason}`]),
    ...(testCase.rule === undefined ? [] : [`rule ${testCase.rule}`]),
    ...(testCase.verified === undefined
      ? []
      : [testCase.verified ? "verified" : "not verified"]),
  ];
  return details.length === 0
    ? testCase.expect
    : `${testCase.expect} (${details.join(", ")})`;
}

/**
 * A decision in the words of a case: `allowed (reason jwt.verified, rule
 * *.acme.com, verified)`.
 *
 * @param decision The evaluator's decision.
 * @returns The text.
 */
export function describeDecision(decision: Decision): string {
  const details = [
    `reason ${decision.reason}`,
    ...(decision.rule === undefined ? [] : [`rule ${decision.rule}`]),
    decision.identity.verified ? "verified" : "not verified",
  ];
  return `${decision.allowed ? "allowed" : decision.code} (${
    details.join(", ")
  })`;
}
