/**
 * Validates a policy file (version 1), or a policy directory's
 * `_parley.yaml` or organization file, into a normalised frozen spec:
 * secrets resolved, durations in milliseconds, defaults merged in.
 *
 * `read_document.ts` parses the text and checks it against `schema.json`;
 * the rules a schema cannot say then read the typed data, one file per
 * section (`domain_pattern.ts`, `jwt_keys.ts`, `widget_settings.ts`,
 * `admin_keys.ts`, `webhook_url.ts`, secrets in `secret_reference.ts`).
 * Defaults are the schema's. Every problem is reported at once, with a
 * stable code and a position; nothing throws, and no problem quotes a secret.
 *
 * @module
 */

import { readAdminKeys } from "./admin_keys.ts";
import type { PolicyDocument } from "./document.ts";
import { readDomains } from "./domain_pattern.ts";
import { readJwt, readJwtTimes } from "./jwt_keys.ts";
import {
  defaultsAt,
  ORGANIZATION_ID,
  schemaAt,
  type SchemaRoot,
} from "./policy_schema.ts";
import { clip, type DocumentPath, Problems } from "./problems.ts";
import { parseDuration, parseRate } from "./rate.ts";
import { readDocument } from "./read_document.ts";
import {
  assignedEnv,
  readSecretAssignment,
  refuseUnassignedSecret,
  type SecretAssignment,
} from "./secret_assignment.ts";
import { lookupEnv } from "./secret_reference.ts";
import type {
  LimitSettings,
  OrganizationSpec,
  PolicyProblem,
  PolicySpec,
  ServerSettings,
} from "./types.ts";
import { readWebhook, readWebhookHosts } from "./webhook_url.ts";
import { readWidget } from "./widget_settings.ts";
import type {
  EnvLookup,
  RuleContext,
  WrittenLimits,
  WrittenOrganization,
  WrittenPolicy,
  WrittenSettings,
} from "./written_policy.ts";

export type { EnvLookup } from "./written_policy.ts";
export { DEFAULT_UNANSWERED_AFTER_MS } from "./widget_settings.ts";

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

/** What a spec holds when a policy says nothing: the schema's defaults. */
export const BUILT_IN_DEFAULTS: PolicySpec["defaults"] = deepFreeze(
  readDefaults({
    limits: defaultsAt("#/$defs/limits"),
    jwt: defaultsAt("#/$defs/organization/properties/jwt"),
  }, {
    limits: {} as LimitSettings,
    jwt: { maxLifetimeMs: 0, clockToleranceMs: 0 },
  }),
);

/** The server settings of a policy without a `server` section: the schema's defaults. */
export const BUILT_IN_SERVER: ServerSettings = deepFreeze({
  ...defaultsAt("#/properties/server"),
} as unknown as ServerSettings);

/** `retention.messages` when the policy leaves it out. */
export const DEFAULT_MAX_MESSAGES: number = schemaAt(
  "#/$defs/organization/properties/retention/then/properties/messages",
).default as number;

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
  return readFile(text, "policy", "spec", options, policySpec);
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
  const { organizationId: id, secrets } = options;
  return readFile(
    text,
    "organizationFile",
    "organization",
    secrets === undefined ? options : {
      ...options,
      env: assignedEnv((name) => lookupEnv(options.env, name), secrets, id),
      refuseSecret: (name) => refuseUnassignedSecret(secrets, id, name),
    },
    (organization: WrittenOrganization, context) =>
      organizationSpec(id, organization, [], context, {
        defaults: options.defaults ?? BUILT_IN_DEFAULTS,
        allowWebhookHosts: options.allowWebhookHosts ?? [],
      }),
    (problems, document) => {
      if (!ORGANIZATION_ID.test(id)) {
        problems.error(
          "bad-organization-id",
          [],
          { line: 1, column: 1 },
          `Organization id "${clip(id)}" is not allowed`,
          "Name the file with 1 to 64 letters, digits, '_' or '-' and .yaml, .yml or .json",
        );
      }
      refuseForeignKeys(
        ["id", "organizations"],
        "an organization's file",
        problems,
        document,
      );
    },
  );
}

/**
 * Validates a policy directory's `_parley.yaml`: `version`, `defaults`,
 * `server` and `secrets`, no organizations.
 *
 * @param text The file's content, YAML or JSON.
 * @param options Environment, file name and clock.
 * @returns The settings (only when there is no error) and every problem, sorted by position.
 */
export function validateSettingsFile(
  text: string,
  options: ValidateOptions = {},
): SettingsValidationResult {
  let secrets: SecretAssignment | undefined;
  return readFile(
    text,
    "settingsFile",
    "settings",
    options,
    (settings: WrittenSettings) => ({
      server: readServer(settings.server),
      defaults: readDefaults(settings.defaults),
      ...(secrets === undefined ? {} : { secrets }),
    }),
    (problems, document) => {
      // `secrets:` is read by secret_assignment.ts, in its own words.
      const node = document?.node(["secrets"]);
      if (node !== undefined) {
        for (const at of document!.takeTopKey("secrets").slice(1)) {
          problems.error(
            "duplicate-key",
            ["secrets"],
            at,
            'Key "secrets" is written twice',
            "Keep one of the entries",
          );
        }
        const read = readSecretAssignment(node);
        problems.include(read.problems);
        secrets = read.assignment;
      }
      refuseForeignKeys(
        ["organizations"],
        '"_parley.yaml"',
        problems,
        document,
      );
    },
  );
}

