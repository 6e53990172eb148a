/**
 * Compiles a validated policy into the one frozen in-memory `Evaluator` that
 * judges pipeline steps 4–6 (organization, domain, user token). `evaluate`
 * and `explain` share one implementation; only `explain` passes a trace sink,
 * so the hot path builds no trace.
 *
 * A rejected decision's `reason` names the failed check. An admitted one's
 * names the last step (`jwt.verified`, `jwt.absent`, `jwt.off`,
 * `jwt.testing_method`); the domain verdict is in `rule`, `reportOnly` and
 * the explain trace.
 *
 * Built for many organizations: a decision reads one organization entry whose
 * hot fields (modes, app ids, the domain table) sit on it directly, builds no
 * closure and no intermediate verdict, and the domain matcher touches one
 * small table (see `domain_matcher.ts`). A policy directory compiles each
 * organization on its own (`compileOrganization`) and assembles an evaluator
 * from entries it already has (`assembleEvaluator`), so one file's edit
 * compiles one organization.
 *
 * @module
 */

import { type AdminKeyIndex, createAdminKeyIndex } from "./admin_key_index.ts";
import {
  compileDomainMatcher,
  type DomainMatcher,
  parseRequestOrigin,
} from "./domain_matcher.ts";
import { PolicyError } from "./error.ts";
import { REASON, TESTING_METHODS } from "./reasons.ts";
import type {
  AdminKeySpec,
  CompiledOrganization,
  Decision,
  DecisionCode,
  DomainMode,
  Evaluator,
  Explanation,
  Facts,
  Identity,
  JwtMode,
  OrganizationSpec,
  OriginVerdict,
  PolicyProblem,
  PolicySpec,
  ServerSettings,
  TraceStep,
} from "./types.ts";
import { type ValidateOptions, validatePolicy } from "./validate.ts";
import {
  createUserTokenKeyring,
  type UserTokenKeyring,
  verifyUserToken,
} from "./verify_user_token.ts";

/** Options of `compileSpec`. */
export interface CompileSpecOptions {
  /** The policy's revision; defaults to a hash of the spec without secrets. */
  readonly revision?: string;
  /** Non-fatal problems found while validating. */
  readonly warnings?: readonly PolicyProblem[];
}

/** Options of `compilePolicy`: the environment for secrets, the file name and the clock. */
export type CompilePolicyOptions = ValidateOptions;

const UNVERIFIED: Identity = Object.freeze({ verified: false });
const utf8 = new TextEncoder();

/** A 64-bit fingerprint as its two 32-bit halves. */
export interface Fingerprint {
  readonly hi: number;
  readonly lo: number;
}

/** FNV-1a, 64 bits: a short, sync, stable fingerprint of a text. */
export function fingerprintOf(text: string): Fingerprint {
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  const bytes = utf8.encode(text);
  for (let i = 0; i < bytes.length; i++) {
    lo ^= bytes[i]!;
    // Multiply (hi, lo) by the prime 2^40 + 0x1b3, modulo 2^64.
    const low = lo * 0x1b3;
    const carry = Math.floor(low / 0x1_0000_0000);
    hi = (Math.imul(hi, 0x1b3) + (lo << 8) + carry) >>> 0;
    lo = low >>> 0;
  }
  return { hi, lo };
}

/** A fingerprint as 16 hex digits. */
export function fingerprintHex(fingerprint: Fingerprint): string {
  return (fingerprint.hi >>> 0).toString(16).padStart(8, "0") +
    (fingerprint.lo >>> 0).toString(16).padStart(8, "0");
}

function fnv1a64(text: string): string {
  return fingerprintHex(fingerprintOf(text));
}

/** JSON with Maps as sorted entries and secrets left out. */
function canonicalJson(spec: PolicySpec): string {
  return JSON.stringify(spec, (key, value: unknown) => {
    if (key === "secret") return undefined;
    if (value instanceof Map) {
      return [...value.entries()].sort(([a], [b]) =>
        a < b ? -1 : a > b ? 1 : 0
      );
    }
    return value;
  });
}

function securityRevisionOf(org: OrganizationSpec): string {
  return fnv1a64(JSON.stringify([
    org.id,
    org.appIds,
    org.domains.mode,
    org.domains.allow.map((p) => [p.scheme, p.host, p.wildcard, p.port ?? 0]),
    org.jwt.mode,
    org.jwt.keys.map((key) => [key.id, key.until ?? null]),
  ]));
}

