/**
 * The agent inbox's notifications: the tab title counts unread conversations
 * (`(2) Parley inbox`), a short sound plays when a visitor writes while the
 * tab is hidden, and a desktop `Notification` appears once the agent allowed
 * it (while the tab is hidden or not focused). Each can be switched off; the
 * choice is kept in `localStorage`. The browser parts (title, sound,
 * `Notification`) are passed in, so the rules are tested without a browser.
 *
 * @module
 */

import { inboxText } from "./inbox_strings.ts";

/** Which alerts the agent wants. */
export interface AlertSettings {
  /** Count unread conversations in the tab title. */
  readonly titleCount: boolean;
  /** Play a sound when a visitor writes while the tab is hidden. */
  readonly sound: boolean;
  /** Show a desktop notification (once the browser allows it). */
  readonly desktop: boolean;
}

/** The `localStorage` key of the settings. */
export const ALERT_SETTINGS_KEY = "parley:agent:alerts";

/** The inbox's title with nothing unread. */
export const INBOX_TITLE: string = inboxText("inboxTitle");

/** Every alert on: what an agent gets until they switch one off. */
export const DEFAULT_ALERT_SETTINGS: AlertSettings = Object.freeze({
  titleCount: true,
  sound: true,
  desktop: true,
});

/**
 * Reads the remembered settings; a missing, unreadable or partial entry
 * falls back to the defaults field by field.
 *
 * @returns the settings
 */
export function readAlertSettings(
  storage: Pick<Storage, "getItem"> | undefined,
): AlertSettings {
  let stored: Record<string, unknown> = {};
  try {
    const value: unknown = JSON.parse(
      storage?.getItem(ALERT_SETTINGS_KEY) ?? "{}",
    );
    if (typeof value === "object" && value !== null) {
      stored = value as Record<string, unknown>;
    }
  } catch {
    // Storage refused or held something else: the defaults apply.
  }
  const pick = (name: keyof AlertSettings): boolean =>
    typeof stored[name] === "boolean"
      ? stored[name] as boolean
      : DEFAULT_ALERT_SETTINGS[name];
  return Object.freeze({
    titleCount: pick("titleCount"),
    sound: pick("sound"),
    desktop: pick("desktop"),
  });
}

/**
 * Remembers the settings; a storage that refuses (privacy mode) is ignored.
 *
 * @returns nothing
 */
export function writeAlertSettings(
  storage: Pick<Storage, "setItem"> | undefined,
  settings: AlertSettings,
): void {
  try {
    storage?.setItem(ALERT_SETTINGS_KEY, JSON.stringify(settings));
  } catch {
    // Not remembered; this tab still follows the choice.
  }
}

/**
 * The tab title for a number of unread conversations.
 *
 * @returns `(2) Parley inbox`, or `Parley inbox` when none or switched off
 */
export function inboxTitle(unread: number, settings: AlertSettings): string {
  return unread > 0 && settings.titleCount
    ? inboxText("inboxTitleUnread", { count: unread })
    : INBOX_TITLE;
}

/** What the alerts do in the browser, and what they read of it. */
export interface AlertEffects {
  /** Whether the tab is hidden (`document.hidden`). */
  readonly hidden: () => boolean;
  /** Whether the window has focus (`document.hasFocus()`). */
  readonly focused: () => boolean;
  /** Whether the browser allows notifications (`Notification.permission`). */
  readonly notificationsAllowed: () => boolean;
  readonly setTitle: (title: string) => void;
  readonly playSound: () => void;
  readonly notify: (notice: {
    readonly title: string;
    readonly body: string;
    readonly conversationId: string;
  }) => void;
}

/** The unread conversations and the alerts a visitor message raises. */
export class InboxAlerts {
  #effects: AlertEffects;
  #settings: AlertSettings;
  #unread = new Set<string>();

  /** Sets the title for nothing unread. */
  constructor(effects: AlertEffects, settings: AlertSettings) {
    this.#effects = effects;
    this.#settings = settings;
    this.#renderTitle();
  }

  /** The settings in force. */
  get settings(): AlertSettings {
    return this.#settings;
  }

  /** How many conversations have visitor messages the agent has not seen. */
  get unread(): number {
    return this.#unread.size;
  }

  /** Whether a conversation is unread. */
  isUnread(conversationId: string): boolean {
    return this.#unread.has(conversationId);
  }

  /** Applies new settings (the caller remembers them). */
  configure(settings: AlertSettings): void {
    this.#settings = settings;
    this.#renderTitle();
  }

  /**
   * A visitor wrote. Unless the agent is looking at that conversation in a
   * visible tab, it becomes unread; a hidden tab plays the sound, and a
   * hidden or unfocused window shows a notification.
   *
   * @param viewing the conversation is the one open in the inbox
   */
  visitorMessage(
    notice: {
      readonly conversationId: string;
      readonly visitor: string;
      readonly text: string;
    },
    viewing: boolean,
  ): void {
    const effects = this.#effects;
    const hidden = effects.hidden();
    if (viewing && !hidden) return;
    this.#unread.add(notice.conversationId);
    this.#renderTitle();
    if (hidden && this.#settings.sound) effects.playSound();
    if (
      (hidden || !effects.focused()) && this.#settings.desktop &&
      effects.notificationsAllowed()
    ) {
      effects.notify({
        title: notice.visitor,
        body: notice.text,
        conversationId: notice.conversationId,
      });
    }
  }

  /** The agent saw a conversation (opened it in a visible tab). */
  read(conversationId: string): void {
    if (this.#unread.delete(conversationId)) this.#renderTitle();
  }

  /** Forgets every unread conversation (signing out). */
  clear(): void {
    this.#unread.clear();
    this.#renderTitle();
  }

  #renderTitle(): void {
    this.#effects.setTitle(inboxTitle(this.#unread.size, this.#settings));
  }
}
