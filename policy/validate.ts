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
import { normalizeHost } from "./host.ts";
import {
  type ListNode,
  type MapEntry,
  parsePolicyText,
  type PolicyNode,
  type Position,
} from "./parse.ts";
import { parseDuration, parseRate } from "./rate.ts";
import type {
  DomainMode,
  DomainPattern,
  JwtKeySpec,
  JwtMode,
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
    "defaults.limits": ["organization", "ip"],
    "defaults.jwt": ["maxLifetime", "clockTolerance"],
    "server": ["trustProxy", "maxBodyBytes", "onStoreError"],
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
    "organizations.*.limits": ["organization", "ip"],
    "organizations.*.widget": ["title", "greeting", "color", "position"],
    "organizations.*.admin": ["keys"],
    "organizations.*.admin.keys[]": ["secret"],
    "organizations.*.admin.keys[].secret": ["env"],
    "organizations.*.webhook": ["url", "secret"],
    "organizations.*.webhook.secret": ["env"],
  });

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
  maxLifetime: "15m",
  clockTolerance: "30s",
  trustProxy: 0,
  maxBodyBytes: 16_384,
  onStoreError: "closed" as StoreErrorMode,
});

/** {@linkcode POLICY_DEFAULTS} parsed: what a spec holds when a policy says nothing. */
export const BUILT_IN_DEFAULTS: PolicySpec["defaults"] = Object.freeze({
  limits: Object.freeze({
    organization: parseRate(POLICY_DEFAULTS.organizationLimit) as Rate,
    ip: parseRate(POLICY_DEFAULTS.ipLimit) as Rate,
  }),
  jwt: Object.freeze({
    maxLifetimeMs: parseDuration(POLICY_DEFAULTS.maxLifetime) as number,
    clockToleranceMs: parseDuration(POLICY_DEFAULTS.clockTolerance) as number,
  }),
});

/** RFC 7518 §3.2: an HS256 key must be at least as long as the hash output. */
export const MIN_SECRET_BYTES = 32;
/** More keys than this make kid-less verification a guessing oracle. */
export const MAX_JWT_KEYS = 10;
/** Bounds of `server.maxBodyBytes`. */
export const MAX_BODY_BYTES_RANGE = Object.freeze({ min: 256, max: 1_048_576 });
/** Upper bound of `server.trustProxy`. */
export const MAX_TRUST_PROXY = 32;

const ORGANIZATION_ID = /^[A-Za-z0-9_-]{1,64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const COLOR = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
const ISO_TIME =
  /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:\d{2}))?$/;
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
  let problems: PolicyProblem[];
  let spec: PolicySpec | undefined;
  try {
    const parsed = parsePolicyText(text);
    const validator = new PolicyValidator(options, parsed.problems);
    spec = validator.policy(parsed.root);
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
  return Object.freeze({
    ...(failed || spec === undefined ? {} : { spec }),
    problems: Object.freeze(sorted),
  });
}

/** Walks the parsed tree once, collecting problems and the spec's pieces. */
class PolicyValidator {
  readonly #env: EnvLookup | undefined;
  readonly #now: number;
  readonly #problems: PolicyProblem[];

