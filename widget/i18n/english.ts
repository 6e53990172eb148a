/**
 * The English catalogue: every text the widget shows a visitor, built into
 * widget.js so the widget speaks without a fetch. It is the list of keys
 * every locale file in `widget/locales/` has, and the fallback for a key a
 * locale lacks.
 *
 * A text names what it fills in with `{placeholder}`s, so a translation can
 * put them where its grammar wants them. A text that counts is an object of
 * CLDR plural forms (`one`, `other`, …) chosen by `Intl.PluralRules` for
 * `{count}`; English needs `one` and `other`, Arabic all six.
 *
 * @module
 */

/** The English texts, by key. */
export const ENGLISH = {
  /** The panel's heading and the launcher's name when the organization sets no title. */
  chatTitle: "Chat",
  /** The first message when the organization sets no `greeting`. */
  greeting: "Hi! How can we help?",
  /** The launcher's accessible name while agent messages wait unread. */
  launcherUnread: {
    one: "{title} ({count} unread)",
    other: "{title} ({count} unread)",
  },
  /** The unread badge past 99 (`{count}` is 99). */
  badgeOverflow: "{count}+",
  /** The accessible name of the panel's × button. */
  closeChat: "Close chat",
  /** The accessible name of the message log. */
  messagesLabel: "Messages",
  /** The label of the message field (read by screen readers). */
  messageLabel: "Message",
  messagePlaceholder: "Write a message…",
  send: "Send",
  /** Under a visitor's message the server has not confirmed yet. */
  sending: "Sending…",
  /** Under a message the server refused; `{retry}` is the retry button. */
  sendFailed: "Not sent — {retry}",
  /** The retry button's text. */
  retry: "Retry",
  /** A note when sending is rate limited, with the server's `retryAfter`. */
  sendRateLimited: {
    one: "Too many messages. Try again in {count} second.",
    other: "Too many messages. Try again in {count} seconds.",
  },
  /** A note when the widget cannot reach the chat any more. */
  chatUnavailable: "Chat is unavailable right now. Please try again later.",
  /** The typing line; `{agent}` is the agent's name. */
  agentTyping: "{agent} is typing…",
  /** The page title shown in turn with the page's own while the tab is hidden. */
  titleFlash: "New message",
  conversationClosed: "This conversation was closed. Write to start a new one.",
  /** The away form's prompt when the organization sets no `awayMessage`. */
  awayPrompt: "We're away — leave your email and we'll answer there",
  emailLabel: "Email",
  emailPlaceholder: "you@example.com",
  saveEmail: "Save",
  emailInvalid: "Enter an email address like you@example.com",
  emailNotSaved: "Not saved. Please try again.",
  /** Shown instead of the away form once an address is saved. */
  emailSaved: "We'll answer at {email}. You can keep writing here.",
} as const;

/** A key of the catalogue. */
export type MessageKey = keyof typeof ENGLISH;
