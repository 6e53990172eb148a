/**
 * Every text the agent inbox shows, in one English table: the page, the
 * sign-in form and its errors, the list, the thread, the visitor panel, the
 * alerts and the Security view's frame. The inbox stays English in this
 * round; a later one translates this table as the widget's catalogue is
 * (`widget/i18n/`), so texts follow the same rules: a text names what it
 * fills in with `{placeholder}`s, and a counted text has one form per CLDR
 * plural category, chosen by `Intl.PluralRules`.
 *
 * The sentences of the security report itself are `security_summary.ts`'s,
 * shared with `deno task policy report`.
 *
 * @module
 */

/** The inbox's texts, by key. */
export const INBOX_STRINGS = {
  /** The tab title, and the page's heading. */
  inboxTitle: "Parley inbox",
  /** The tab title while conversations are unread. */
  inboxTitleUnread: {
    one: "({count}) Parley inbox",
    other: "({count}) Parley inbox",
  },

  signInHeading: "Sign in",
  signInIntro:
    "Use your organization id and your own admin key. The key stays in this tab until you sign out or close it.",
  organizationLabel: "Organization id",
  keyLabel: "Admin key",
  openInbox: "Open inbox",
  signOut: "Sign out",
  signedOut: "Signed out",
  keyRefused:
    "This admin key was not accepted for organization “{organization}”. Check the key (it is case-sensitive) and that it belongs to this organization.",
  organizationUnknown:
    "There is no organization “{organization}” on this server. Check the organization id.",
  signInThrottled: {
    one: "Too many failed sign-ins from this address. Try again in {count} s.",
    other:
      "Too many failed sign-ins from this address. Try again in {count} s.",
  },
  signInThrottledLater:
    "Too many failed sign-ins from this address. Try again later.",
  serverUnreachable:
    "The server could not be reached. Check the connection and try again.",
  storeUnavailable:
    "The server cannot reach its storage right now. Try again shortly.",
  signInFailed: "Sign-in failed ({code}).",
  keyNoLongerValid: "This key is no longer valid: sign in again",

  /** The status line while the live stream is open, and while it is not. */
  live: "Live",
  reconnecting: "Reconnecting…",
  signedInAs: "Signed in as {agent}",

  conversationsLabel: "Conversations",
  showLabel: "Show",
  viewAll: "All conversations",
  viewMine: "Assigned to me",
  viewUnassigned: "Unassigned",
  emptyAllHeading: "No conversations yet",
  emptyAll:
    "When a visitor writes in the widget, the conversation appears here.",
  emptyMineHeading: "Nothing assigned to you",
  emptyMine: "Conversations you answer or take appear here.",
  emptyUnassignedHeading: "Every conversation has an agent",
  emptyUnassigned: "New conversations wait here until an agent answers.",
  noMessagesYet: "No messages yet",
  /** Read by screen readers on a conversation with unseen visitor messages. */
  unread: "Unread",
  closedBadge: "Closed",
  assignedTo: "Assigned to {agent}",
  unassigned: "Unassigned",
  /** An agent's name, for the one signed in. */
  agentYou: "{agent} (you)",
  /** A verified visitor: their token's `sub`, name or email. */
  visitorVerified: "{visitor} ✓",
  visitorUnverified: "{visitor} (unverified)",
  someVisitor: "A visitor",
  theVisitor: "The visitor",
  visitorTyping: "{visitor} is typing…",

  pickConversation: "Pick a conversation",
  pickConversationHint:
    "Choose one from the list to read it, answer, assign or close it.",
  closeConversation: "Close conversation",
  messagesLabel: "Messages",
  trimmed: {
    one: "{count} older message was removed",
    other: "{count} older messages were removed",
  },
  replyLabel: "Reply",
  replyPlaceholder: "Reply… (Enter to send, Shift+Enter for a new line)",
  send: "Send",
  replyFailed: "Reply failed: {code}",
  assignFailed: "Assign failed: {code}",
  closeFailed: "Close failed",
  listFailed: "Could not load the list",

  detailsLabel: "Conversation details",
  assigneeHeading: "Assignee",
  assignToMe: "Assign to me",
  unassign: "Unassign",
  handOverTo: "Hand over to",
  handOver: "Hand over",
  visitorHeading: "Visitor",
  fieldName: "Name",
  fieldEmail: "Email",
  fieldUserId: "User id",
  fieldReference: "Reference",
  fieldIdentity: "Identity",
  identityVerified: "Verified ✓",
  identityUnverified: "Unverified",
  fieldLanguage: "Language",
  /** A visitor's language: its English name and the widget's locale tag. */
  languageName: "{language} ({tag})",
  fieldContact: "Contact",
  fieldPage: "Page",
  fieldReferrer: "Came from",

  alertsLegend: "Alerts",
  alertTitleCount: "Count in tab title",
  alertSound: "Sound",
  alertDesktop: "Desktop notifications",
  allowNotifications: "Allow desktop notifications",
  notificationsBlocked:
    "Desktop notifications are blocked in this browser's settings",

  securityToggle: "Security",
  conversationsToggle: "Conversations",
  securityHeading: "Security",
  reportWindowLabel: "Window",
  reportWindowDay: "last 24 h",
  reportWindowWeek: "last 7 days",
  refresh: "Refresh",
  loading: "Loading…",
  reportUpdated: "Updated {time}",
  reportFailed: "Report failed: {code}",
  keysHeading: "Keys",
  noKeys: "No JWT keys are configured.",
  originsHeading: "Origins",
  noBoots: "No boots yet.",
  originColumn: "Origin",
  bootsColumn: "Boots",
  refusedColumn: "Refused",
  seriesVerified: "valid token",
  seriesAbsent: "no token",
  seriesInvalid: "invalid token",
  seriesBlocked: "blocked",
  chartLabel:
    "Boots per hour over the last {window}: valid token, no token, invalid token",
  chartCaption: "Boots per hour, last {window} (busiest hour: {busiest})",
  chartHour: "{hour}: {counts}",
  chartHourBlocked: "{hour}: {counts}, {blocked} blocked",
  chartCount: "{count} {series}",
} as const;

