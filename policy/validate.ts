/**
 * Validates a policy file (version 1) and turns it into a normalised
 * `PolicySpec`: secrets resolved from the environment, durations in
 * milliseconds, limits merged with defaults, domain entries parsed, all frozen.
 *
 * Every problem is reported at once, with a stable code, a path, a line and a
 * column. Nothing here throws on any input, and no secret value ever appears
 * in a problem.
 *
 * @module
 */

import { getPublicSuffix } from "tldts";
import {
  canonicalTimeZone,
  parseDayKey,
  parseOpeningRange,
  WEEKDAYS,
} from "./business_hours.ts";
import { normalizeHost } from "./host.ts";
import { canonicalHost } from "./network_address.ts";
import {
  type ListNode,
  type MapEntry,
  parsePolicyText,
  type PolicyNode,
  type Position,
  timeOfNode,
} from "./parse.ts";
import { MAX_ADMIN_KEYS } from "./policy_budget.ts";
import { parseDuration, parseRate } from "./rate.ts";
import {
  assignedEnv,
  readSecretAssignment,
  refuseUnassignedSecret,
  type SecretAssignment,
  type SecretRefusal,
} from "./secret_assignment.ts";
import { checkWebhookUrl } from "./webhook_url.ts";
import type {
  AdminKeySpec,
  BusinessHours,
  DomainMode,
  DomainPattern,
  JwtKeySpec,
  JwtMode,
  LimitSettings,
  OpeningRange,
  OrganizationSpec,
  PolicyProblem,
  PolicySpec,
  Rate,
  ServerSettings,
  StoreErrorMode,
  WidgetSettings,
} from "./types.ts";

/** Where secrets named by `{ env: NAME }` are looked up. */
export type EnvLookup =
  | Record<string, string>
  | ((name: string) => string | undefined);

/** Options of `validatePolicy`. */
export interface ValidateOptions {
  /** Environment for `{ env: NAME }` secrets; without it every such secret is missing. */
  readonly env?: EnvLookup;
  /** The file name, for callers that print problems. */
  readonly filename?: string;
  /** Clock for `until-past`, epoch milliseconds (defaults to `Date.now()`). */
  readonly now?: number;
}

/** The outcome of validating a policy text. */
export interface ValidationResult {
  /** Present iff no problem has severity `error`. */
  readonly spec?: PolicySpec;
  /** Errors and warnings, sorted by line and column. */
  readonly problems: readonly PolicyProblem[];
}

/** Options of `validateOrganizationFile`. */
export interface ValidateOrganizationOptions extends ValidateOptions {
  /** The organization the file is for: its file name without the extension. */
  readonly organizationId: string;
  /** The directory's defaults (from `_parley.yaml`); the built-in ones when absent. */
  readonly defaults?: PolicySpec["defaults"];
  /** The directory's `server.allowWebhookHosts` (from `_parley.yaml`); none when absent. */
  readonly allowWebhookHosts?: readonly string[];
  /**
   * The directory's `secrets:` map (`secret_assignment.ts`): when given, the
   * file may name only the variables assigned to its organization, and no
   * other is looked up. A policy directory always gives it.
   */
  readonly secrets?: SecretAssignment;
}

/** The outcome of validating one organization's file of a policy directory. */
export interface OrganizationValidationResult {
  /** Present iff no problem has severity `error`. */
  readonly organization?: OrganizationSpec;
  /** Errors and warnings, sorted by line and column. */
  readonly problems: readonly PolicyProblem[];
}

/** What `_parley.yaml` sets for a whole policy directory. */
export interface DirectorySettings {
  /** Server-wide settings. */
  readonly server: ServerSettings;
  /** What every organization inherits. */
  readonly defaults: PolicySpec["defaults"];
  /** Which variables each organization's file may name; absent: none. */
  readonly secrets?: SecretAssignment;
}

/** The outcome of validating a policy directory's `_parley.yaml`. */
export interface SettingsValidationResult {
  /** Present iff no problem has severity `error`. */
  readonly settings?: DirectorySettings;
  /** Errors and warnings, sorted by line and column. */
  readonly problems: readonly PolicyProblem[];
}

/** Allowed values of `domains.mode`. */
export const DOMAIN_MODES: readonly DomainMode[] = Object.freeze([
  "enforce",
  "report",
  "off",
]);
/** Allowed values of `jwt.mode`. */
export const JWT_MODES: readonly JwtMode[] = Object.freeze([
  "off",
  "optional",
  "required",
]);
/** Allowed values of `server.onStoreError`. */
export const STORE_ERROR_MODES: readonly StoreErrorMode[] = Object.freeze([
  "closed",
  "open",
]);
/** The limits of `defaults.limits` and an organization's `limits`. */
export const LIMIT_KEYS: readonly (keyof LimitSettings)[] = Object.freeze([
  "organization",
  "ip",
  "session",
  "agent",
  "authFailures",
]);
/** Allowed values of `widget.position`. */
export const WIDGET_POSITIONS: readonly ("left" | "right")[] = Object.freeze([
  "left",
  "right",
]);

/**
 * The keys allowed in every mapping of a policy, by location: `*` stands for
 * any organization id, `[]` for the items of a list. The JSON Schema is tested
 * against this table, so the two cannot drift apart.
 */
export const POLICY_KEYS: Readonly<Record<string, readonly string[]>> = Object
  .freeze({
    "": ["version", "defaults", "server", "organizations"],
    "defaults": ["limits", "jwt"],
    "defaults.limits": LIMIT_KEYS,
    "defaults.jwt": ["maxLifetime", "clockTolerance"],
    "server": [
      "trustProxy",
      "maxBodyBytes",
      "onStoreError",
      "maxStreamsPerSession",
      "maxStreamsPerIp",
      "maxStreams",
      "allowWebhookHosts",
    ],
    "organizations.*": [
      "name",
      "appIds",
      "domains",
      "jwt",
      "limits",
      "widget",
      "admin",
      "webhook",
      "retention",
    ],
    "organizations.*.domains": ["mode", "allow"],
    "organizations.*.jwt": ["mode", "keys", "maxLifetime", "clockTolerance"],
    "organizations.*.jwt.keys[]": ["id", "secret", "until"],
    "organizations.*.jwt.keys[].secret": ["env"],
    "organizations.*.limits": LIMIT_KEYS,
    "organizations.*.widget": [
      "title",
      "greeting",
      "color",
      "position",
      "hours",
      "unansweredAfter",
    ],
    "organizations.*.widget.hours": ["timezone", "weekly"],
    "organizations.*.admin": ["keys"],
    "organizations.*.admin.keys[]": ["id", "name", "secret"],
    "organizations.*.admin.keys[].secret": ["env"],
    "organizations.*.webhook": ["url", "secret"],
    "organizations.*.webhook.secret": ["env"],
    "organizations.*.retention": ["conversations", "messages"],
  });

/**
 * The top-level keys of the two kinds of file in a policy directory: an
 * organization's `<id>.yaml` holds that organization's settings beside
 * `version`, and `_parley.yaml` the directory-wide ones. Below the top level
 * they use the `POLICY_KEYS` locations of `organizations.*` and of the root.
 */
export const POLICY_FILE_KEYS: {
  readonly organization: readonly string[];
  readonly settings: readonly string[];
} = Object.freeze({
  organization: Object.freeze([
    "version",
    ...(POLICY_KEYS["organizations.*"] ?? []),
  ]),
  settings: Object.freeze(["version", "defaults", "server", "secrets"]),
});

/** The locations of the file tops, for `#map`. */
const ORGANIZATION_FILE = "file:organization";
const SETTINGS_FILE = "file:settings";
const FILE_TOP_KEYS: Readonly<Record<string, readonly string[]>> = {
  [ORGANIZATION_FILE]: POLICY_FILE_KEYS.organization,
  [SETTINGS_FILE]: POLICY_FILE_KEYS.settings,
};
/** Keys by which a file would speak for organizations other than its own. */
const FOREIGN_KEYS: Readonly<Record<string, readonly string[]>> = {
  [ORGANIZATION_FILE]: ["id", "organizations"],
  [SETTINGS_FILE]: ["organizations"],
};

