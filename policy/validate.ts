/**
 * Validates a policy file (version 1) and turns it into a normalised
 * `PolicySpec`: secrets resolved from the environment, durations in
 * milliseconds, limits merged with defaults, domain entries parsed, all frozen.
 *
 * One pipeline for every kind of file: `parse.ts` reads the text with
 * positions, `schema.json` (the one description of the language, through
 * `schema_problems.ts`) checks the data, and what a schema cannot say runs
 * after it on typed data, each in its own file: `domain_pattern.ts`,
 * `jwt_keys.ts`, `admin_keys.ts`, `secret_reference.ts`, `webhook_url.ts`
 * and `business_hours.ts`. Defaults are the schema's `default`s.
 *
 * Every problem is reported at once, with a stable code, a path, a line and a
 * column. Nothing here throws on any input, and no secret value ever appears
 * in a problem.
 *
 * @module
 */

import { readAdminKeys } from "./admin_keys.ts";
import { readBusinessHours } from "./business_hours.ts";
import { contrastRatio, MIN_TEXT_CONTRAST } from "./contrast.ts";
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
import { resolveSecret } from "./secret_reference.ts";
import type {
  LimitSettings,
  OrganizationSpec,
  PolicyProblem,
  PolicySpec,
  Rate,
  ServerSettings,
  WidgetSettings,
} from "./types.ts";
import { readWebhookHosts, readWebhookUrl } from "./webhook_url.ts";
import type {
  EnvLookup,
  RuleContext,
  WrittenLimits,
  WrittenOrganization,
  WrittenPolicy,
  WrittenSettings,
} from "./written_policy.ts";

export type { EnvLookup } from "./written_policy.ts";

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
export const BUILT_IN_DEFAULTS: PolicySpec["defaults"] = deepFreeze({
  limits: readLimits(
    defaultsAt("#/$defs/limits") as WrittenLimits,
    {} as LimitSettings,
  ),
  jwt: readJwtTimes(defaultsAt("#/$defs/organization/properties/jwt"), {
    maxLifetimeMs: 0,
    clockToleranceMs: 0,
  }),
});

/** The server settings of a policy without a `server` section: the schema's defaults. */
export const BUILT_IN_SERVER: ServerSettings = deepFreeze({
  ...defaultsAt("#/properties/server"),
} as unknown as ServerSettings);

/** `widget.unansweredAfter` when the policy leaves it out, milliseconds. */
export const DEFAULT_UNANSWERED_AFTER_MS: number = parseDuration(
  schemaAt("#/$defs/organization/properties/widget/properties/unansweredAfter")
    .default as string,
)!;