  constructor(options: ValidateOptions, problems: readonly PolicyProblem[]) {
    this.#env = options.env;
    this.#now = options.now ?? Date.now();
    this.#problems = [...problems];
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
    const allowed = POLICY_KEYS[location] ?? [];
    const seen = new Map<string, MapEntry>();
    for (const entry of node.entries) {
      const entryPath = join(path, entry.key);
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

  policy(root: PolicyNode | undefined): PolicySpec | undefined {
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
    const top = this.#map(root, "", "");
    if (!top) return undefined;
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
    const defaults = this.#defaults(top.get("defaults"));
    const server = this.#server(top.get("server"));
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
        const organization = this.#organization(entry, path, defaults);
        if (organization) organizations.set(entry.key, organization);
      }
    }
    return Object.freeze({
      version: 1,
      server,
      defaults: Object.freeze({
        limits: Object.freeze({ ...defaults.limits }),
        jwt: Object.freeze({ ...defaults.jwt }),
      }),
      organizations: Object.freeze(organizations),
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
    fallback: { organization: Rate; ip: Rate },
  ): { organization: Rate; ip: Rate } {
    if (entry === undefined) return { ...fallback };
    const section = this.#map(entry.value, path, location);
    if (!section) return { ...fallback };
    const organization = section.get("organization");
    const ip = section.get("ip");
    return {
      organization: (organization &&
        this.#rate(organization, `${path}.organization`)) ??
        fallback.organization,
      ip: (ip && this.#rate(ip, `${path}.ip`)) ?? fallback.ip,
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
      trustProxy: number;
      maxBodyBytes: number;
      onStoreError: StoreErrorMode;
    } = {
      trustProxy: POLICY_DEFAULTS.trustProxy,
      maxBodyBytes: POLICY_DEFAULTS.maxBodyBytes,
      onStoreError: POLICY_DEFAULTS.onStoreError,
    };
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
    }
    return Object.freeze(settings);
  }

  #organization(
    entry: MapEntry,
    path: string,
    defaults: PolicySpec["defaults"],
  ): OrganizationSpec | undefined {
    const id = entry.key;
    const section = this.#map(entry.value, path, "organizations.*");
    if (!section) return undefined;
    const nameEntry = section.get("name");
    const name = (nameEntry && this.#string(nameEntry, `${path}.name`)) ?? id;
    const appIds = this.#appIds(section.get("appIds"), `${path}.appIds`);
    const domains = this.#domains(
      section.get("domains"),
      `${path}.domains`,
      entry.at,
    );
    const jwt = this.#jwt(section.get("jwt"), `${path}.jwt`, defaults.jwt);
    const limits = this.#limits(
      section.get("limits"),
      `${path}.limits`,
      "organizations.*.limits",
      defaults.limits,
    );
    const widget = this.#widget(section.get("widget"), `${path}.widget`);
    const adminKeys = this.#adminKeys(section.get("admin"), `${path}.admin`);
    const webhook = this.#webhook(section.get("webhook"), `${path}.webhook`);
    const retentionEntry = section.get("retention");
    const retentionMs = retentionEntry &&
      this.#duration(retentionEntry, `${path}.retention`, 60_000);
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
      ...(retentionMs === undefined ? {} : { retentionMs }),
    });
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
    let time: number | undefined;
    if (node.kind === "scalar" && node.value instanceof Date) {
      time = node.value.getTime();
    } else if (
      node.kind === "scalar" && typeof node.value === "string" &&
      ISO_TIME.test(node.value)
    ) {
      time = Date.parse(node.value);
    }
    if (time === undefined || Number.isNaN(time)) {
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
    const section = entry &&
      this.#map(entry.value, path, "organizations.*.widget");
    if (!section) return Object.freeze({});
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
    return Object.freeze({
      ...(title === undefined ? {} : { title }),
      ...(greeting === undefined ? {} : { greeting }),
      ...(color === undefined ? {} : { color }),
      ...(position === undefined ? {} : { position }),
    });
  }

  #adminKeys(entry: MapEntry | undefined, path: string): readonly string[] {
    const section = entry &&
      this.#map(entry.value, path, "organizations.*.admin");
    const keysEntry = section?.get("keys");
    const list = keysEntry && this.#list(keysEntry, `${path}.keys`);
    if (!list) return Object.freeze([]);
    const keys: string[] = [];
    list.items.forEach((item, index) => {
      const itemPath = `${path}.keys[${index}]`;
      const key = this.#map(item, itemPath, "organizations.*.admin.keys[]");
      if (!key) return;
      const secret = this.#secret(
        key.get("secret"),
        `${itemPath}.secret`,
        "organizations.*.admin.keys[].secret",
        item,
        `admin key ${index + 1}`,
      );
      if (secret !== undefined) keys.push(secret);
    });
    return Object.freeze(keys);
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
        url = checkWebhookUrl(text);
        if (url === undefined) {
          // Webhook URLs often carry a token, so the value is not echoed.
          this.#report(
            "bad-url",
            `${path}.url`,
            urlEntry.value,
            "Webhook URL is not an absolute http or https URL",
            "Write url: https://host/path",
          );
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

function checkWebhookUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  if (url.hostname === "") return undefined;
  return url.href;
}

/** The `POLICY_KEYS` location of a secret reference, from its path. */
function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
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

/** A "did you mean" hint from the closest allowed key by edit distance. */
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
