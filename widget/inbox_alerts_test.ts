import assert from "node:assert/strict";
import {
  ALERT_SETTINGS_KEY,
  type AlertSettings,
  DEFAULT_ALERT_SETTINGS,
  InboxAlerts,
  inboxTitle,
  readAlertSettings,
  writeAlertSettings,
} from "./inbox_alerts.ts";

/** A browser whose visibility, focus and permission the test sets. */
function browser(state: {
  hidden?: boolean;
  focused?: boolean;
  allowed?: boolean;
} = {}) {
  const seen = {
    title: "",
    sounds: 0,
    notices: [] as { title: string; body: string; conversationId: string }[],
  };
  const effects = {
    hidden: () => state.hidden ?? false,
    focused: () => state.focused ?? true,
    notificationsAllowed: () => state.allowed ?? false,
    setTitle: (title: string) => seen.title = title,
    playSound: () => seen.sounds++,
    notify: (notice: { title: string; body: string; conversationId: string }) =>
      seen.notices.push({ ...notice }),
  };
  return { state, seen, effects };
}

const message = (conversationId: string, text = "Hello?") => ({
  conversationId,
  visitor: "Ada Customer",
  text,
});

function storage(initial?: string) {
  const items = new Map<string, string>();
  if (initial !== undefined) items.set(ALERT_SETTINGS_KEY, initial);
  return {
    items,
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
  };
}

Deno.test("inboxTitle() counts unread conversations, or shows the plain title", () => {
  assert.equal(inboxTitle(2, DEFAULT_ALERT_SETTINGS), "(2) Parley inbox");
  assert.equal(inboxTitle(0, DEFAULT_ALERT_SETTINGS), "Parley inbox");
  assert.equal(
    inboxTitle(2, { ...DEFAULT_ALERT_SETTINGS, titleCount: false }),
    "Parley inbox",
  );
});

Deno.test("InboxAlerts counts each conversation once in the title, however many messages", () => {
  const { seen, effects } = browser();
  const alerts = new InboxAlerts(effects, DEFAULT_ALERT_SETTINGS);
  assert.equal(seen.title, "Parley inbox");
  alerts.visitorMessage(message("c1"), false);
  alerts.visitorMessage(message("c1", "Anyone?"), false);
  alerts.visitorMessage(message("c2"), false);
  assert.equal(seen.title, "(2) Parley inbox");
  alerts.read("c1");
  assert.equal(seen.title, "(1) Parley inbox");
  assert.equal(alerts.isUnread("c2"), true);
  alerts.clear();
  assert.equal(seen.title, "Parley inbox");
});

Deno.test("InboxAlerts: a message in the conversation open in a visible tab is read at once, silently", () => {
  const { seen, effects } = browser({ allowed: true });
  const alerts = new InboxAlerts(effects, DEFAULT_ALERT_SETTINGS);
  alerts.visitorMessage(message("c1"), true);
  assert.equal(alerts.unread, 0);
  assert.equal(seen.sounds, 0);
  assert.deepEqual(seen.notices, []);
});

Deno.test("InboxAlerts: the open conversation still counts while the tab is hidden", () => {
  const { seen, effects } = browser({ hidden: true });
  const alerts = new InboxAlerts(effects, DEFAULT_ALERT_SETTINGS);
  alerts.visitorMessage(message("c1"), true);
  assert.equal(seen.title, "(1) Parley inbox");
});

Deno.test("InboxAlerts plays the sound only while the tab is hidden", () => {
  const { state, seen, effects } = browser();
  const alerts = new InboxAlerts(effects, DEFAULT_ALERT_SETTINGS);
  alerts.visitorMessage(message("c1"), false);
  assert.equal(seen.sounds, 0);
  state.hidden = true;
  alerts.visitorMessage(message("c2"), false);
  assert.equal(seen.sounds, 1);
});

