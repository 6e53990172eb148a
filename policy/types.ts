/**
 * The shapes of the policy language: the validated, normalised policy
 * (`PolicySpec`, produced by `validate.ts`), and the decisions the compiled
 * evaluator hands out (`Decision`, produced by `compile.ts`).
 *
 * Pure types: no runtime code, no Deno or Node APIs.
 *
 * @module
 */

/** How an organization's allowed-domain list is applied. */
export type DomainMode = "enforce" | "report" | "off";

/** Whether `chat.boot` needs a signed user token. */
export type JwtMode = "off" | "optional" | "required";

/** What the server does when Deno KV cannot be reached. */
export type StoreErrorMode = "closed" | "open";

/** A rate such as `100/minute`, parsed. */
export interface Rate {
  /** Requests admitted per window. */
  readonly count: number;
  /** Window length in milliseconds. */
  readonly windowMs: number;
  /** The text as written in the policy, e.g. `"100/minute"`. */
  readonly text: string;
}

/** One entry of `domains.allow`, normalised. */
export interface DomainPattern {
  /** The entry as written, e.g. `"*.acme.com"`; used as the matched rule name. */
  readonly source: string;
  /** `https` for a bare host, else the written scheme. */
  readonly scheme: "http" | "https";
  /** Lower-cased punycode host without trailing dot; for a wildcard, the parent (`acme.com`). */
  readonly host: string;
  /** `*.host`: every subdomain depth of `host`, never `host` itself. */
  readonly wildcard: boolean;
  /** Port when written out (`http://localhost:3000`); absent means any port. */
  readonly port?: number;
}

/** An HS256 verification key. */
export interface JwtKeySpec {
  /** Key id, matched against the token's `kid` header. */
  readonly id: string;
  /** The secret's bytes (UTF-8 of the environment value). Never logged. */
  readonly secret: Uint8Array;
  /** Epoch milliseconds after which the key is no longer accepted (rotation). */
  readonly until?: number;
}

/** The days of the week, Monday first, as written in `widget.hours.weekly`. */
export type Weekday = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";

/** One opening range of a day, in minutes after local midnight. */
export interface OpeningRange {
  /** First open minute, 0–1439. */
  readonly from: number;
  /** First closed minute after the range, 1–1440 (`24:00` is 1440). */
  readonly to: number;
}

/** `widget.hours`: when the organization answers, in its own time zone. */
export interface BusinessHours {
  /** Canonical IANA time zone, e.g. `Europe/Berlin`. */
  readonly timezone: string;
  /**
   * Opening ranges for each day, Monday first (index 0 is `mon`, 6 is
   * `sun`), sorted and not overlapping; a day with no ranges is closed.
   */
  readonly weekly: readonly (readonly OpeningRange[])[];
}

/**
 * A text the organization writes for visitors: one for everyone, or one per
 * locale tag as written (`{ en: "Hi!", de: "Hallo!" }`), in the file's order.
 */
export type LocalizedText = string | Readonly<Record<string, string>>;

/** Widget settings shown to visitors (public), and when a chat counts as unanswered. */
export interface WidgetSettings {
  /** Header text of the chat panel; the organization's name when absent. */
  readonly title?: LocalizedText;
  /** Opening line shown at the top of the conversation; a built-in greeting when absent. */
  readonly greeting?: LocalizedText;
  /** The away form's prompt; the widget's own, in the visitor's language, when absent. */
  readonly awayMessage?: LocalizedText;
  /** The organization's default language (a locale tag as written); `en` when absent. */
  readonly language?: string;
  /** Brand color as a hex code (`#rgb` or `#rrggbb`); a default blue when absent. */
  readonly color?: string;
  /** Page corner the launcher sits in; `right` when absent. */
  readonly position?: "left" | "right";
  /** Business hours; outside them the widget shows its away text. Absent: always open. */
  readonly hours?: BusinessHours;
  /**
   * Milliseconds after a visitor message with no agent reply before the
   * `conversation.unanswered` webhook fires (`widget.unansweredAfter`, default `5m`).
   */
  readonly unansweredAfterMs: number;
}

/** The rate limits of an organization (or the defaults every organization inherits). */
export interface LimitSettings {
  /** Requests that passed authentication, for the whole organization. */
  readonly organization: Rate;
  /** Requests at the public entry points per (organization, client IP). */
  readonly ip: Rate;
  /** Session calls (`chat.sendMessage`, `chat.listMessages`, `chat.stream`, …) per session. */
  readonly session: Rate;
  /** `agent.*` calls per admin key. */
  readonly agent: Rate;
  /** Failed authentications (`JWT_INVALID`, a wrong admin key) per (organization, client IP). */
  readonly authFailures: Rate;
}

/** One `admin.keys` entry: an agent (or a bot) and the key it signs in with. */
export interface AdminKeySpec {
  /** Unique within the organization; `key-<n>` (1-based position) when the policy gives none. */
  readonly id: string;
  /** Shown beside the agent's messages; the organization's name when the policy gives none. */
  readonly name: string;
  /** The key's value from the environment. Never logged. */
  readonly secret: string;
}