/**
 * An organization with everything the hot path needs precomputed, on the
 * entry itself so a decision reads as few objects as it can.
 */
export class OrganizationEntry implements CompiledOrganization {
  readonly spec: OrganizationSpec;
  readonly securityRevision: string;
  readonly domainMode: DomainMode;
  readonly jwtMode: JwtMode;
  /** `undefined` when the policy lists no app ids (any is allowed). */
  readonly appIds: ReadonlySet<string> | undefined;
  readonly matcher: DomainMatcher;
  readonly keyring: UserTokenKeyring;
  readonly #adminKeys: AdminKeyIndex;
  readonly #adminIdentities: readonly Pick<AdminKeySpec, "id" | "name">[];

  constructor(spec: OrganizationSpec) {
    this.spec = spec;
    this.securityRevision = securityRevisionOf(spec);
    this.domainMode = spec.domains.mode;
    this.jwtMode = spec.jwt.mode;
    this.appIds = spec.appIds.length === 0 ? undefined : new Set(spec.appIds);
    this.matcher = compileDomainMatcher(spec.domains.allow);
    this.keyring = createUserTokenKeyring(spec.jwt);
    this.#adminKeys = createAdminKeyIndex(
      spec.adminKeys.map((key) => key.secret),
    );
    this.#adminIdentities = Object.freeze(
      spec.adminKeys.map((key) =>
        Object.freeze({ id: key.id, name: key.name })
      ),
    );
    Object.freeze(this);
  }

  /** The index of the admin key `key` is, or -1; looked up by keyed hash (`admin_key_index.ts`). */
  adminKeyIndex(key: string): number {
    return this.#adminKeys.indexOf(key);
  }

  identifyAdminKey(key: string): Pick<AdminKeySpec, "id" | "name"> | undefined {
    return this.#adminIdentities[this.adminKeyIndex(key)];
  }
}

/**
 * Compiles one validated organization: its domain table, token keys and
 * admin keys. Frozen.
 *
 * @param spec The validated organization.
 * @returns The entry an evaluator is assembled from.
 */
export function compileOrganization(spec: OrganizationSpec): OrganizationEntry {
  return new OrganizationEntry(spec);
}

/** The domain step's outcome, before the mode decides what to do with it. */
interface DomainOutcome {
  readonly allowed: boolean;
  readonly reason: string;
  readonly rule?: string;
  readonly origin?: string;
}

function judgeOrigin(
  entry: OrganizationEntry,
  origin: string | null | undefined,
  method: string | undefined,
): DomainOutcome {
  if (entry.domainMode === "off") {
    const parsed = origin ? parseRequestOrigin(origin) : undefined;
    return parsed === undefined
      ? { allowed: true, reason: REASON.domainOff }
      : { allowed: true, reason: REASON.domainOff, origin: parsed.origin };
  }
  if (origin === undefined || origin === null || origin === "null") {
    return method !== undefined && TESTING_METHODS.has(method)
      ? { allowed: true, reason: REASON.domainTestingMethod }
      : { allowed: false, reason: REASON.domainOriginMissing };
  }
  const parsed = parseRequestOrigin(origin);
  if (parsed === undefined) {
    return { allowed: false, reason: REASON.domainOriginInvalid };
  }
  const pattern = entry.matcher.match(parsed);
  if (pattern === undefined) {
    return {
      allowed: false,
      reason: REASON.domainNotAllowed,
      origin: parsed.origin,
    };
  }
  return {
    allowed: true,
    reason: pattern.wildcard ? REASON.domainWildcard : REASON.domainExact,
    rule: pattern.source,
    origin: parsed.origin,
  };
}

function reject(
  code: DecisionCode,
  reason: string,
  origin: string | undefined,
): Decision {
  return origin === undefined
    ? { allowed: false, code, reason, identity: UNVERIFIED }
    : { allowed: false, code, reason, identity: UNVERIFIED, origin };
}

/** An admitted decision, built with every field it has at once (one shape). */
function admit(
  reason: string,
  identity: Identity,
  domain: DomainOutcome,
  reportOnly: Decision["reportOnly"],
): Decision {
  const decision: { -readonly [K in keyof Decision]: Decision[K] } = {
    allowed: true,
    reason,
    identity,
  };
  if (domain.rule !== undefined) decision.rule = domain.rule;
  if (reportOnly !== undefined) decision.reportOnly = reportOnly;
  if (domain.origin !== undefined) decision.origin = domain.origin;
  return decision;
}