/** Reports, and takes out, the keys by which a directory's file would speak for other organizations. */
function refuseForeignKeys(
  keys: readonly string[],
  file: string,
  problems: Problems,
  document: PolicyDocument | undefined,
): void {
  for (const key of keys) {
    for (const at of document?.takeTopKey(key) ?? []) {
      problems.error(
        "foreign-organization",
        [key],
        at,
        `Key "${key}" cannot be used in ${file}`,
        "In a policy directory each organization has its own <id>.yaml, and its file name is its id",
      );
    }
  }
}

/**
 * Reads a file through the pipeline and builds its value, under `key`, from
 * the typed data; the value only when no problem is an error.
 */
function readFile<K extends string, D, T>(
  text: string,
  root: SchemaRoot,
  key: K,
  options: ValidateOptions & Pick<RuleContext, "refuseSecret">,
  build: (data: D, context: RuleContext) => T,
  before?: (problems: Problems, document?: PolicyDocument) => void,
): { readonly [_ in K]?: T } & { readonly problems: readonly PolicyProblem[] } {
  let problems: Problems;
  let value: T | undefined;
  try {
    const read = readDocument(text, root, {
      empty: {
        code: "unknown-version",
        path: ["version"],
        message: "Policy is empty",
        hint: "Start the file with version: 1",
      },
      before,
    });
    problems = read.problems;
    if (read.document !== undefined && read.data !== undefined) {
      value = deepFreeze(build(read.data as D, {
        document: read.document,
        problems,
        env: options.env,
        now: options.now ?? Date.now(),
        refuseSecret: options.refuseSecret,
      }));
    }
  } catch {
    // A bug must not turn into an uncaught exception for a policy author.
    problems = new Problems();
    problems.error(
      "internal",
      [],
      { line: 0, column: 0 },
      "Policy could not be validated because of an internal error",
    );
  }
  return Object.freeze({
    ...(problems.failed || value === undefined ? {} : { [key]: value }),
    problems: problems.sorted(),
  }) as { readonly [_ in K]?: T } & { problems: readonly PolicyProblem[] };
}

function policySpec(policy: WrittenPolicy, context: RuleContext): PolicySpec {
  const { document, problems } = context;
  const defaults = readDefaults(policy.defaults);
  const server = readServer(policy.server);
  if (!document.written(["organizations"])) {
    problems.warning(
      "no-organizations",
      ["organizations"],
      document.at([]),
      "Policy defines no organizations",
      "Add an organizations: section; every request will be refused without one",
    );
  }
  const organizations = new Map<string, OrganizationSpec>();
  for (const [id, organization] of Object.entries(policy.organizations ?? {})) {
    organizations.set(
      id,
      organizationSpec(id, organization, ["organizations", id], context, {
        defaults,
        allowWebhookHosts: server.allowWebhookHosts,
      }),
    );
  }
  return { version: 1, server, defaults, organizations };
}

/**
 * One organization: under `organizations` (at `path`), or the top of its
 * own file (`path` empty). Its sections are read in the order of the spec's
 * keys, so problems at one position come in that order too.
 */
function organizationSpec(
  id: string,
  organization: WrittenOrganization,
  path: DocumentPath,
  context: RuleContext,
  { defaults, allowWebhookHosts }: {
    defaults: PolicySpec["defaults"];
    allowWebhookHosts: readonly string[];
  },
): OrganizationSpec {
  const { name = id, appIds, retention } = organization;
  const at = (key: string) => [...path, key];
  const conversations = typeof retention === "string"
    ? retention
    : retention?.conversations;
  return {
    id,
    name,
    appIds: [...new Set(appIds?.filter((appId) => appId !== undefined))],
    domains: readDomains(organization.domains, at("domains"), path, context),
    jwt: readJwt(organization.jwt, at("jwt"), defaults.jwt, context),
    limits: readLimits(organization.limits, defaults.limits),
    widget: readWidget(organization.widget, at("widget"), context),
    adminKeys: readAdminKeys(organization.admin, at("admin"), name, context),
    ...readWebhook(
      organization.webhook,
      at("webhook"),
      allowWebhookHosts,
      context,
    ),
    ...(conversations === undefined
      ? {}
      : { retentionMs: parseDuration(conversations)! }),
    maxMessages:
      (typeof retention === "object" ? retention.messages : undefined) ??
        DEFAULT_MAX_MESSAGES,
  };
}

/** Rates as written over the ones inherited. */
function readLimits(
  limits: WrittenLimits | undefined,
  inherited: LimitSettings,
): LimitSettings {
  const rates = Object.entries(limits ?? {}).map((
    [key, text],
  ) => [key, parseRate(text!)!]);
  return { ...inherited, ...Object.fromEntries(rates) };
}

function readDefaults(
  defaults: WrittenSettings["defaults"],
  inherited: PolicySpec["defaults"] = BUILT_IN_DEFAULTS,
): PolicySpec["defaults"] {
  return {
    limits: readLimits(defaults?.limits, inherited.limits),
    jwt: readJwtTimes(defaults?.jwt, inherited.jwt),
  };
}

function readServer(server: WrittenSettings["server"]): ServerSettings {
  return {
    ...BUILT_IN_SERVER,
    ...server,
    allowWebhookHosts: readWebhookHosts(server?.allowWebhookHosts),
  };
}

/**
 * Freezes a built value and everything in it, once, at the end. A secret's
 * bytes stay as they are: a typed array cannot be frozen.
 */
function deepFreeze<T>(value: T): T {
  if (
    typeof value !== "object" || value === null || Object.isFrozen(value) ||
    ArrayBuffer.isView(value)
  ) return value;
  if (value instanceof Map) {
    for (const item of value.values()) deepFreeze(item);
  }
  for (const item of Object.values(value)) deepFreeze(item);
  return Object.freeze(value);
}