/** The enumerations of the policy, by location (same notation as `POLICY_KEYS`). */
export const POLICY_ENUMS: Readonly<Record<string, readonly string[]>> = Object
  .freeze({
    "server.onStoreError": STORE_ERROR_MODES,
    "organizations.*.domains.mode": DOMAIN_MODES,
    "organizations.*.jwt.mode": JWT_MODES,
    "organizations.*.widget.position": WIDGET_POSITIONS,
  });

/** Built-in values for what a policy leaves out. */
export const POLICY_DEFAULTS = Object.freeze({
  organizationLimit: "100/minute",
  ipLimit: "20/minute",
  sessionLimit: "60/minute",
  agentLimit: "600/minute",
  authFailuresLimit: "10/10m",
  maxLifetime: "15m",
  clockTolerance: "30s",
  trustProxy: 0,
  maxBodyBytes: 16_384,
  onStoreError: "closed" as StoreErrorMode,
  maxStreamsPerSession: 2,
  maxStreamsPerIp: 50,
  maxStreams: 10_000,
  maxMessages: 1_000,
  unansweredAfter: "5m",
});

/** {@linkcode POLICY_DEFAULTS} parsed: what a spec holds when a policy says nothing. */
export const BUILT_IN_DEFAULTS: PolicySpec["defaults"] = Object.freeze({
  limits: Object.freeze({
    organization: parseRate(POLICY_DEFAULTS.organizationLimit) as Rate,
    ip: parseRate(POLICY_DEFAULTS.ipLimit) as Rate,
    session: parseRate(POLICY_DEFAULTS.sessionLimit) as Rate,
    agent: parseRate(POLICY_DEFAULTS.agentLimit) as Rate,
    authFailures: parseRate(POLICY_DEFAULTS.authFailuresLimit) as Rate,
  }),
  jwt: Object.freeze({
    maxLifetimeMs: parseDuration(POLICY_DEFAULTS.maxLifetime) as number,
    clockToleranceMs: parseDuration(POLICY_DEFAULTS.clockTolerance) as number,
  }),
});

/** The server settings of a policy without a `server` section. */
export const BUILT_IN_SERVER: ServerSettings = Object.freeze({
  trustProxy: POLICY_DEFAULTS.trustProxy,
  maxBodyBytes: POLICY_DEFAULTS.maxBodyBytes,
  onStoreError: POLICY_DEFAULTS.onStoreError,
  maxStreamsPerSession: POLICY_DEFAULTS.maxStreamsPerSession,
  maxStreamsPerIp: POLICY_DEFAULTS.maxStreamsPerIp,
  maxStreams: POLICY_DEFAULTS.maxStreams,
  allowWebhookHosts: Object.freeze([]),
});

/** `widget.unansweredAfter` when the policy leaves it out, milliseconds. */
export const DEFAULT_UNANSWERED_AFTER_MS = parseDuration(
  POLICY_DEFAULTS.unansweredAfter,
) as number;

/** RFC 7518 §3.2: an HS256 key must be at least as long as the hash output. */
export const MIN_SECRET_BYTES = 32;
/** More keys than this make kid-less verification a guessing oracle. */
export const MAX_JWT_KEYS = 10;
/** Bounds of `server.maxBodyBytes`. */
export const MAX_BODY_BYTES_RANGE = Object.freeze({ min: 256, max: 1_048_576 });
/** Upper bound of `server.trustProxy`. */
export const MAX_TRUST_PROXY = 32;
/** Bounds of `server.maxStreamsPerSession`, `maxStreamsPerIp` and `maxStreams`. */
export const MAX_STREAMS_RANGE = Object.freeze({ min: 1, max: 1_000_000 });
/** Most entries of `server.allowWebhookHosts`. */
export const MAX_WEBHOOK_HOSTS = 100;
/** Bounds of `retention.messages`. */
export const MAX_MESSAGES_RANGE = Object.freeze({ min: 1, max: 100_000 });

/** What an organization id (and so an organization file's name) may be. */
export const ORGANIZATION_ID = /^[A-Za-z0-9_-]{1,64}$/;
const ADMIN_KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const COLOR = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
const MAX_TEXT_LENGTH = 1_000;

/**
 * Validates a policy text and builds its normalised spec.
 *
 * @param text The policy file's content, YAML or JSON.
 * @param options Environment lookup for secrets, file name and clock.
 * @returns The spec (only when there is no error) and every problem, sorted by position.
 */
export function validatePolicy(
  text: string,
  options: ValidateOptions = {},
): ValidationResult {
  const { value, problems } = runValidator(
    options,
    text,
    (validator, root) => validator.policy(root),
  );
  return Object.freeze({
    ...(value === undefined ? {} : { spec: value }),
    problems,
  });
}

/**
 * Validates one organization's file of a policy directory: `version: 1` and
 * the organization's settings at the top level. The file cannot name its own
 * id or other organizations; its name does.
 *
 * @param text The file's content, YAML or JSON.
 * @param options The organization id, the directory's defaults, environment and clock.
 * @returns The organization (only when there is no error) and every problem, sorted by position.
 */
export function validateOrganizationFile(
  text: string,
  options: ValidateOrganizationOptions,
): OrganizationValidationResult {
  const secrets = options.secrets;
  const { value, problems } = runValidator(
    secrets === undefined ? options : {
      ...options,
      env: assignedEnv(lookupOf(options.env), secrets, options.organizationId),
    },
    text,
    (validator, root) =>
      validator.organizationFile(
        root,
        options.organizationId,
        options.defaults ?? BUILT_IN_DEFAULTS,
        options.allowWebhookHosts ?? [],
      ),
    secrets &&
      ((name) => refuseUnassignedSecret(secrets, options.organizationId, name)),
  );
  return Object.freeze({
    ...(value === undefined ? {} : { organization: value }),
    problems,
  });
}

/**
 * Validates a policy directory's `_parley.yaml`: `version`, `defaults` and
 * `server`, no organizations.
 *
 * @param text The file's content, YAML or JSON.
 * @param options Environment, file name and clock.
 * @returns The settings (only when there is no error) and every problem, sorted by position.
 */
export function validateSettingsFile(
  text: string,
  options: ValidateOptions = {},
): SettingsValidationResult {
  const { value, problems } = runValidator(
    options,
    text,
    (validator, root) => validator.settingsFile(root),
  );
  return Object.freeze({
    ...(value === undefined ? {} : { settings: value }),
    problems,
  });
}

/** An `EnvLookup` as a function. */
function lookupOf(
  env: EnvLookup | undefined,
): ((name: string) => string | undefined) | undefined {
  if (env === undefined || typeof env === "function") return env;
  return (name) => Object.hasOwn(env, name) ? env[name] : undefined;
}

/**
 * Parses, runs one of the validator's walks, and sorts and freezes the
 * problems. `refuseSecret` says which variables the file may not name.
 */
function runValidator<T>(
  options: ValidateOptions,
  text: string,
  walk: (validator: PolicyValidator, root: PolicyNode | undefined) => T,
  refuseSecret?: (name: string) => SecretRefusal | undefined,
): { value?: T; problems: readonly PolicyProblem[] } {
  let problems: PolicyProblem[];
  let value: T | undefined;
  try {
    const parsed = parsePolicyText(text);
    const validator = new PolicyValidator(
      options,
      parsed.problems,
      refuseSecret,
    );
    // A refused text (too large) was not parsed: there is nothing to walk.
    // After a syntax error the tree is the parser's guess, so checking its
    // shape reports problems the error made up (a mis-indented key read as
    // unknown, a list read as missing): report what the parser found; the
    // rest is checked once it parses.
    if (!parsed.refused && !parsed.problems.some(stopsValidation)) {
      value = walk(validator, parsed.root);
    }
    problems = validator.problems;
  } catch {
    // A bug must not turn into an uncaught exception for a policy author.
    problems = [{
      code: "internal",
      severity: "error",
      path: "",
      line: 0,
      column: 0,
      message: "Policy could not be validated because of an internal error",
    }];
  }
  const sorted = problems
    .map((problem, index) => ({ problem, index }))
    .sort((a, b) =>
      a.problem.line - b.problem.line || a.problem.column - b.problem.column ||
      a.index - b.index
    )
    .map(({ problem }) => Object.freeze(problem));
  const failed = sorted.some((problem) => problem.severity === "error");
  return {
    ...(failed || value === undefined ? {} : { value }),
    problems: Object.freeze(sorted),
  };
}