Deno.test("InboxAlerts notifies only when allowed, and while hidden or unfocused", () => {
  const { state, seen, effects } = browser({ hidden: true });
  const alerts = new InboxAlerts(effects, DEFAULT_ALERT_SETTINGS);
  alerts.visitorMessage(message("c1"), false);
  assert.deepEqual(seen.notices, [], "no permission, no notification");
  state.allowed = true;
  alerts.visitorMessage(message("c1", "Still there?"), false);
  assert.deepEqual(seen.notices, [
    { title: "Ada Customer", body: "Still there?", conversationId: "c1" },
  ]);
  state.hidden = false;
  state.focused = false;
  alerts.visitorMessage(message("c2"), false);
  assert.equal(seen.notices.length, 2, "an unfocused window is notified");
  state.focused = true;
  alerts.visitorMessage(message("c3"), false);
  assert.equal(seen.notices.length, 2, "an agent looking at the inbox is not");
});

const switchedOff: [keyof AlertSettings, string][] = [
  ["titleCount", "the title count"],
  ["sound", "the sound"],
  ["desktop", "the notification"],
];
for (const [setting, what] of switchedOff) {
  Deno.test(`InboxAlerts: switching ${setting} off stops ${what} only`, () => {
    const { seen, effects } = browser({ hidden: true, allowed: true });
    const alerts = new InboxAlerts(effects, DEFAULT_ALERT_SETTINGS);
    alerts.configure({ ...DEFAULT_ALERT_SETTINGS, [setting]: false });
    alerts.visitorMessage(message("c1"), false);
    assert.equal(seen.title === "(1) Parley inbox", setting !== "titleCount");
    assert.equal(seen.sounds === 1, setting !== "sound");
    assert.equal(seen.notices.length === 1, setting !== "desktop");
    assert.equal(alerts.unread, 1, "the conversation is unread all the same");
  });
}

Deno.test("InboxAlerts.configure() re-renders the title at once", () => {
  const { seen, effects } = browser();
  const alerts = new InboxAlerts(effects, DEFAULT_ALERT_SETTINGS);
  alerts.visitorMessage(message("c1"), false);
  alerts.configure({ ...DEFAULT_ALERT_SETTINGS, titleCount: false });
  assert.equal(seen.title, "Parley inbox");
  alerts.configure(DEFAULT_ALERT_SETTINGS);
  assert.equal(seen.title, "(1) Parley inbox");
});

Deno.test("writeAlertSettings() then readAlertSettings() remembers the choice", () => {
  const store = storage();
  const chosen = { titleCount: true, sound: false, desktop: false };
  writeAlertSettings(store, chosen);
  assert.deepEqual(readAlertSettings(store), chosen);
});

const unreadable: [string | undefined, string][] = [
  [undefined, "nothing stored"],
  ["not json", "text that is not JSON"],
  ["[true]", "a list"],
  ["null", "null"],
  ['{"sound": "no"}', "a field of the wrong type"],
];
for (const [stored, what] of unreadable) {
  Deno.test(`readAlertSettings() falls back to the defaults on ${what}`, () => {
    assert.deepEqual(
      readAlertSettings(storage(stored)),
      DEFAULT_ALERT_SETTINGS,
    );
  });
}

Deno.test("readAlertSettings() keeps the fields it can read from a partial entry", () => {
  assert.deepEqual(readAlertSettings(storage('{"sound": false}')), {
    ...DEFAULT_ALERT_SETTINGS,
    sound: false,
  });
});

Deno.test("the alert settings survive a storage that refuses", () => {
  const refusing = {
    getItem: (): string | null => {
      throw new DOMException("denied", "SecurityError");
    },
    setItem: (): void => {
      throw new DOMException("full", "QuotaExceededError");
    },
  };
  writeAlertSettings(refusing, DEFAULT_ALERT_SETTINGS);
  assert.deepEqual(readAlertSettings(refusing), DEFAULT_ALERT_SETTINGS);
  assert.deepEqual(readAlertSettings(undefined), DEFAULT_ALERT_SETTINGS);
});
