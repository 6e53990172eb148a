/**
 * The wire contract between the server and the widget: error codes, their HTTP
 * statuses, the reply shapes, and the rules both sides apply to a field (the
 * contact address). Browser-safe: the widget bundles this file, so it holds
 * no Deno, Node or server code.
 *
 * @module
 */

/** The longest message text, in characters after trimming (1–4000). */
export const MAX_MESSAGE_LENGTH = 4000;

/** The longest contact address (RFC 5321's path limit). */
export const MAX_EMAIL_LENGTH = 254;

/**
 * `local@domain`: a local part of 1–64 letters, digits and
 * ``!#$'*+-=^_`{|}~.`` — not `?`, `&`, `%` or `/`, which would turn the
 * `mailto:` agents click into one that copies or rewrites the mail — and a
 * domain of dotted labels of letters, digits and `-`.
 */
const EMAIL_PATTERN =
  /^[\p{L}\p{N}!#$'*+\-=^_`{|}~.]{1,64}@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+$/u;

/**
 * Whether `text` is an address `chat.setContact` takes (`BAD_REQUEST`,
 * `param.email.invalid`, otherwise): the one rule of the server and of the
 * widget's away form, which answers a typo inline before sending.
 *
 * @param text The address as typed (trimmed).
 * @returns `true` when it may be stored and offered to agents as `mailto:`.
 */
export function isEmailAddress(text: string): boolean {
  return text.length <= MAX_EMAIL_LENGTH && EMAIL_PATTERN.test(text);
}

/** HTTP status of every error code (docs/rpc.md, Error codes). */
export const ERROR_STATUS = {
  ORGANIZATION_NOT_FOUND: 404,
  DOMAIN_NOT_ALLOWED: 403,
  JWT_REQUIRED: 401,
  JWT_INVALID: 401,
  RATE_LIMITED: 429,
  BAD_REQUEST: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  METHOD_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  SESSION_INVALID: 401,
  UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

/** A stable error code of the RPC wire. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** Rate-limit state carried by every successful reply. */
export interface RateLimitState {
  /** Requests per window of the tightest limit that applied. */
  readonly limit: number;
  /** Requests left in that window after this one. */
  readonly remaining: number;
  /** Seconds until the tightest applying window resets. */
  readonly reset: number;
}

/** The error object of a failed reply. */
export interface WireError {
  /** Stable code; its HTTP status is `ERROR_STATUS[code]`. */
  readonly code: ErrorCode;
  /** A human sentence for developers; never a secret or token. */
  readonly message: string;
  /** Seconds to wait before retrying (on `RATE_LIMITED`). */
  readonly retryAfter?: number;
  /** Stable reason code (e.g. `jwt.expired`); never a secret. */
  readonly reason?: string;
}

/** A successful reply. */
export interface OkReply<T> {
  /** Always true; tells a success from an {@linkcode ErrorReply}. */
  readonly ok: true;
  /** The method's result. */
  readonly data: T;
  /** Where the tightest rate limit stands; absent when no limit applied. */
  readonly rateLimit?: RateLimitState;
}

/** A failed reply. */
export interface ErrorReply {
  /** Always false; tells a failure from an {@linkcode OkReply}. */
  readonly ok: false;
  /** What went wrong. */
  readonly error: WireError;
}

/** Any RPC reply. */
export type Reply<T> = OkReply<T> | ErrorReply;

/** Public widget settings returned by `chat.getConfig`. */
export interface WidgetConfig {
  /** The organization's id as written in the policy. */
  readonly organizationId: string;
  /** The organization's display name. */
  readonly name: string;
  /** Widget appearance, with defaults filled in. */
  readonly widget: {
    /** The header's title, in the organization's `language` when the policy gives one per locale. */
    readonly title: string;
    /** The first message, likewise ({@linkcode DEFAULT_GREETING} when the policy sets none). */
    readonly greeting: string;
    /** The away form's prompt, likewise; absent when the policy sets none. */
    readonly awayMessage?: string;
    /**
     * The organization's default language (`widget.language`, else `en`):
     * the widget speaks it when neither the page nor the browser names a
     * language Parley has.
     */
    readonly language: string;
    /**
     * The texts the policy gives per locale, as written (locale tag →
     * text); the widget picks the one for its language (exact tag, base
     * language, `language`, first entry). Absent when every text is one
     * string.
     */
    readonly texts?: {
      readonly title?: LocalizedText;
      readonly greeting?: LocalizedText;
      readonly awayMessage?: LocalizedText;
    };
    readonly color: string;
    readonly position: "left" | "right";
    /**
     * Business hours, when the policy sets them: the IANA time zone, and
     * every day's opening ranges as `"HH:MM-HH:MM"` (an empty list is a
     * closed day). Outside them the widget shows its away text.
     */
    readonly hours?: {
      readonly timezone: string;
      readonly weekly: {
        readonly [
          day in "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun"
        ]: readonly string[];
      };
    };
  };
  /** Whether `chat.boot` needs a signed user token. */
  readonly jwt: { readonly mode: "off" | "optional" | "required" };
  /** How the organization's allowed-domain list is applied. */
  readonly domains: { readonly mode: "enforce" | "report" | "off" };
  /** The organization and per-IP rates as written, e.g. `"100/minute"`. */
  readonly limits: {
    readonly organization: string;
    readonly ip: string;
  };
  /** Present when the request body named an `origin` to probe. */
  readonly origin?: {
    readonly origin: string;
    readonly allowed: boolean;
    readonly reason: string;
    readonly rule?: string;
  };
  /** Whether an agent has the inbox open (a live `agent.stream` on any host). */
  readonly agentsOnline: boolean;
  /** `false` outside `widget.hours`; `true` without hours. */
  readonly withinHours: boolean;
}

/** An organization's text per locale tag, e.g. `{ en: "Hi!", de: "Hallo!" }`. */
export type LocalizedText = { readonly [locale: string]: string };

/**
 * The greeting of an organization whose policy sets none; the widget shows
 * its catalogue's greeting in the visitor's language instead.
 */
export const DEFAULT_GREETING = "Hi! How can we help?";

/** A chat message. */
export interface ChatMessage {
  /** Message id; ids sort in creation order and serve as `after` cursors. */
  readonly id: string;
  /** The message text, never blank. */
  readonly text: string;
  /** Who wrote it: the person on the page or the organization's agent. */
  readonly author: "visitor" | "agent";
  /** ISO 8601 time. */
  readonly at: string;
  /** The agent who wrote it, on every `author: "agent"` message. */
  readonly agent?: AgentIdentity;
}

/** An agent as visitors and other agents see them: an admin key's `id` and `name`. */
export interface AgentIdentity {
  /** The admin key's `id` (`key-<n>` when the policy names none). */
  readonly id: string;
  /** The admin key's `name` (the organization's name when the policy gives none). */
  readonly name: string;
}

/** The page a visitor is on, as the widget reports it. */
export interface PageInfo {
  /** On the session's origin; a URL elsewhere is dropped. */
  readonly url: string;
  /** `document.title`. */
  readonly title?: string;
  /** `document.referrer`. */
  readonly referrer?: string;
}

/** `chat.boot` reply data. */
export interface BootData {
  /** Session token for later calls, and its ISO 8601 expiry. */
  readonly session: { readonly token: string; readonly expiresAt: string };
  /** Who the session speaks for: the token's `sub` when verified, else the visitor id. */
  readonly user: {
    readonly id: string;
    readonly verified: boolean;
    readonly name?: string;
    readonly email?: string;
  };
  /** The anonymous visitor id to keep in `localStorage` (absent when verified). */
  readonly visitorId?: string;
  /**
   * The person's open conversation and its most recent messages, or `null`
   * when they have none: a boot creates none, the first message does.
   */
  readonly conversation: VisitorConversation | null;
  /** Whether an agent has the inbox open (a live `agent.stream` on any host). */
  readonly agentsOnline: boolean;
  /** `false` outside the organization's `widget.hours`; `true` without hours. */
  readonly withinHours: boolean;
  /** The widget settings: the same object `chat.getConfig` returns. */
  readonly config: WidgetConfig;
}

/** A visitor's open conversation, as `chat.boot` and a stream's `ready` event show it. */
export interface VisitorConversation {
  /** The conversation's id. */
  readonly id: string;
  /** The most recent messages, oldest first (on a stream: those asked for with `recent`). */
  readonly messages: readonly ChatMessage[];
  /** The address the visitor left on the away form, if any. */
  readonly contact?: { readonly email: string };
}

/**
 * The first event of every `chat.stream`, `event: ready`: the conversation
 * the stream follows (`null` when the visitor has none yet: the stream then
 * carries only `availability` events until it is replaced), and the widget
 * settings as they are now. Its `id` is the stream's resume cursor.
 */
export interface StreamReady {
  /** The conversation the stream follows, or `null`. */
  readonly conversation: VisitorConversation | null;
  /** The widget settings now: the same object `chat.getConfig` returns. */
  readonly config: WidgetConfig;
}

/** `chat.sendMessage` reply data. */
export interface SentMessage {
  /** The stored message. */
  readonly message: ChatMessage;
  /** The conversation it went to (the first message creates it). */
  readonly conversationId: string;
}

/**
 * How an anonymous visitor's reference starts, for agents (a `visitorId`
 * never holds a `.`, so `chat.boot` never takes a reference for one).
 */
export const VISITOR_REFERENCE_PREFIX = "v.";

/** A conversation as the agent inbox shows it. */
export interface ConversationSummary {
  readonly id: string;
  readonly visitor: {
    /**
     * A verified user's `sub`; an anonymous visitor's reference
     * ({@linkcode VISITOR_REFERENCE_PREFIX} and 22 characters): stable per
     * visitor, never the `visitorId` itself, and useless at `chat.boot`.
     */
    readonly id: string;
    readonly name?: string;
    readonly email?: string;
    readonly userId?: string;
  };
  /** Whether the visitor's identity was proven by a signed token. */
  readonly verified: boolean;
  readonly status: "open" | "closed";
  readonly lastMessage: ChatMessage | null;
  readonly updatedAt: string;
  /** Older messages removed to keep the conversation within `retention.messages`. */
  readonly trimmed: number;
  /** The agent it is assigned to: the first who replied, or whom `agent.assign` named. */
  readonly assignee: AgentIdentity | null;
  /** Where the visitor last was. */
  readonly page?: PageInfo;
  /** What the visitor left to be answered at (unverified). */
  readonly contact?: { readonly email: string };
  /** The locale the visitor reads the widget in (`de`, `pt-BR`). */
  readonly language?: string;
  /** The verified token's `user_data` (custom fields); verified users only. */
  readonly userData?: Readonly<Record<string, unknown>>;
}

/** One origin's line of a {@linkcode SecurityReport}. */
export interface SecurityReportOrigin {
  /** The normalised page origin, or `(none)`, `(unrecognised)`, `(other)`. */
  readonly origin: string;
  /** Boots from it the policy judged. */
  readonly boots: number;
  /** Of those, boots the policy refused. */
  readonly refused: number;
}

/** Would-be refusals of a stricter mode, and where they came from. */
export interface SecurityReportWouldRefuse {
  /** Admitted boots the stricter mode would have refused. */
  readonly refused: number;
  /** Their origins, most first (at most 50). */
  readonly origins: readonly {
    readonly origin: string;
    readonly refused: number;
  }[];
}

/** One hour of a {@linkcode SecurityReport}'s chart. */
export interface SecurityReportHour {
  /** Start of the hour, ISO 8601. */
  readonly hour: string;
  /** Boots with a verified token. */
  readonly verified: number;
  /** Boots without one (no token, or not looked at). */
  readonly absent: number;
  /** Boots with an invalid token. */
  readonly invalid: number;
  /** Requests the failed-authentication limit refused. */
  readonly blocked: number;
}

/**
 * `agent.securityReport` reply data: what one organization's traffic says
 * about its policy, in hourly buckets kept 7 days. Counts only — never a
 * secret, token, email or IP address.
 */
export interface SecurityReport {
  /** The organization reported on. */
  readonly organizationId: string;
  /** The window, in hourly buckets up to and including the current hour. */
  readonly hours: number;
  /** Start of the window's first hour, ISO 8601. */
  readonly from: string;
  /** When the report was made, ISO 8601. */
  readonly to: string;
  /** The organization's modes now, to read the would-be refusals against. */
  readonly modes: {
    readonly jwt: "off" | "optional" | "required";
    readonly domains: "enforce" | "report" | "off";
  };
  /** `chat.boot` requests the policy judged, by token state; `admitted` the ones it let in. */
  readonly boots: {
    readonly total: number;
    readonly verified: number;
    readonly absent: number;
    readonly invalid: number;
    readonly admitted: number;
  };
  /** Boots with an invalid token, by stable reason (`jwt.expired`, …). */
  readonly invalidReasons: Readonly<Record<string, number>>;
  /**
   * Every configured JWT key: its verified boots in the window, and its last
   * use in the 7 days kept (`null`: none), whatever the window.
   */
  readonly keys: readonly {
    readonly id: string;
    readonly verified: number;
    readonly lastSeen: string | null;
    /** When the policy retires the key, if it says. */
    readonly until?: string;
  }[];
  /** Page origins by boots, most first (at most 50). */
  readonly origins: readonly SecurityReportOrigin[];
  /** What `jwt.mode: required` would have refused: admitted boots without a verified token. */
  readonly ifRequired: SecurityReportWouldRefuse;
  /** What `domains.mode: enforce` would have refused: admitted boots from origins off the list. */
  readonly ifEnforced: SecurityReportWouldRefuse;
  /** The failed-authentication limit (`limits.authFailures`) and what it met. */
  readonly authFailures: {
    /** The rate as written, e.g. `10/10m`. */
    readonly limit: string;
    /** Boots refused `JWT_INVALID`. */
    readonly invalidTokens: number;
    /** Wrong admin keys at `agent.*`. */
    readonly wrongAdminKeys: number;
    /** Requests refused because their IP had spent the limit. */
    readonly blocked: number;
  };
  /** The window hour by hour, oldest first, for a chart. */
  readonly hourly: readonly SecurityReportHour[];
}