/** A parse problem after which the tree cannot be trusted. */
function stopsValidation(problem: PolicyProblem): boolean {
  return problem.code === "syntax";
}

/** Walks the parsed tree once, collecting problems and the spec's pieces. */
class PolicyValidator {
  readonly #env: EnvLookup | undefined;
  readonly #now: number;
  readonly #problems: PolicyProblem[];
  readonly #refuseSecret: (name: string) => SecretRefusal | undefined;
  /** The operator's `server.allowWebhookHosts`, for the webhook URLs that follow. */
  #allowWebhookHosts: readonly string[] = [];

  constructor(
    options: ValidateOptions,
    problems: readonly PolicyProblem[],
    refuseSecret: (name: string) => SecretRefusal | undefined = () => undefined,
  ) {
    this.#env = options.env;
    this.#now = options.now ?? Date.now();
    this.#problems = [...problems];
    this.#refuseSecret = refuseSecret;
  }

  get problems(): PolicyProblem[] {
    return this.#problems;
  }

  #report(
    code: string,
    path: string,
    at: Position,
    message: string,
    hint?: string,
    severity: "error" | "warning" = "error",
  ): void {
    this.#problems.push({
      code,
      severity,
      path,
      line: at.line,
      column: at.column,
      message,
      ...(hint === undefined ? {} : { hint }),
    });
  }

  #warn(
    code: string,
    path: string,
    at: Position,
    message: string,
    hint?: string,
  ): void {
    this.#report(code, path, at, message, hint, "warning");
  }

  /**
   * Checks that `node` is a mapping with only the keys allowed at `location`.
   * `quiet` keeps key names out of messages (inside secret references).
   */
  #map(
    node: PolicyNode,
    path: string,
    location: string,
    quiet = false,
  ): Map<string, MapEntry> | undefined {
    if (node.kind !== "map") {
      this.#report(
        "wrong-type",
        path,
        node,
        `Expected a mapping at "${path || "top level"}", found ${
          describe(node)
        }`,
      );
      return undefined;
    }
    const allowed = POLICY_KEYS[location] ?? FILE_TOP_KEYS[location] ?? [];
    const foreign = FOREIGN_KEYS[location] ?? [];
    const seen = new Map<string, MapEntry>();
    for (const entry of node.entries) {
      const entryPath = join(path, entry.key);
      if (foreign.includes(entry.key)) {
        this.#report(
          "foreign-organization",
          entryPath,
          entry.at,
          location === SETTINGS_FILE
            ? `Key "${entry.key}" cannot be used in "_parley.yaml"`
            : `Key "${entry.key}" cannot be used in an organization's file`,
          "In a policy directory each organization has its own <id>.yaml, and its file name is its id",
        );
        continue;
      }
      if (!allowed.includes(entry.key)) {
        if (quiet) {
          this.#report(
            "unknown-key",
            path,
            entry.at,
            `Unknown key in the secret reference at "${path}"`,
            `Write { env: NAME }`,
          );
        } else {
          this.#report(
            "unknown-key",
            entryPath,
            entry.at,
            `Unknown key "${entry.key}"`,
            suggest(entry.key, allowed),
          );
        }
        continue;
      }
      if (seen.has(entry.key)) {
        this.#report(
          "duplicate-key",
          entryPath,
          entry.at,
          `Key "${entry.key}" is written twice`,
          "Keep one of the entries",
        );
        continue;
      }
      seen.set(entry.key, entry);
    }
    return seen;
  }

  #string(entry: MapEntry, path: string): string | undefined {
    const node = entry.value;
    if (node.kind === "scalar" && typeof node.value === "string") {
      if (node.value.length > MAX_TEXT_LENGTH) {
        this.#report(
          "too-long",
          path,
          node,
          `Value of "${path}" is longer than ${MAX_TEXT_LENGTH} characters`,
        );
        return undefined;
      }
      return node.value;
    }
    this.#report(
      "wrong-type",
      path,
      node,
      `Expected a string at "${path}", found ${describe(node)}`,
      node.kind === "scalar" ? "Quote the value" : undefined,
    );
    return undefined;
  }

  #integer(
    entry: MapEntry,
    path: string,
    min: number,
    max: number,
  ): number | undefined {
    const node = entry.value;
    if (
      node.kind !== "scalar" || typeof node.value !== "number" ||
      !Number.isInteger(node.value)
    ) {
      this.#report(
        "wrong-type",
        path,
        node,
        `Expected an integer at "${path}", found ${describe(node)}`,
      );
      return undefined;
    }
    if (node.value < min || node.value > max) {
      this.#report(
        "out-of-range",
        path,
        node,
        `Value "${node.value}" of "${path}" is out of range`,
        `Use an integer from ${min} to ${max}`,
      );
      return undefined;
    }
    return node.value;
  }

  #enum<T extends string>(
    entry: MapEntry,
    path: string,
    values: readonly T[],
  ): T | undefined {
    const node = entry.value;
    // YAML 1.2 reads a bare `off` as a string, but JSON or `false` writers may not.
    const text = node.kind === "scalar" &&
        (typeof node.value === "string" || typeof node.value === "boolean")
      ? String(node.value)
      : undefined;
    const found = values.find((value) => value === text);
    if (found !== undefined) return found;
    this.#report(
      "bad-enum",
      path,
      node,
      text === undefined
        ? `Expected one of the values of "${path}", found ${describe(node)}`
        : `Value "${clip(text)}" is not allowed for "${path}"`,
      `Allowed values: ${values.map((value) => `"${value}"`).join(", ")}`,
    );
    return undefined;
  }

  #rate(entry: MapEntry, path: string): Rate | undefined {
    const node = entry.value;
    const text = node.kind === "scalar" && typeof node.value === "string"
      ? node.value
      : undefined;
    const rate = text === undefined ? undefined : parseRate(text);
    if (rate) return rate;
    this.#report(
      "bad-rate",
      path,
      node,
      text === undefined
        ? `Expected a rate at "${path}", found ${describe(node)}`
        : `Rate "${clip(text)}" of "${path}" is not a rate`,
      `Write N/second, N/minute, N/hour, N/day or N/<duration> such as "5/10s"`,
    );
    return undefined;
  }

  #duration(
    entry: MapEntry,
    path: string,
    minMs: number,
  ): number | undefined {
    const node = entry.value;
    const text = node.kind === "scalar" && typeof node.value === "string"
      ? node.value
      : undefined;
    const ms = text === undefined ? undefined : parseDuration(text);
    if (ms !== undefined && ms >= minMs) return ms;
    this.#report(
      "bad-duration",
      path,
      node,
      text === undefined
        ? `Expected a duration at "${path}", found ${describe(node)}`
        : ms === undefined
        ? `Duration "${clip(text)}" of "${path}" is not a duration`
        : `Duration "${clip(text)}" of "${path}" is too short`,
      node.kind === "scalar" && typeof node.value === "number"
        ? `Add a unit, e.g. "${node.value}s"`
        : `Write a number and a unit (ms, s, m, h, d, w), e.g. "15m" or "90d"`,
    );
    return undefined;
  }

  /** The top mapping of a file, after checking that there is one. */
  #top(
    root: PolicyNode | undefined,
    location: string,
  ): Map<string, MapEntry> | undefined {
    if (root === undefined) {
      this.#report(
        "unknown-version",
        "version",
        { line: 1, column: 1 },
        "Policy is empty",
        "Start the file with version: 1",
      );
      return undefined;
    }
    const top = this.#map(root, "", location);
    if (top) this.#version(top, root);
    return top;
  }

  #version(top: Map<string, MapEntry>, root: PolicyNode): void {
    const version = top.get("version");
    if (version === undefined) {
      this.#report(
        "unknown-version",
        "version",
        root,
        `Policy has no "version"`,
        "Add version: 1 at the top",
      );
    } else if (
      version.value.kind !== "scalar" || version.value.value !== 1
    ) {
      this.#report(
        "unknown-version",
        "version",
        version.value,
        version.value.kind === "scalar" &&
          (typeof version.value.value === "number" ||
            typeof version.value.value === "string")
          ? `Policy version "${
            clip(String(version.value.value))
          }" is not supported`
          : `Expected version 1, found ${describe(version.value)}`,
        "This release reads version: 1",
      );
    }
  }

  policy(root: PolicyNode | undefined): PolicySpec | undefined {
    const top = this.#top(root, "");
    if (!top || root === undefined) return undefined;
    const defaults = this.#defaults(top.get("defaults"));
    const server = this.#server(top.get("server"));
    this.#allowWebhookHosts = server.allowWebhookHosts;
    const organizations = new Map<string, OrganizationSpec>();
    const orgsEntry = top.get("organizations");
    if (orgsEntry === undefined) {
      this.#warn(
        "no-organizations",
        "organizations",
        root,
        "Policy defines no organizations",
        "Add an organizations: section; every request will be refused without one",
      );
    } else if (orgsEntry.value.kind !== "map") {
      this.#report(
        "wrong-type",
        "organizations",
        orgsEntry.value,
        `Expected a mapping at "organizations", found ${
          describe(orgsEntry.value)
        }`,
      );
    } else {
      const seen = new Set<string>();
      for (const entry of orgsEntry.value.entries) {
        const path = `organizations.${entry.key}`;
        if (seen.has(entry.key)) {
          this.#report(
            "duplicate-key",
            path,
            entry.at,
            `Organization "${clip(entry.key)}" is defined twice`,
            "Keep one of the entries",
          );
          continue;
        }
        seen.add(entry.key);
        if (!ORGANIZATION_ID.test(entry.key)) {
          this.#report(
            "bad-organization-id",
            path,
            entry.at,
            `Organization id "${clip(entry.key)}" is not allowed`,
            "Use 1 to 64 letters, digits, '_' or '-'",
          );
        }
        const section = this.#map(entry.value, path, "organizations.*");
        if (!section) continue;
        const organization = this.#organization(
          entry.key,
          section,
          path,
          entry.at,
          defaults,
        );
        organizations.set(entry.key, organization);
      }
    }
    return Object.freeze({
      version: 1,
      server,
      defaults: freezeDefaults(defaults),
      organizations: Object.freeze(organizations),
    });
  }

  organizationFile(
    root: PolicyNode | undefined,
    id: string,
    defaults: PolicySpec["defaults"],
    allowWebhookHosts: readonly string[],
  ): OrganizationSpec | undefined {
    this.#allowWebhookHosts = allowWebhookHosts;
    if (!ORGANIZATION_ID.test(id)) {
      this.#report(
        "bad-organization-id",
        "",
        { line: 1, column: 1 },
        `Organization id "${clip(id)}" is not allowed`,
        "Name the file with 1 to 64 letters, digits, '_' or '-' and .yaml, .yml or .json",
      );
    }
    const top = this.#top(root, ORGANIZATION_FILE);
    if (!top || root === undefined) return undefined;
    return this.#organization(id, top, "", root, defaults);
  }

  settingsFile(root: PolicyNode | undefined): DirectorySettings | undefined {
    const top = this.#top(root, SETTINGS_FILE);
    if (!top) return undefined;
    const secretsEntry = top.get("secrets");
    const secrets = secretsEntry && readSecretAssignment(secretsEntry.value);
    if (secrets) this.#problems.push(...secrets.problems);
    return Object.freeze({
      server: this.#server(top.get("server")),
      defaults: freezeDefaults(this.#defaults(top.get("defaults"))),
      ...(secrets ? { secrets: secrets.assignment } : {}),
    });
  }

  #defaults(entry: MapEntry | undefined): PolicySpec["defaults"] {
    if (entry === undefined) return BUILT_IN_DEFAULTS;
    const section = this.#map(entry.value, "defaults", "defaults");
    if (!section) return BUILT_IN_DEFAULTS;
    const limits = this.#limits(
      section.get("limits"),
      "defaults.limits",
      "defaults.limits",
      BUILT_IN_DEFAULTS.limits,
    );
    const jwt = this.#jwtTimes(
      section.get("jwt"),
      "defaults.jwt",
      BUILT_IN_DEFAULTS.jwt,
    );
    return { limits, jwt };
  }

  #limits(
    entry: MapEntry | undefined,
    path: string,
    location: string,
    fallback: LimitSettings,
  ): LimitSettings {
    if (entry === undefined) return { ...fallback };
    const section = this.#map(entry.value, path, location);
    if (!section) return { ...fallback };
    const rate = (key: keyof LimitSettings): Rate => {
      const found = section.get(key);
      return (found && this.#rate(found, `${path}.${key}`)) ?? fallback[key];
    };
    return {
      organization: rate("organization"),
      ip: rate("ip"),
      session: rate("session"),
      agent: rate("agent"),
      authFailures: rate("authFailures"),
    };
  }

  /** `maxLifetime` and `clockTolerance`, in `defaults.jwt` or an organization's `jwt`. */
  #jwtTimes(
    section: Map<string, MapEntry> | MapEntry | undefined,
    path: string,
    fallback: { maxLifetimeMs: number; clockToleranceMs: number },
  ): { maxLifetimeMs: number; clockToleranceMs: number } {
    let keys: Map<string, MapEntry> | undefined;
    if (section instanceof Map) keys = section;
    else if (section !== undefined) {
      keys = this.#map(section.value, path, "defaults.jwt");
    }
    if (!keys) return { ...fallback };
    const maxLifetime = keys.get("maxLifetime");
    const clockTolerance = keys.get("clockTolerance");
    return {
      maxLifetimeMs: (maxLifetime &&
        this.#duration(maxLifetime, `${path}.maxLifetime`, 1_000)) ??
        fallback.maxLifetimeMs,
      clockToleranceMs: (clockTolerance &&
        this.#duration(clockTolerance, `${path}.clockTolerance`, 0)) ??
        fallback.clockToleranceMs,
    };
  }

  #server(entry: MapEntry | undefined): ServerSettings {
    const settings: {
      -readonly [K in keyof ServerSettings]: ServerSettings[K];
    } = { ...BUILT_IN_SERVER };
    const section = entry && this.#map(entry.value, "server", "server");
    if (section) {
      const trustProxy = section.get("trustProxy");
      const maxBodyBytes = section.get("maxBodyBytes");
      const onStoreError = section.get("onStoreError");
      settings.trustProxy = (trustProxy &&
        this.#integer(
          trustProxy,
          "server.trustProxy",
          0,
          MAX_TRUST_PROXY,
        )) ?? settings.trustProxy;
      settings.maxBodyBytes = (maxBodyBytes &&
        this.#integer(
          maxBodyBytes,
          "server.maxBodyBytes",
          MAX_BODY_BYTES_RANGE.min,
          MAX_BODY_BYTES_RANGE.max,
        )) ?? settings.maxBodyBytes;
      settings.onStoreError = (onStoreError &&
        this.#enum(onStoreError, "server.onStoreError", STORE_ERROR_MODES)) ??
        settings.onStoreError;
      for (
        const key of [
          "maxStreamsPerSession",
          "maxStreamsPerIp",
          "maxStreams",
        ] as const
      ) {
        const found = section.get(key);
        settings[key] = (found &&
          this.#integer(
            found,
            `server.${key}`,
            MAX_STREAMS_RANGE.min,
            MAX_STREAMS_RANGE.max,
          )) ?? settings[key];
      }
      const hosts = section.get("allowWebhookHosts");
      if (hosts) settings.allowWebhookHosts = this.#webhookHosts(hosts);
    }
    return Object.freeze(settings);
  }

  /** `server.allowWebhookHosts`: bare hosts, in the form URLs name them. */
  #webhookHosts(entry: MapEntry): readonly string[] {
    const path = "server.allowWebhookHosts";
    const list = this.#list(entry, path);
    const hosts: string[] = [];
    if (list && list.items.length > MAX_WEBHOOK_HOSTS) {
      this.#report(
        "too-many-webhook-hosts",
        path,
        entry.value,
        `At most ${MAX_WEBHOOK_HOSTS} webhook hosts may be listed`,
      );
      return Object.freeze(hosts);
    }
    list?.items.forEach((item, index) => {
      const itemPath = `${path}[${index}]`;
      const text = this.#string({ key: "", at: item, value: item }, itemPath);
      if (text === undefined) return;
      const host = canonicalHost(text);
      if (host === undefined) {
        this.#report(
          "bad-webhook-host",
          itemPath,
          item,
          `Webhook host "${clip(text)}" is not a host name or IP address`,
          "List bare hosts, e.g. 127.0.0.1, ::1 or hooks.dev.test (no scheme, port or wildcard)",
        );
      } else if (!hosts.includes(host)) hosts.push(host);
    });
    return Object.freeze(hosts);
  }

  /**
   * One organization's settings: `section` is its mapping under
   * `organizations` (at `path`), or the top of its own file (`path` "").
   */
  #organization(
    id: string,
    section: Map<string, MapEntry>,
    path: string,
    at: Position,
    defaults: PolicySpec["defaults"],
  ): OrganizationSpec {
    const nameEntry = section.get("name");
    const name = (nameEntry && this.#string(nameEntry, join(path, "name"))) ??
      id;
    const appIds = this.#appIds(section.get("appIds"), join(path, "appIds"));
    const domains = this.#domains(
      section.get("domains"),
      join(path, "domains"),
      at,
    );
    const jwt = this.#jwt(section.get("jwt"), join(path, "jwt"), defaults.jwt);
    const limits = this.#limits(
      section.get("limits"),
      join(path, "limits"),
      "organizations.*.limits",
      defaults.limits,
    );
    const widget = this.#widget(section.get("widget"), join(path, "widget"));
    const adminKeys = this.#adminKeys(
      section.get("admin"),
      join(path, "admin"),
      name,
    );
    const webhook = this.#webhook(
      section.get("webhook"),
      join(path, "webhook"),
    );
    const retention = this.#retention(
      section.get("retention"),
      join(path, "retention"),
    );
    return Object.freeze({
      id,
      name,
      appIds,
      domains,
      jwt,
      limits: Object.freeze(limits),
      widget,
      adminKeys,
      ...(webhook === undefined ? {} : { webhook }),
      ...(retention.retentionMs === undefined
        ? {}
        : { retentionMs: retention.retentionMs }),
      maxMessages: retention.maxMessages,
    });
  }

  /** `retention: 90d`, or `retention: { conversations: 90d, messages: 1000 }`. */
  #retention(
    entry: MapEntry | undefined,
    path: string,
  ): { retentionMs?: number; maxMessages: number } {
    const maxMessages = POLICY_DEFAULTS.maxMessages;
    if (entry === undefined) return { maxMessages };
    if (entry.value.kind !== "map") {
      const retentionMs = this.#duration(entry, path, 60_000);
      return retentionMs === undefined
        ? { maxMessages }
        : { retentionMs, maxMessages };
    }
    const section = this.#map(entry.value, path, "organizations.*.retention");
    if (!section) return { maxMessages };
    const conversations = section.get("conversations");
    const retentionMs = conversations &&
      this.#duration(conversations, `${path}.conversations`, 60_000);
    const messages = section.get("messages");
    const kept = (messages &&
      this.#integer(
        messages,
        `${path}.messages`,
        MAX_MESSAGES_RANGE.min,
        MAX_MESSAGES_RANGE.max,
      )) ?? maxMessages;
    return retentionMs === undefined
      ? { maxMessages: kept }
      : { retentionMs, maxMessages: kept };
  }

  #list(entry: MapEntry, path: string): ListNode | undefined {
    if (entry.value.kind === "list") return entry.value;
    this.#report(
      "wrong-type",
      path,
      entry.value,
      `Expected a list at "${path}", found ${describe(entry.value)}`,
      "Write the items as [a, b] or one '- item' per line",
    );
    return undefined;
  }

  #appIds(entry: MapEntry | undefined, path: string): readonly string[] {
    const list = entry && this.#list(entry, path);
    if (!list) return Object.freeze([]);
    const ids: string[] = [];
    list.items.forEach((item, index) => {
      const itemPath = `${path}[${index}]`;
      const value = this.#string({ key: "", at: item, value: item }, itemPath);
      if (value === undefined) return;
      if (value === "") {
        this.#report("wrong-type", itemPath, item, "App id is empty");
      } else if (!ids.includes(value)) ids.push(value);
    });
    return Object.freeze(ids);
  }

  #domains(
    entry: MapEntry | undefined,
    path: string,
    orgAt: Position,
  ): OrganizationSpec["domains"] {
    const fallback = Object.freeze({
      mode: "enforce" as DomainMode,
      allow: Object.freeze([]) as readonly DomainPattern[],
    });
    const section = entry &&
      this.#map(entry.value, path, "organizations.*.domains");
    if (!section) {
      if (entry === undefined) {
        this.#warn(
          "no-domains",
          path,
          orgAt,
          `No domains are allowed, so every widget request is refused`,
          "Add domains.allow, or domains.mode: off for legacy behaviour",
        );
      }
      return fallback;
    }
    const modeEntry = section.get("mode");
    const mode = (modeEntry &&
      this.#enum(modeEntry, `${path}.mode`, DOMAIN_MODES)) ?? "enforce";
    const allow: DomainPattern[] = [];
    const allowEntry = section.get("allow");
    const list = allowEntry && this.#list(allowEntry, `${path}.allow`);
    if (list) {
      const sources = new Set<string>();
      list.items.forEach((item, index) => {
        const itemPath = `${path}.allow[${index}]`;
        if (item.kind !== "scalar" || typeof item.value !== "string") {
          this.#report(
            "wrong-type",
            itemPath,
            item,
            `Expected a domain at "${itemPath}", found ${describe(item)}`,
          );
          return;
        }
        const result = parseDomainPattern(item.value);
        if ("code" in result) {
          this.#report(
            result.code,
            itemPath,
            item,
            result.message,
            result.hint,
          );
          return;
        }
        const key = `${result.scheme}://${
          result.wildcard ? "*." : ""
        }${result.host}:${result.port ?? ""}`;
        if (sources.has(key)) {
          this.#warn(
            "duplicate-domain",
            itemPath,
            item,
            `Domain "${clip(item.value)}" is listed twice`,
            "Remove the repeated entry",
          );
          return;
        }
        sources.add(key);
        allow.push(result);
      });
    }
    if (
      mode !== "off" &&
      (list ? list.items.length === 0 : allowEntry === undefined)
    ) {
      this.#warn(
        "no-domains",
        `${path}.allow`,
        allowEntry?.at ?? entry.at,
        `Mode "${mode}" with no allowed domains refuses every widget request`,
        "List the sites that embed the widget in domains.allow",
      );
    }
    return Object.freeze({ mode, allow: Object.freeze(allow) });
  }

  #jwt(
    entry: MapEntry | undefined,
    path: string,
    defaults: PolicySpec["defaults"]["jwt"],
  ): OrganizationSpec["jwt"] {
    const section = entry &&
      this.#map(entry.value, path, "organizations.*.jwt");
    if (!section) {
      return Object.freeze({
        mode: "off" as JwtMode,
        keys: Object.freeze([]),
        ...defaults,
      });
    }
    const modeEntry = section.get("mode");
    const mode = (modeEntry &&
      this.#enum(modeEntry, `${path}.mode`, JWT_MODES)) ?? "off";
    const times = this.#jwtTimes(section, path, defaults);
    const keys: JwtKeySpec[] = [];
    const keysEntry = section.get("keys");
    const list = keysEntry && this.#list(keysEntry, `${path}.keys`);
    if (list) {
      if (list.items.length > MAX_JWT_KEYS) {
        this.#report(
          "too-many-keys",
          `${path}.keys`,
          list,
          `Organization has ${list.items.length} JWT keys, more than ${MAX_JWT_KEYS}`,
          "Remove retired keys",
        );
      }
      const ids = new Set<string>();
      list.items.forEach((item, index) => {
        const key = this.#jwtKey(item, `${path}.keys[${index}]`, ids);
        if (key) keys.push(key);
      });
    }
    if (mode === "required" && (!list || list.items.length === 0)) {
      this.#report(
        "jwt-required-without-keys",
        `${path}.keys`,
        keysEntry?.at ?? modeEntry?.at ?? entry.at,
        `JWT mode "required" needs at least one key`,
        "Add keys: [{ id: ..., secret: { env: NAME } }], or use mode: optional",
      );
    } else if (mode === "optional" && (!list || list.items.length === 0)) {
      this.#warn(
        "jwt-optional-without-keys",
        `${path}.keys`,
        keysEntry?.at ?? modeEntry?.at ?? entry.at,
        `JWT mode "optional" with no keys rejects every token sent`,
        "Add keys: [{ id: ..., secret: { env: NAME } }]",
      );
    }
    return Object.freeze({ mode, keys: Object.freeze(keys), ...times });
  }

  #jwtKey(
    node: PolicyNode,
    path: string,
    ids: Set<string>,
  ): JwtKeySpec | undefined {
    const section = this.#map(node, path, "organizations.*.jwt.keys[]");
    if (!section) return undefined;
    const idEntry = section.get("id");
    let id: string | undefined;
    if (idEntry === undefined) {
      this.#report(
        "missing-key",
        `${path}.id`,
        node,
        `JWT key at "${path}" has no "id"`,
        `Add id: "2026-11"; tokens name it in their kid header`,
      );
    } else if (
      idEntry.value.kind === "scalar" && typeof idEntry.value.value === "number"
    ) {
      // `id: 2026` means the kid "2026".
      id = String(idEntry.value.value);
    } else {
      id = this.#string(idEntry, `${path}.id`);
      if (id === "") {
        this.#report(
          "wrong-type",
          `${path}.id`,
          idEntry.value,
          "Key id is empty",
        );
        id = undefined;
      }
    }
    if (id !== undefined && idEntry) {
      if (ids.has(id)) {
        this.#report(
          "duplicate-key-id",
          `${path}.id`,
          idEntry.value,
          `JWT key id "${clip(id)}" is used twice`,
          "Give every key its own id",
        );
      }
      ids.add(id);
    }
    const label = id === undefined ? `at "${path}"` : `"${clip(id)}"`;
    const secretEntry = section.get("secret");
    const secret = this.#secret(
      secretEntry,
      `${path}.secret`,
      "organizations.*.jwt.keys[].secret",
      node,
      `JWT key ${label}`,
    );
    const untilEntry = section.get("until");
    const until = untilEntry &&
      this.#until(untilEntry, `${path}.until`, `JWT key ${label}`);
    if (id === undefined || secret === undefined) return undefined;
    return Object.freeze({
      id,
      secret: new TextEncoder().encode(secret),
      ...(until === undefined ? {} : { until }),
    });
  }

  #until(entry: MapEntry, path: string, label: string): number | undefined {
    const node = entry.value;
    const time = timeOfNode(node);
    if (time === undefined) {
      this.#report(
        "bad-until",
        path,
        node,
        `End of ${label} is not an ISO time`,
        `Write a time such as 2026-12-15T00:00:00Z`,
      );
      return undefined;
    }
    if (time <= this.#now) {
      this.#warn(
        "until-past",
        path,
        node,
        `${label} expired on ${new Date(time).toISOString()}`,
        "Remove the key once no token signed with it is in use",
      );
    }
    return time;
  }

  /** A secret: `{ env: NAME }` (preferred) or an inline string (warned). */
  #secret(
    entry: MapEntry | undefined,
    path: string,
    location: string,
    parentAt: Position,
    label: string,
  ): string | undefined {
    if (entry === undefined) {
      this.#report(
        "missing-key",
        path,
        parentAt,
        `${capitalize(label)} has no "secret"`,
        "Add secret: { env: NAME }",
      );
      return undefined;
    }
    const node = entry.value;
    let value: string | undefined;
    if (node.kind === "scalar" && typeof node.value === "string") {
      this.#warn(
        "inline-secret",
        path,
        node,
        `Secret of ${label} is written inline in the policy`,
        "Move it to an environment variable and write secret: { env: NAME }",
      );
      value = node.value;
    } else if (node.kind === "map") {
      const reference = this.#map(node, path, location, true);
      const nameEntry = reference?.get("env");
      if (!reference) return undefined;
      if (nameEntry === undefined) {
        this.#report(
          "missing-key",
          `${path}.env`,
          node,
          `Secret of ${label} names no environment variable`,
          "Write secret: { env: NAME }",
        );
        return undefined;
      }
      const name = nameEntry.value.kind === "scalar" &&
          typeof nameEntry.value.value === "string"
        ? nameEntry.value.value
        : undefined;
      if (name === undefined || !ENV_NAME.test(name)) {
        // The text may be a pasted secret, so it is never echoed.
        this.#report(
          "bad-env-name",
          `${path}.env`,
          nameEntry.value,
          `Secret of ${label} names an invalid environment variable`,
          "Use letters, digits and '_', not starting with a digit",
        );
        return undefined;
      }
      // Checked before the lookup: set, unset or short must read the same.
      const refusal = this.#refuseSecret(name);
      if (refusal !== undefined) {
        this.#report(
          "secret-not-assigned",
          `${path}.env`,
          nameEntry.value,
          refusal.message,
          refusal.hint,
        );
        return undefined;
      }
      value = this.#lookup(name);
      if (value === undefined || value === "") {
        this.#report(
          "env-missing",
          `${path}.env`,
          nameEntry.value,
          `Environment variable "${name}" for ${label} is not set`,
          `Set "${name}" to a random secret of at least ${MIN_SECRET_BYTES} bytes`,
        );
        return undefined;
      }
    } else {
      this.#report(
        "wrong-type",
        path,
        node,
        `Secret of ${label} must be { env: NAME }, found ${describe(node)}`,
        "Write secret: { env: NAME }",
      );
      return undefined;
    }
    if (new TextEncoder().encode(value).length < MIN_SECRET_BYTES) {
      this.#report(
        "secret-too-short",
        path,
        node,
        `Secret of ${label} is shorter than ${MIN_SECRET_BYTES} bytes`,
        "Generate one with: openssl rand -base64 48",
      );
      return undefined;
    }
    return value;
  }

  #lookup(name: string): string | undefined {
    const env = this.#env;
    if (env === undefined) return undefined;
    try {
      return typeof env === "function"
        ? env(name)
        : Object.hasOwn(env, name)
        ? env[name]
        : undefined;
    } catch {
      // A denied permission reads as a missing variable.
      return undefined;
    }
  }

  #widget(entry: MapEntry | undefined, path: string): WidgetSettings {
    const unansweredAfterMs = DEFAULT_UNANSWERED_AFTER_MS;
    const section = entry &&
      this.#map(entry.value, path, "organizations.*.widget");
    if (!section) return Object.freeze({ unansweredAfterMs });
    const text = (key: string): string | undefined => {
      const found = section.get(key);
      return found && this.#string(found, `${path}.${key}`);
    };
    const title = text("title");
    const greeting = text("greeting");
    const colorEntry = section.get("color");
    let color: string | undefined;
    if (colorEntry) {
      color = this.#string(colorEntry, `${path}.color`);
      if (color !== undefined && !COLOR.test(color)) {
        this.#report(
          "bad-color",
          `${path}.color`,
          colorEntry.value,
          `Color "${clip(color)}" is not a hex color`,
          `Write "#rgb" or "#rrggbb", quoted, e.g. "#0b5fff"`,
        );
        color = undefined;
      }
    }
    const positionEntry = section.get("position");
    const position = positionEntry &&
      this.#enum(positionEntry, `${path}.position`, WIDGET_POSITIONS);
    const hoursEntry = section.get("hours");
    const hours = hoursEntry && this.#hours(hoursEntry, `${path}.hours`);
    const unansweredEntry = section.get("unansweredAfter");
    return Object.freeze({
      ...(title === undefined ? {} : { title }),
      ...(greeting === undefined ? {} : { greeting }),
      ...(color === undefined ? {} : { color }),
      ...(position === undefined ? {} : { position }),
      ...(hours === undefined ? {} : { hours }),
      unansweredAfterMs: (unansweredEntry &&
        this.#duration(unansweredEntry, `${path}.unansweredAfter`, 1_000)) ??
        unansweredAfterMs,
    });
  }

  /** `hours: { timezone: Europe/Berlin, weekly: { mon-fri: "09:00-17:00" } }`. */
  #hours(entry: MapEntry, path: string): BusinessHours | undefined {
    const section = this.#map(
      entry.value,
      path,
      "organizations.*.widget.hours",
    );
    if (!section) return undefined;
    const zoneEntry = section.get("timezone");
    let timezone: string | undefined;
    if (zoneEntry === undefined) {
      this.#report(
        "missing-key",
        `${path}.timezone`,
        entry.value,
        `Business hours have no "timezone"`,
        "Add timezone: with an IANA zone such as Europe/Berlin or America/New_York",
      );
    } else {
      const written = this.#string(zoneEntry, `${path}.timezone`);
      timezone = written === undefined ? undefined : canonicalTimeZone(written);
      if (written !== undefined && timezone === undefined) {
        this.#report(
          "bad-timezone",
          `${path}.timezone`,
          zoneEntry.value,
          `Time zone "${clip(written)}" is not known`,
          "Use an IANA zone such as Europe/Berlin, America/New_York or UTC",
        );
      }
    }
    const weeklyEntry = section.get("weekly");
    if (weeklyEntry === undefined) {
      this.#report(
        "missing-key",
        `${path}.weekly`,
        entry.value,
        `Business hours have no "weekly"`,
        `Add weekly: { mon-fri: "09:00-17:00" }`,
      );
      return undefined;
    }
    const weekly = this.#weekly(weeklyEntry, `${path}.weekly`);
    if (timezone === undefined || weekly === undefined) return undefined;
    return Object.freeze({ timezone, weekly });
  }

  #weekly(
    entry: MapEntry,
    path: string,
  ): readonly (readonly OpeningRange[])[] | undefined {
    const node = entry.value;
    if (node.kind !== "map") {
      this.#report(
        "wrong-type",
        path,
        node,
        `Expected a mapping at "${path}", found ${describe(node)}`,
        `Write days and ranges, e.g. { mon-fri: "09:00-17:00", sat: "10:00-14:00" }`,
      );
      return undefined;
    }
    const days: OpeningRange[][] = WEEKDAYS.map(() => []);
    const givenBy = new Map<number, string>();
    let failed = false;
    for (const day of node.entries) {
      const dayPath = `${path}.${day.key}`;
      const indexes = parseDayKey(day.key);
      if (indexes === undefined) {
        this.#report(
          "bad-hours",
          dayPath,
          day.at,
          `Day "${clip(day.key)}" is not a day or a range of days`,
          `Write mon, tue, wed, thu, fri, sat, sun, or a range such as mon-fri`,
        );
        failed = true;
        continue;
      }
      const twice = indexes.find((index) => givenBy.has(index));
      if (twice !== undefined) {
        this.#report(
          "hours-day-twice",
          dayPath,
          day.at,
          `Day "${WEEKDAYS[twice]}" is given by both "${
            clip(givenBy.get(twice) ?? "")
          }" and "${clip(day.key)}"`,
          'Give each day once; list several ranges for a day as ["09:00-12:00", "13:00-17:00"]',
        );
        failed = true;
        continue;
      }
      const ranges = this.#ranges(day, dayPath);
      if (ranges === undefined) {
        failed = true;
        continue;
      }
      for (const index of indexes) {
        givenBy.set(index, day.key);
        days[index] = ranges;
      }
    }
    if (failed) return undefined;
    return Object.freeze(days.map((ranges) => Object.freeze(ranges)));
  }

  /** A day's value: `"09:00-17:00"` or a list of such ranges, sorted, none overlapping. */
  #ranges(entry: MapEntry, path: string): OpeningRange[] | undefined {
    const node = entry.value;
    const items = node.kind === "list" ? node.items : [node];
    const ranges: OpeningRange[] = [];
    let failed = false;
    items.forEach((item, index) => {
      const itemPath = node.kind === "list" ? `${path}[${index}]` : path;
      const text = item.kind === "scalar" && typeof item.value === "string"
        ? item.value
        : undefined;
      const range = text === undefined ? undefined : parseOpeningRange(text);
      if (range === undefined) {
        this.#report(
          "bad-hours",
          itemPath,
          item,
          text === undefined
            ? `Expected a range of hours at "${itemPath}", found ${
              describe(item)
            }`
            : `Hours "${clip(text)}" are not a range such as "09:00-17:00"`,
          `Write "HH:MM-HH:MM" on the 24-hour clock, quoted, ending after it starts ("24:00" ends at midnight)`,
        );
        failed = true;
        return;
      }
      ranges.push(range);
    });
    if (failed) return undefined;
    ranges.sort((a, b) => a.from - b.from);
    for (let i = 1; i < ranges.length; i++) {
      if (ranges[i]!.from < ranges[i - 1]!.to) {
        this.#report(
          "bad-hours",
          path,
          node,
          `Hours of "${clip(entry.key)}" overlap`,
          "Merge the overlapping ranges into one",
        );
        return undefined;
      }
    }
    return ranges;
  }

  #adminKeys(
    entry: MapEntry | undefined,
    path: string,
    organizationName: string,
  ): readonly AdminKeySpec[] {
    const section = entry &&
      this.#map(entry.value, path, "organizations.*.admin");
    const keysEntry = section?.get("keys");
    const list = keysEntry && this.#list(keysEntry, `${path}.keys`);
    if (!list) return Object.freeze([]);
    if (list.items.length > MAX_ADMIN_KEYS) {
      this.#report(
        "too-many-admin-keys",
        `${path}.keys`,
        list,
        `Organization has ${list.items.length} admin keys; at most ${MAX_ADMIN_KEYS} are allowed`,
        "Remove keys no agent uses",
      );
      return Object.freeze([]);
    }
    const keys: AdminKeySpec[] = [];
    const ids = new Set<string>();
    const secrets = new Map<string, string>();
    list.items.forEach((item, index) => {
      const itemPath = `${path}.keys[${index}]`;
      const key = this.#map(item, itemPath, "organizations.*.admin.keys[]");
      if (!key) return;
      const id = this.#adminKeyId(key.get("id"), `${itemPath}.id`, index);
      if (id !== undefined) {
        if (ids.has(id)) {
          this.#report(
            "duplicate-key-id",
            `${itemPath}.id`,
            key.get("id")?.value ?? item,
            `Admin key id "${clip(id)}" is used twice`,
            key.has("id")
              ? "Give every key its own id"
              : `A key without "id" is "key-${
                index + 1
              }"; give this one or the other an id of its own`,
          );
        }
        ids.add(id);
      }
      const nameEntry = key.get("name");
      let name = nameEntry && this.#string(nameEntry, `${itemPath}.name`);
      if (name !== undefined && name.trim() === "") {
        this.#report(
          "wrong-type",
          `${itemPath}.name`,
          nameEntry?.value ?? item,
          "Admin key name is empty",
        );
        name = undefined;
      }
      const label = id === undefined
        ? `admin key ${index + 1}`
        : `admin key "${clip(id)}"`;
      const secret = this.#secret(
        key.get("secret"),
        `${itemPath}.secret`,
        "organizations.*.admin.keys[].secret",
        item,
        label,
      );
      if (secret === undefined || id === undefined) return;
      const sameAs = secrets.get(secret);
      if (sameAs !== undefined) {
        this.#warn(
          "duplicate-admin-secret",
          `${itemPath}.secret`,
          key.get("secret")?.value ?? item,
          `Admin keys "${clip(sameAs)}" and "${
            clip(id)
          }" have the same secret, so both sign in as "${clip(sameAs)}"`,
          "Give every agent a secret of their own",
        );
      } else secrets.set(secret, id);
      keys.push(Object.freeze({
        id,
        name: name ?? organizationName,
        secret,
      }));
    });
    return Object.freeze(keys);
  }

  /** An admin key's `id`, or `key-<n>` when the policy gives none. */
  #adminKeyId(
    entry: MapEntry | undefined,
    path: string,
    index: number,
  ): string | undefined {
    if (entry === undefined) return `key-${index + 1}`;
    const node = entry.value;
    const id = node.kind === "scalar" && typeof node.value === "number"
      ? String(node.value)
      : this.#string(entry, path);
    if (id === undefined) return undefined;
    if (!ADMIN_KEY_ID.test(id)) {
      this.#report(
        "bad-admin-key-id",
        path,
        node,
        `Admin key id "${clip(id)}" is not allowed`,
        "Use 1 to 64 letters, digits, '.', '_' or '-'",
      );
      return undefined;
    }
    return id;
  }

  #webhook(
    entry: MapEntry | undefined,
    path: string,
  ): { readonly url: string; readonly secret: string } | undefined {
    const section = entry &&
      this.#map(entry.value, path, "organizations.*.webhook");
    if (!section || !entry) return undefined;
    const urlEntry = section.get("url");
    let url: string | undefined;
    if (urlEntry === undefined) {
      this.#report(
        "missing-key",
        `${path}.url`,
        entry.value,
        `Webhook has no "url"`,
        "Add url: https://…",
      );
    } else {
      const text = this.#string(urlEntry, `${path}.url`);
      if (text !== undefined) {
        const checked = checkWebhookUrl(text, this.#allowWebhookHosts);
        if ("url" in checked) url = checked.url;
        else {
          const { code, message, hint } = checked.refusal;
          this.#report(code, `${path}.url`, urlEntry.value, message, hint);
        }
      }
    }
    const secret = this.#secret(
      section.get("secret"),
      `${path}.secret`,
      "organizations.*.webhook.secret",
      entry.value,
      "the webhook",
    );
    if (url === undefined || secret === undefined) return undefined;
    return Object.freeze({ url, secret });
  }
}

