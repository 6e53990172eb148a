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
import { parseIsoTime, parseSignedDuration } from "./rate.ts";
import { type DocumentPath, formatPath } from "./problems.ts";
import { readDocument } from "./read_document.ts";
import type {
  Decision,
  DecisionCode,
  Evaluator,
  PolicyProblem,
} from "./types.ts";
import { activeKey } from "./user_token.ts";
import type { RuleContext } from "./written_policy.ts";

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

/** A test file as written, once `cases.schema.json` has checked it. */
interface WrittenCaseFile {
  readonly organization?: string;
  readonly cases?: readonly (WrittenCase | undefined)[];
}

interface WrittenCase {
  readonly name?: string;
  readonly organization?: string;
  readonly origin?: string;
  readonly method?: string;
  readonly app_id?: string | number;
  readonly user_id?: string | number;
  readonly now?: string;
  readonly token?: {
    readonly kid?: string | number;
    readonly sub?: string | number;
    readonly expiresIn?: string;
    readonly claims?: Readonly<Record<string, unknown>>;
    readonly secret?: "other";
  };
  readonly expect?: "allowed" | DecisionCode;
  readonly reason?: string;
  readonly rule?: string;
  readonly verified?: boolean;
}

/**
 * Parses a test file, reporting every problem at once with its position.
 * It goes through the policy's own pipeline, against `cases.schema.json`.
 *
 * @param text The file's content, YAML or JSON.
 * @param options The organization a directory's test file belongs to.
 * @returns The cases and the problems.
 */
export function parseCaseFile(
  text: string,
  options: ParseCaseFileOptions = {},
): CaseFile {
  const { document, data, problems } = readDocument(text, "cases", {
    empty: {
      code: "missing-key",
      path: ["cases"],
      message: "Test file is empty",
      hint: "Write cases: followed by a list of cases",
    },
  });
  const file = data as WrittenCaseFile | undefined;
  const cases: PolicyCase[] = [];
  const malformed: number[] = [];
  let organizationId = options.organizationId;
  if (document !== undefined) {
    const context = { document, problems, env: undefined, now: 0 };
    organizationId = ownOrganization(
      file?.organization,
      ["organization"],
      options.organizationId,
      context,
    ) ?? organizationId;
    const written = document.node(["cases"]);
    if (written?.kind === "list") {
      written.items.forEach((item, index) => {
        const found = readCase(
          file?.cases?.[index],
          ["cases", index],
          organizationId,
          options.organizationId,
          context,
        );
        if (found !== undefined) cases.push(found);
        else malformed.push(item.line);
      });
    }
  }
  // A file without a list of cases says nothing, not even its organization.
  const says = file?.cases !== undefined && organizationId !== undefined;
  return Object.freeze({
    ...(says ? { organizationId } : {}),
    cases: Object.freeze(cases),
    malformed: Object.freeze(malformed),
    problems: problems.sorted(),
  });
}

/** An `organization` key: the file's own organization, if the file has one. */
function ownOrganization(
  id: string | undefined,
  path: DocumentPath,
  own: string | undefined,
  { document, problems }: RuleContext,
): string | undefined {
  if (id === undefined || own === undefined || id === own) return id;
  problems.error(
    "foreign-organization",
    path,
    document.at(path),
    `This file tests "${own}", not "${id}"`,
    `A test file is named for its organization: ${id}.test.yaml`,
  );
  return undefined;
}

function readCase(
  written: WrittenCase | undefined,
  path: DocumentPath,
  fileOrganization: string | undefined,
  own: string | undefined,
  context: RuleContext,
): PolicyCase | undefined {
  const { document, problems } = context;
  const tokenPath = [...path, "token"];
  // A method name found wrong is still the method the token would go to.
  const methodNode = document.node([...path, "method"]);
  const method = methodNode?.kind === "scalar" &&
      typeof methodNode.value === "string"
    ? methodNode.value
    : "chat.boot";
  if (document.written(tokenPath) && !USER_TOKEN_METHODS.has(method)) {
    problems.error(
      "token-not-sent",
      tokenPath,
      document.keyAt(tokenPath),
      `Method "${method}" does not take a user token`,
      "Only chat.boot sends the page's user token; remove token or test chat.boot",
    );
  }
  const organizationId = ownOrganization(
    written?.organization,
    [...path, "organization"],
    own,
    context,
  ) ?? fileOrganization;
  if (
    written?.name === undefined || written.expect === undefined ||
    problems.within(formatPath(path))
  ) return undefined;
  const token = written.token;
  const text = (value: string | number | undefined) =>
    value === undefined ? undefined : String(value);
  const optional = {
    organizationId,
    origin: written.origin,
    appId: text(written.app_id),
    userId: text(written.user_id),
    now: written.now === undefined ? undefined : parseIsoTime(written.now),
    token: token === undefined ? undefined : Object.freeze({
      expiresInMs: parseSignedDuration(token.expiresIn ?? "10m")!,
      kid: text(token.kid),
      sub: text(token.sub),
      claims: token.claims && Object.freeze({ ...token.claims }),
      secret: token.secret,
    }),
    reason: written.reason,
    rule: written.rule,
    verified: written.verified,
  };
  return Object.freeze({
    name: written.name,
    line: document.at(path).line,
    method,
    expect: written.expect,
    ...withoutUndefined(optional),
  }) as PolicyCase;
}

/** Optional fields are left out rather than set to `undefined`. */
function withoutUndefined<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(fields).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
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