/** Steps 4–6; `trace` is only passed by `explain`. */
function decide(
  organizations: ReadonlyMap<string, OrganizationEntry>,
  facts: Facts,
  trace: TraceStep[] | undefined,
): Decision {
  const entry = organizations.get(facts.organizationId);
  if (entry === undefined) {
    trace?.push({
      check: "organization",
      outcome: "fail",
      reason: REASON.organizationUnknown,
      detail: "No organization has this id",
    });
    return reject(
      "ORGANIZATION_NOT_FOUND",
      REASON.organizationUnknown,
      undefined,
    );
  }
  trace?.push({
    check: "organization",
    outcome: "pass",
    reason: REASON.organizationFound,
    detail: `Organization "${entry.spec.id}"`,
  });

  const appIds = entry.appIds;
  if (facts.appId !== undefined && appIds !== undefined) {
    if (!appIds.has(facts.appId)) {
      trace?.push({
        check: "app_id",
        outcome: "fail",
        reason: REASON.appIdUnknown,
        detail: `App id is not one of ${appIds.size} listed`,
      });
      return reject("ORGANIZATION_NOT_FOUND", REASON.appIdUnknown, undefined);
    }
    trace?.push({
      check: "app_id",
      outcome: "pass",
      reason: REASON.appIdAllowed,
    });
  } else {
    trace?.push({ check: "app_id", outcome: "skip", reason: REASON.appIdAny });
  }

  const domain = judgeOrigin(entry, facts.origin, facts.method);
  let reportOnly: Decision["reportOnly"];
  if (domain.allowed) {
    trace?.push({
      check: "domain",
      outcome: "pass",
      reason: domain.reason,
      ...(domain.rule === undefined ? {} : { detail: `Rule "${domain.rule}"` }),
    });
  } else if (entry.domainMode === "report") {
    reportOnly = { code: "DOMAIN_NOT_ALLOWED", reason: domain.reason };
    trace?.push({
      check: "domain",
      outcome: "report",
      reason: domain.reason,
      detail: "Would be rejected under enforce; admitted in report mode",
    });
  } else {
    trace?.push({ check: "domain", outcome: "fail", reason: domain.reason });
    return reject("DOMAIN_NOT_ALLOWED", domain.reason, domain.origin);
  }

  const mode = entry.jwtMode;
  if (mode === "off") {
    trace?.push({ check: "jwt", outcome: "skip", reason: REASON.jwtOff });
    return admit(REASON.jwtOff, UNVERIFIED, domain, reportOnly);
  }
  if (facts.token === undefined || facts.token === "") {
    if (mode === "optional") {
      trace?.push({ check: "jwt", outcome: "skip", reason: REASON.jwtAbsent });
      return admit(REASON.jwtAbsent, UNVERIFIED, domain, reportOnly);
    }
    if (facts.method !== undefined && TESTING_METHODS.has(facts.method)) {
      trace?.push({
        check: "jwt",
        outcome: "skip",
        reason: REASON.jwtTestingMethod,
      });
      return admit(REASON.jwtTestingMethod, UNVERIFIED, domain, reportOnly);
    }
    trace?.push({ check: "jwt", outcome: "fail", reason: REASON.jwtRequired });
    return reject("JWT_REQUIRED", REASON.jwtRequired, domain.origin);
  }

  const expected = {
    organizationId: entry.spec.id,
    now: facts.now ?? Date.now(),
    ...(domain.origin === undefined ? {} : { origin: domain.origin }),
    ...(facts.userId === undefined ? {} : { userId: facts.userId }),
  };
  const verdict = verifyUserToken(
    facts.token,
    entry.keyring,
    expected,
    trace,
  );
  if (!verdict.ok) {
    return reject("JWT_INVALID", verdict.reason, domain.origin);
  }
  trace?.push({
    check: "jwt",
    outcome: "pass",
    reason: REASON.jwtVerified,
    detail: `Verified by key "${verdict.keyId}"`,
  });
  return admit(
    REASON.jwtVerified,
    {
      verified: true,
      subject: verdict.subject,
      keyId: verdict.keyId,
      ...(verdict.userData === undefined ? {} : { userData: verdict.userData }),
    },
    domain,
    reportOnly,
  );
}

/** The compiled evaluator. Frozen after construction. */
class CompiledEvaluator implements Evaluator {
  readonly revision: string;
  readonly spec: PolicySpec;
  readonly warnings: readonly PolicyProblem[];
  readonly #organizations: ReadonlyMap<string, OrganizationEntry>;