/** A validated organization. */
export interface OrganizationSpec {
  /** Organization id as written in the policy (its key under `organizations`). */
  readonly id: string;
  /** Display name; the id when the policy gives none. */
  readonly name: string;
  /** Allowed `app_id` values; empty means any. */
  readonly appIds: readonly string[];
  /** Which page origins may use the widget, and how strictly that is applied. */
  readonly domains: {
    readonly mode: DomainMode;
    readonly allow: readonly DomainPattern[];
  };
  /** User-token requirement, verification keys and time bounds. */
  readonly jwt: {
    readonly mode: JwtMode;
    readonly keys: readonly JwtKeySpec[];
    /** Longest accepted `exp − (iat ?? now)`, milliseconds. */
    readonly maxLifetimeMs: number;
    /** Allowed clock skew, milliseconds. */
    readonly clockToleranceMs: number;
  };
  /** Rate limits, each merged with the defaults. */
  readonly limits: LimitSettings;
  /** Widget appearance shown to visitors, business hours, the unanswered delay. */
  readonly widget: WidgetSettings;
  /** Admin keys for `agent.*` methods, in policy order. Secrets never logged. */
  readonly adminKeys: readonly AdminKeySpec[];
  /** Visitor-message webhook. */
  readonly webhook?: { readonly url: string; readonly secret: string };
  /** Conversations idle longer than this are deleted, milliseconds (`retention`). */
  readonly retentionMs?: number;
  /** Most messages a conversation keeps; older ones are trimmed (`retention.messages`, default 1000). */
  readonly maxMessages: number;
}

/** Server-wide settings from the policy's `server` section. */
export interface ServerSettings {
  /** How many proxy hops to trust in `X-Forwarded-For` (0: use the socket address). */
  readonly trustProxy: number;
  /** Largest accepted request body, bytes. */
  readonly maxBodyBytes: number;
  /** `closed`: 503 when KV fails; `open`: admit without counting. */
  readonly onStoreError: StoreErrorMode;
  /** Live streams per session or admin key (default 2); a newer one ends the oldest. */
  readonly maxStreamsPerSession: number;
  /** Live streams per client IP (default 50). */
  readonly maxStreamsPerIp: number;
  /** Live streams per server process (default 10000). */
  readonly maxStreams: number;
  /**
   * Hosts whose webhooks may use `http:` and private or loopback addresses
   * (tests, local development), in URL `hostname` form; none by default.
   */
  readonly allowWebhookHosts: readonly string[];
}

/** A whole validated policy (version 1). */
export interface PolicySpec {
  /** Policy language version; only 1 exists. */
  readonly version: 1;
  /** Server-wide settings, with built-in values for what the file leaves out. */
  readonly server: ServerSettings;
  /** Limits and JWT time bounds applied to organizations that do not set their own. */
  readonly defaults: {
    readonly limits: LimitSettings;
    readonly jwt: {
      readonly maxLifetimeMs: number;
      readonly clockToleranceMs: number;
    };
  };
  /** Every valid organization, keyed by its id. */
  readonly organizations: ReadonlyMap<string, OrganizationSpec>;
}

/** Wire codes a policy decision can produce (a subset of the RPC error codes). */
export type DecisionCode =
  | "ORGANIZATION_NOT_FOUND"
  | "DOMAIN_NOT_ALLOWED"
  | "JWT_REQUIRED"
  | "JWT_INVALID";

/** The facts of one request that the evaluator judges (pipeline steps 4–6). */
export interface Facts {
  /** The organization the request names. */
  readonly organizationId: string;
  /** The `app_id` the request names; checked against `appIds` when both are present. */
  readonly appId?: string;
  /** The `Origin` header; `null` when absent or the literal `"null"`. */
  readonly origin?: string | null;
  /** Compact JWS from `Authorization: Bearer`. */
  readonly token?: string;
  /** `user_id` sent by the page; must equal `sub` when a token verifies. */
  readonly userId?: string;
  /** RPC method name; the testing methods admit callers without `Origin`. */
  readonly method?: string;
  /** Clock, epoch milliseconds (defaults to `Date.now()`). */
  readonly now?: number;
}

/** Who the request speaks for. */
export interface Identity {
  /** True only when a user token was verified; anonymous visitors are false. */
  readonly verified: boolean;
  /** The token's `sub` when verified. */
  readonly subject?: string;
  /** The token's `user_data` when verified. */
  readonly userData?: Readonly<Record<string, unknown>>;
  /** The id of the key that verified the token. */
  readonly keyId?: string;
}