/** A key of {@linkcode INBOX_STRINGS}. */
export type InboxKey = keyof typeof INBOX_STRINGS;

/** The placeholder names in a text: `"Assigned to {agent}"` → `"agent"`. */
type Placeholders<Text> = Text extends `${string}{${infer Name}}${infer Rest}`
  ? Name | Placeholders<Rest>
  : never;

/** A key's text (a counted one's `other` form). */
type TextOf<Key extends InboxKey> = (typeof INBOX_STRINGS)[Key] extends
  { readonly other: infer Other } ? Other : (typeof INBOX_STRINGS)[Key];

/** No argument for a text without placeholders; its values otherwise (`count` a number). */
type ParamsOf<Key extends InboxKey> = [Placeholders<TextOf<Key>>] extends
  [never] ? []
  : [
    params: {
      readonly [Name in Placeholders<TextOf<Key>>]: Name extends "count"
        ? number
        : string | number;
    },
  ];

/** The keys whose text has no placeholder: the page's fixed labels. */
export type PlainInboxKey = {
  [Key in InboxKey]: ParamsOf<Key> extends [] ? Key : never;
}[InboxKey];

const PLURALS = new Intl.PluralRules("en");
const NUMBERS = new Intl.NumberFormat("en");

/**
 * A text of the inbox with its placeholders filled. The parameters a key
 * takes are read off its text by the type checker, so a missing value is a
 * compile error, not a visible `{agent}`.
 *
 * @param key The text to read.
 * @param params The placeholders' values; `count` picks a plural form.
 * @returns The text to show.
 * @example A counted text
 * ```ts
 * inboxText("trimmed", { count: 3 }); // "3 older messages were removed"
 * ```
 */
export function inboxText<Key extends InboxKey>(
  key: Key,
  ...params: ParamsOf<Key>
): string {
  const values: Readonly<Record<string, string | number>> = params[0] ?? {};
  const entry: string | { readonly one: string; readonly other: string } =
    INBOX_STRINGS[key];
  const text = typeof entry === "string"
    ? entry
    : PLURALS.select(Number(values.count)) === "one"
    ? entry.one
    : entry.other;
  return text.replace(/\{(\w+)\}/g, (placeholder, name: string) => {
    const value = values[name];
    if (value === undefined) return placeholder;
    return typeof value === "number" ? NUMBERS.format(value) : value;
  });
}