const MAX_WEBHOOK_HOSTS = schemaAt(
  "#/properties/server/properties/allowWebhookHosts",
).maxItems ?? Infinity;

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
  const { value, problems } = readFile(
    text,
    "policy",
    options,
    (policy: WrittenPolicy, context) => policySpec(policy, context),
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
  const id = options.organizationId;
  const secrets = options.secrets;
  const { value, problems } = readFile(
    text,
    "organizationFile",
    secrets === undefined ? options : {
      ...options,
      env: assignedEnv(lookupOf(options.env), secrets, id),
      refuseSecret: (name) => refuseUnassignedSecret(secrets, id, name),
    },
    (organization: WrittenOrganization, context) =>
      organizationSpec(
        id,
        organization,
        [],
        options.defaults ?? BUILT_IN_DEFAULTS,
        options.allowWebhookHosts ?? [],
        context,
      ),
    (problems) => {
      if (ORGANIZATION_ID.test(id)) return;
      problems.error(
        "bad-organization-id",
        [],
        { line: 1, column: 1 },
        `Organization id "${clip(id)}" is not allowed`,
        "Name the file with 1 to 64 letters, digits, '_' or '-' and .yaml, .yml or .json",
      );
    },
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
  let secrets: SecretAssignment | undefined;
  const { value, problems } = readFile(
    text,
    "settingsFile",
    options,
    (settings: WrittenSettings) => ({
      server: readServer(settings.server),
      defaults: readDefaults(settings.defaults),
      ...(secrets === undefined ? {} : { secrets }),
    }),
    (problems, document) => {
      // `secrets:` is read by secret_assignment.ts, in its own words.
      const node = document?.node(["secrets"]);
      if (node === undefined) return;
      const [, ...repeats] = document!.takeTopKey("secrets");
      for (const at of repeats) {
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
    },
  );
  return Object.freeze({
    ...(value === undefined ? {} : { settings: value }),
    problems,
  });
}

/** Keys by which a directory's file would speak for other organizations. */
const FOREIGN_KEYS: Readonly<Partial<Record<SchemaRoot, readonly string[]>>> = {
  organizationFile: ["id", "organizations"],
  settingsFile: ["organizations"],
};

/**
 * Reads a file through the pipeline and builds its value from the typed
 * data. Problems come out sorted and frozen, the value only when none of
 * them is an error.
 */
function readFile<D, T>(
  text: string,
  root: SchemaRoot,
  options: ValidateOptions & Pick<RuleContext, "refuseSecret">,
  build: (data: D, context: RuleContext) => T,
  first?: (problems: Problems, document?: PolicyDocument) => void,
): { value?: T; problems: readonly PolicyProblem[] } {
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
      before(problems, document) {
        first?.(problems, document);
        for (const key of FOREIGN_KEYS[root] ?? []) {
          for (const at of document?.takeTopKey(key) ?? []) {
            problems.error(
              "foreign-organization",
              [key],
              at,
              root === "settingsFile"
                ? `Key "${key}" cannot be used in "_parley.yaml"`
                : `Key "${key}" cannot be used in an organization's file`,
              "In a policy directory each organization has its own <id>.yaml, and its file name is its id",
            );
          }
        }
      },
    });
    problems = read.problems;
    if (read.document !== undefined && read.data !== undefined) {
      value = deepFreeze(build(read.data as D, {
        document: read.document,
        problems,
        env: options.env,
        now: options.now ?? Date.now(),
        ...(options.refuseSecret === undefined
          ? {}
          : { refuseSecret: options.refuseSecret }),
      }));
    }
  } catch {
    // A bug must not turn into an uncaught exception for a policy author.
    problems = new Problems([{
      code: "internal",
      severity: "error",
      path: "",
      line: 0,
      column: 0,
      message: "Policy could not be validated because of an internal error",
    }]);
  }
  return {
    ...(problems.failed || value === undefined ? {} : { value }),
    problems: problems.sorted(),
  };
}

function policySpec(policy: WrittenPolicy, context: RuleContext): PolicySpec {
  const defaults = readDefaults(policy.defaults);
  const server = readServer(policy.server);
  const organizations = new Map<string, OrganizationSpec>();
  const { document, problems } = context;
  if (!document.written(["organizations"])) {
    problems.warning(
      "no-organizations",
      ["organizations"],
      document.at([]),
      "Policy defines no organizations",
      "Add an organizations: section; every request will be refused without one",
    );
  }
  for (const [id, organization] of Object.entries(policy.organizations ?? {})) {
    if (organization === undefined) continue;
    const path = ["organizations", id];
    organizations.set(
      id,
      organizationSpec(
        id,
        organization,
        path,
        defaults,
        server.allowWebhookHosts,
        context,
      ),
    );
  }
  return {
    version: 1,
    server,
    defaults,
    organizations,
  };
}

/**
 * One organization: under `organizations` (at `path`), or the top of its own
 * file (`path` empty).
 */
