/**
 * The widget's settings as `chat.getConfig` (and `chat.boot`) send them.
 *
 * @module
 */

/** Whether visitors can expect an answer now; the widget shows its away form otherwise. */
export interface Availability {
  /** Whether an agent has the inbox open (a live `agent.stream` on any host). */
  readonly agentsOnline: boolean;
  /** `false` outside `widget.hours`; `true` without hours. */
  readonly withinHours: boolean;
}

/** Public widget settings returned by `chat.getConfig`. */
export interface WidgetConfig extends Availability {
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
      readonly title?: TextPerLocale;
      readonly greeting?: TextPerLocale;
      readonly awayMessage?: TextPerLocale;
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
}

/** An organization's text per locale tag, e.g. `{ en: "Hi!", de: "Hallo!" }`. */
export type TextPerLocale = { readonly [locale: string]: string };

/**
 * The greeting of an organization whose policy sets none; the widget shows
 * its catalogue's greeting in the visitor's language instead.
 */
export const DEFAULT_GREETING = "Hi! How can we help?";
