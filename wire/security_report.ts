/**
 * `agent.securityReport`'s reply: what one organization's traffic says
 * about its policy. Counts only — never a secret, token, email or IP.
 *
 * @module
 */

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