/** The verdict on one request. */
export interface Decision {
  /** Whether the request is admitted (report-mode domain misses are admitted). */
  readonly allowed: boolean;
  /** Set when `allowed` is false. */
  readonly code?: DecisionCode;
  /** Stable reason code, e.g. `domain.wildcard`, `jwt.expired`. */
  readonly reason: string;
  /** The domain rule that matched (its `source`), when one did. */
  readonly rule?: string;
  /** Who the request speaks for; unverified unless a token verified. */
  readonly identity: Identity;
  /** Under `domains.mode: report`, the rejection that enforcement would have made. */
  readonly reportOnly?: {
    readonly code: DecisionCode;
    readonly reason: string;
  };
  /** The normalised origin (`scheme://host[:port]`), when one was given and parsed. */
  readonly origin?: string;
}

/** One step of an explained decision. */
export interface TraceStep {
  /** `organization`, `app_id`, `domain`, `jwt.header`, `jwt.key`, `jwt.claim.exp`, … */
  readonly check: string;
  /** `skip`: the check did not apply; `report`: it failed but report mode admitted. */
  readonly outcome: "pass" | "fail" | "skip" | "report";
  /** Stable reason code. */
  readonly reason: string;
  /** Human detail, never a secret or a token. */
  readonly detail?: string;
}

/** A decision with the steps that led to it. */
export interface Explanation extends Decision {
  /** The checks in the order they ran. */
  readonly trace: readonly TraceStep[];
}

/** Whether an origin would be admitted by an organization's domain list. */
export interface OriginVerdict {
  /** Whether the domain check admits the origin as enforcement would (`off` admits all). */
  readonly allowed: boolean;
  /** `domain.exact`, `domain.wildcard`, `domain.off`, `domain.not_allowed`, `domain.origin_invalid`, … */
  readonly reason: string;
  /** The rule (`DomainPattern.source`) that matched. */
  readonly rule?: string;
  /** The normalised origin, when it parsed. */
  readonly origin?: string;
}

/** A compiled organization, as the server reads it. */
export interface CompiledOrganization {
  /** The validated organization it was compiled from. */
  readonly spec: OrganizationSpec;
  /**
   * A short hash of the security-relevant settings (domains, app ids, JWT mode
   * and key ids); sessions carry it, and a change to it revokes them.
   */
  readonly securityRevision: string;
}

/** The one in-memory evaluator compiled from a policy. Frozen. */
export interface Evaluator {
  /** Short hash of the policy text. */
  readonly revision: string;
  /** The validated policy the evaluator was compiled from. */
  readonly spec: PolicySpec;
  /** Non-fatal problems found while compiling (inline secrets, past `until`). */
  readonly warnings: readonly PolicyProblem[];
  /** The compiled organization with this id; `undefined` when the policy has none. */
  organization(id: string): CompiledOrganization | undefined;
  /** Pipeline steps 4–6 as one call. */
  evaluate(facts: Facts): Promise<Decision>;
  /** The same decision with a step-by-step trace. */
  explain(facts: Facts): Promise<Explanation>;
  /** The domain check alone (for `chat.getConfig`'s origin probe). */
  checkOrigin(organizationId: string, origin: string | null): OriginVerdict;
  /** Constant-time check of an `agent.*` bearer key against the organization's admin keys. */
  verifyAdminKey(organizationId: string, key: string): boolean;
  /**
   * The admin key an `agent.*` bearer key is, compared in constant time like
   * {@linkcode Evaluator.verifyAdminKey}.
   *
   * @returns The key's id and name (never its secret), or `undefined` when it is none of them.
   */
  identifyAdminKey(
    organizationId: string,
    key: string,
  ): Pick<AdminKeySpec, "id" | "name"> | undefined;
}

/** One problem found in a policy file. */
export interface PolicyProblem {
  /** The file it is in, for a policy directory (`acme.yaml`, `_parley.yaml`); absent for one file. */
  readonly file?: string;
  /** Stable code, e.g. `unknown-key`, `secret-too-short`. */
  readonly code: string;
  /** An error stops compiling; a warning is kept on `Evaluator.warnings`. */
  readonly severity: "error" | "warning";
  /** Dotted path, e.g. `organizations.acme.domains.allow[2]`. */
  readonly path: string;
  /** 1-based; 0 when the position is unknown. */
  readonly line: number;
  /** 1-based; 0 when the position is unknown. */
  readonly column: number;
  /** Starts with a capital, no final period, values in quotes; never a secret's value. */
  readonly message: string;
  /** A suggested fix, e.g. the closest allowed key. */
  readonly hint?: string;
}

/**
 * A policy file whose latest version failed, as the public `/healthz` shows
 * it: where and which code, no message (messages name variables and values;
 * they go to the server's log).
 */
export interface PolicyFileError {
  /** The file's name in the policy directory (or the policy file's path). */
  readonly file: string;
  /** Line of the first error; 0 when unknown (an unreadable file). */
  readonly line: number;
  /** Column of the first error; 0 when unknown. */
  readonly column: number;
  /** Stable code of the first error, e.g. `bad-enum`, `unreadable-file`. */
  readonly code: string;
}