  constructor(
    spec: PolicySpec,
    organizations: ReadonlyMap<string, OrganizationEntry>,
    revision: string,
    warnings: readonly PolicyProblem[],
  ) {
    this.#organizations = organizations;
    this.revision = revision;
    this.spec = spec;
    this.warnings = Object.freeze([...warnings]);
    Object.freeze(this);
  }

  organization(id: string): CompiledOrganization | undefined {
    return this.#organizations.get(id);
  }

  evaluate(facts: Facts): Promise<Decision> {
    return Promise.resolve(decide(this.#organizations, facts, undefined));
  }

  explain(facts: Facts): Promise<Explanation> {
    const trace: TraceStep[] = [];
    const decision = decide(this.#organizations, facts, trace);
    return Promise.resolve({ ...decision, trace: Object.freeze(trace) });
  }

  checkOrigin(organizationId: string, origin: string | null): OriginVerdict {
    const entry = this.#organizations.get(organizationId);
    if (entry === undefined) {
      return { allowed: false, reason: REASON.organizationUnknown };
    }
    const outcome = judgeOrigin(entry, origin, undefined);
    // The probe answers what enforcement would do, whatever the mode.
    return outcome;
  }

  verifyAdminKey(organizationId: string, key: string): boolean {
    const entry = this.#organizations.get(organizationId);
    return entry !== undefined && entry.adminKeyIndex(key) !== -1;
  }

  identifyAdminKey(
    organizationId: string,
    key: string,
  ): { readonly id: string; readonly name: string } | undefined {
    return this.#organizations.get(organizationId)?.identifyAdminKey(key);
  }
}

/** What `assembleEvaluator` builds an evaluator from. */
export interface EvaluatorParts {
  /** The evaluator's revision. */
  readonly revision: string;
  /** Server-wide settings. */
  readonly server: ServerSettings;
  /** The defaults the organizations were validated with. */
  readonly defaults: PolicySpec["defaults"];
  /** Compiled organizations by id; the evaluator keeps this map, so never change it after. */
  readonly organizations: ReadonlyMap<string, OrganizationEntry>;
  /** The validated organizations by id, the same ids; kept as the spec's map. */
  readonly specs: ReadonlyMap<string, OrganizationSpec>;
  /** Non-fatal problems of the files in force. */
  readonly warnings: readonly PolicyProblem[];
}

/**
 * Assembles an evaluator from organizations compiled one by one (a policy
 * directory), without compiling any of them again.
 *
 * @param parts The compiled organizations, settings, revision and warnings.
 * @returns A frozen evaluator.
 */
export function assembleEvaluator(parts: EvaluatorParts): Evaluator {
  const spec: PolicySpec = Object.freeze({
    version: 1,
    server: parts.server,
    defaults: parts.defaults,
    organizations: parts.specs,
  });
  return new CompiledEvaluator(
    spec,
    parts.organizations,
    parts.revision,
    parts.warnings,
  );
}

/**
 * Compiles a validated policy spec into a frozen evaluator.
 *
 * @param spec A validated policy (from `validatePolicy`, or built in tests).
 * @param options The revision and the validator's warnings.
 * @returns The evaluator.
 */
export function compileSpec(
  spec: PolicySpec,
  options: CompileSpecOptions = {},
): Evaluator {
  const organizations = new Map<string, OrganizationEntry>();
  for (const [id, organization] of spec.organizations) {
    organizations.set(id, new OrganizationEntry(organization));
  }
  return new CompiledEvaluator(
    spec,
    organizations,
    options.revision ?? fnv1a64(canonicalJson(spec)),
    options.warnings ?? [],
  );
}

/**
 * Validates and compiles a policy file (YAML or JSON).
 *
 * @param text The policy file's text.
 * @param options The environment for secrets, the file name and the clock.
 * @returns The evaluator; warnings are kept on `evaluator.warnings`.
 * @throws {PolicyError} When the policy has any error; lists every problem.
 */
export function compilePolicy(
  text: string,
  options: CompilePolicyOptions = {},
): Evaluator {
  const { spec, problems } = validatePolicy(text, options);
  // `spec` is absent exactly when some problem is an error.
  if (spec === undefined) {
    throw new PolicyError(problems, options.filename);
  }
  return compileSpec(spec, {
    revision: fnv1a64(text),
    warnings: problems.filter((problem) => problem.severity === "warning"),
  });
}