function freezeDefaults(
  defaults: PolicySpec["defaults"],
): PolicySpec["defaults"] {
  return Object.freeze({
    limits: Object.freeze({ ...defaults.limits }),
    jwt: Object.freeze({ ...defaults.jwt }),
  });
}

/** What `parseDomainPattern` says about a bad entry. */
export interface DomainPatternProblem {
  readonly code: "bad-domain-pattern" | "wildcard-public-suffix";
  readonly message: string;
  readonly hint: string;
}

/**
 * Parses one `domains.allow` entry: `acme.com`, `*.acme.com`,
 * `http://localhost:3000`, `https://x.com:8443`, `http://*.acme.test`.
 *
 * @param source The entry as written.
 * @returns The normalised pattern, or the problem with it.
 */
export function parseDomainPattern(
  source: string,
): DomainPattern | DomainPatternProblem {
  const bad = (message: string, hint: string): DomainPatternProblem => ({
    code: "bad-domain-pattern",
    message,
    hint,
  });
  const quoted = `"${clip(source)}"`;
  let rest = source;
  let scheme: "http" | "https" = "https";
  const schemeMatch = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(source);
  if (schemeMatch) {
    const written = (schemeMatch[1] ?? "").toLowerCase();
    if (written !== "http" && written !== "https") {
      return bad(
        `Domain ${quoted} uses the scheme "${written}"`,
        "Only http:// and https:// pages can embed the widget",
      );
    }
    scheme = written;
    rest = source.slice(schemeMatch[0].length);
  } else if (source.includes("://")) {
    return bad(`Domain ${quoted} has no valid scheme`, "Write https://host");
  }
  if (/[/?#]/.test(rest)) {
    return bad(
      `Domain ${quoted} has a path, query or fragment`,
      "An origin is scheme://host[:port]; remove everything after the host",
    );
  }
  if (rest.includes("@")) {
    return bad(
      `Domain ${quoted} has user info`,
      "Remove the part before '@'",
    );
  }
  let hostText = rest;
  let port: number | undefined;
  const portMatch = /^(.*?):(\d{1,5})$/.exec(rest);
  if (portMatch && !rest.endsWith("]")) {
    hostText = portMatch[1] ?? "";
    port = Number(portMatch[2]);
    if (port < 1 || port > 65_535) {
      return bad(`Domain ${quoted} has an invalid port`, "Use a port 1–65535");
    }
  }
  let wildcard = false;
  if (hostText.startsWith("*.")) {
    wildcard = true;
    hostText = hostText.slice(2);
  }
  if (hostText.includes("*")) {
    return bad(
      `Domain ${quoted} has a wildcard that is not a leading "*."`,
      `Write "*.example.com" for all subdomains, or list hosts one by one`,
    );
  }
  let host: string | undefined;
  if (hostText.startsWith("[")) {
    host = normalizeIpv6(hostText);
  } else {
    host = normalizeHost(hostText);
    if (host !== undefined && hostText.includes(":")) host = undefined;
  }
  if (host === undefined) {
    return bad(
      `Domain ${quoted} has an invalid host`,
      "Write a host such as example.com, *.example.com or http://localhost:3000",
    );
  }
  if (wildcard) {
    if (host.startsWith("[") || /^\d+(?:\.\d+){3}$/.test(host)) {
      return bad(
        `Domain ${quoted} puts a wildcard on an IP address`,
        "List the address without '*.'",
      );
    }
    if (host !== "localhost" && isPublicSuffix(host)) {
      return {
        code: "wildcard-public-suffix",
        message:
          `Domain ${quoted} matches every site under the public suffix "${host}"`,
        hint: `Name your own domain, e.g. "*.example.${host}"`,
      };
    }
  }
  return Object.freeze({
    source,
    scheme,
    host,
    wildcard,
    ...(port === undefined ? {} : { port }),
  });
}

function isPublicSuffix(host: string): boolean {
  try {
    return getPublicSuffix(host, { allowPrivateDomains: true }) === host;
  } catch {
    return true;
  }
}

function normalizeIpv6(text: string): string | undefined {
  if (!/^\[[0-9A-Fa-f:.]+\]$/.test(text)) return undefined;
  try {
    return new URL(`http://${text}`).hostname;
  } catch {
    return undefined;
  }
}

/** The `POLICY_KEYS` location of a secret reference, from its path. */
function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/**
 * How a problem names a node's type: "a mapping", "a list", "nothing", "a string", …
 *
 * @param node A parsed node.
 * @returns The phrase, for messages such as `Expected a string at "x", found a list`.
 */
export function describeNode(node: PolicyNode): string {
  return describe(node);
}

function describe(node: PolicyNode): string {
  if (node.kind === "map") return "a mapping";
  if (node.kind === "list") return "a list";
  const value = node.value;
  if (value === null) return "nothing";
  if (value instanceof Date) return "a timestamp";
  if (typeof value === "bigint") return "a number";
  return `a ${typeof value}`;
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * A "did you mean" hint for an unknown key, from the closest allowed key by
 * edit distance, else the list of allowed keys.
 *
 * @param key The key as written.
 * @param allowed The keys allowed where it is written.
 * @returns The hint.
 */
export function suggestKey(key: string, allowed: readonly string[]): string {
  return suggest(key, allowed);
}

function suggest(key: string, allowed: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const tolerance = Math.max(2, Math.ceil(key.length / 3));
  if (best !== undefined && bestDistance <= tolerance) {
    return `Did you mean "${best}"?`;
  }
  return allowed.length === 0
    ? "No keys are allowed here"
    : `Allowed keys: ${allowed.map((name) => `"${name}"`).join(", ")}`;
}

/** Optimal string alignment distance: a swap of neighbours counts as one edit. */
function editDistance(a: string, b: string): number {
  if (a.length > 100 || b.length > 100) return Infinity;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const above = rows[i - 1] ?? [];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (above[j] ?? Infinity) + 1,
        (row[j - 1] ?? Infinity) + 1,
        (above[j - 1] ?? Infinity) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (rows[i - 2]?.[j - 2] ?? Infinity) + 1);
      }
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? Infinity;
}