function organizationSpec(
  id: string,
  organization: WrittenOrganization,
  path: DocumentPath,
  defaults: PolicySpec["defaults"],
  allowWebhookHosts: readonly string[],
  context: RuleContext,
): OrganizationSpec {
  const name = organization.name ?? id;
  const appIds = new Set(
    organization.appIds?.filter((appId) => appId !== undefined),
  );
  const domains = readDomains(
    organization.domains,
    [...path, "domains"],
    path,
    context,
  );
  const jwt = readJwt(
    organization.jwt,
    [...path, "jwt"],
    defaults.jwt,
    context,
  );
  const limits = readLimits(organization.limits, defaults.limits);
  const widget = readWidget(organization.widget, [...path, "widget"], context);
  const adminKeys = readAdminKeys(
    organization.admin,
    [...path, "admin"],
    name,
    context,
  );
  const webhookPath = [...path, "webhook"];
  const webhookUrl = readWebhookUrl(
    organization.webhook?.url,
    [...webhookPath, "url"],
    allowWebhookHosts,
    context,
  );
  const webhookSecret = resolveSecret(
    organization.webhook?.secret,
    [...webhookPath, "secret"],
    "the webhook",
    context,
  );
  const retention = organization.retention;
  const conversations = typeof retention === "string"
    ? retention
    : retention?.conversations;
  return {
    id,
    name,
    appIds: [...appIds],
    domains,
    jwt,
    limits,
    widget,
    adminKeys,
    ...(webhookUrl === undefined || webhookSecret === undefined
      ? {}
      : { webhook: { url: webhookUrl, secret: webhookSecret } }),
    ...(conversations === undefined
      ? {}
      : { retentionMs: parseDuration(conversations)! }),
    maxMessages:
      (typeof retention === "object" ? retention.messages : undefined) ??
        DEFAULT_MAX_MESSAGES,
  };
}

function readWidget(
  widget: WrittenOrganization["widget"],
  path: DocumentPath,
  context: RuleContext,
): WidgetSettings {
  const { hours: _, unansweredAfter, ...shown } = widget ?? {};
  const hours = readBusinessHours(widget?.hours, [...path, "hours"], context);
  const color = widget?.color;
  // The widget writes dark text where white would not read; the admin should know.
  if (
    color !== undefined && /^#([0-9a-f]{3}){1,2}$/i.test(color) &&
    contrastRatio("#fff", color) < MIN_TEXT_CONTRAST
  ) {
    const colorPath = [...path, "color"];
    context.problems.warning(
      "low-contrast",
      colorPath,
      context.document.at(colorPath),
      `White text on ${color} has a contrast of ${
        contrastRatio("#fff", color).toFixed(2)
      }:1, under the ${MIN_TEXT_CONTRAST}:1 WCAG AA asks for`,
      "Choose a darker color (Parley's default #0b5fff has 5.1:1); until then the widget writes near-black text on it",
    );
  }
  return {
    ...shown,
    ...(hours === undefined ? {} : { hours }),
    unansweredAfterMs: unansweredAfter === undefined
      ? DEFAULT_UNANSWERED_AFTER_MS
      : parseDuration(unansweredAfter)!,
  };
}

/** Rates as written over the ones inherited, in a new frozen object. */
function readLimits(
  limits: WrittenLimits | undefined,
  inherited: LimitSettings,
): LimitSettings {
  const rates: Partial<Record<keyof LimitSettings, Rate>> = {};
  for (const [key, text] of Object.entries(limits ?? {})) {
    if (text !== undefined) {
      rates[key as keyof LimitSettings] = parseRate(text)!;
    }
  }
  return { ...inherited, ...rates };
}

function readDefaults(
  defaults: WrittenSettings["defaults"],
): PolicySpec["defaults"] {
  return {
    limits: readLimits(defaults?.limits, BUILT_IN_DEFAULTS.limits),
    jwt: readJwtTimes(defaults?.jwt, BUILT_IN_DEFAULTS.jwt),
  };
}

function readServer(server: WrittenSettings["server"]): ServerSettings {
  return {
    ...BUILT_IN_SERVER,
    ...server,
    allowWebhookHosts: readWebhookHosts(
      server?.allowWebhookHosts,
      MAX_WEBHOOK_HOSTS,
    ),
  };
}

/** An `EnvLookup` as a function. */
function lookupOf(
  env: EnvLookup | undefined,
): ((name: string) => string | undefined) | undefined {
  if (env === undefined || typeof env === "function") return env;
  return (name) => Object.hasOwn(env, name) ? env[name] : undefined;
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
