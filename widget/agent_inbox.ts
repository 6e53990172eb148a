/**
 * The agent inbox served at `GET /agent`: an admin-key holder lists the
 * organization's conversations, reads one, replies and closes it, with new
 * messages arriving live over `agent.stream`. Agents sign in with their own
 * named key: they see who wrote each reply, assign conversations (to
 * themselves, to nobody, to another agent), filter the list by assignee, see
 * the visitor typing and the page, contact and verified fields beside the
 * thread, and are alerted of visitor messages (`inbox_alerts.ts`).
 * Browser-only; the admin key is kept in `sessionStorage` for this tab only
 * and sent as a bearer header.
 *
 * @module
 */

import {
  type AgentIdentity,
  type ChatMessage,
  type ConversationSummary,
  VISITOR_REFERENCE_PREFIX,
} from "../rpc/wire.ts";
import { readEventStream, type StreamEvent } from "./event_stream.ts";
import {
  InboxAlerts,
  readAlertSettings,
  writeAlertSettings,
} from "./inbox_alerts.ts";
import { createChime } from "./inbox_chime.ts";
import { callRpc, openRpcStream } from "./rpc_client.ts";
import { reconnectDelay } from "./backoff.ts";
import {
  type SignInError,
  signInError,
  type SignInFailure,
} from "./sign_in_error.ts";
import { installSecurityView } from "./security_view.ts";
import { TypingIndicator, TypingThrottle } from "./typing_signal.ts";
import { languageLabel } from "./language_label.ts";
import { contactField, pageFields, type Shown } from "./visitor_links.ts";

interface Credentials {
  readonly organizationId: string;
  readonly key: string;
}

const STORAGE_KEY = "parley:agent";
const apiBaseUrl = location.origin;

const byId = <T extends HTMLElement>(id: string): T =>
  document.getElementById(id) as T;
const loginForm = byId<HTMLFormElement>("login");
const loginError = byId<HTMLElement>("login-error");
const inbox = byId<HTMLElement>("inbox");
const list = byId<HTMLUListElement>("conversations");
const thread = byId<HTMLOListElement>("messages");
const heading = byId<HTMLElement>("conversation-title");
const replyForm = byId<HTMLFormElement>("reply");
const replyInput = byId<HTMLTextAreaElement>("reply-text");
const closeButton = byId<HTMLButtonElement>("close-conversation");
const status = byId<HTMLElement>("status");
const signedInAs = byId<HTMLElement>("signed-in-as");
const filterSelect = byId<HTMLSelectElement>("filter");
const typingLine = byId<HTMLElement>("typing");
const assignment = byId<HTMLElement>("assignment");
const assigneeText = byId<HTMLElement>("assignee");
const assignMeButton = byId<HTMLButtonElement>("assign-me");
const unassignButton = byId<HTMLButtonElement>("unassign");
const handOverTo = byId<HTMLSelectElement>("hand-over-to");
const handOverButton = byId<HTMLButtonElement>("hand-over");
const visitorSection = byId<HTMLElement>("visitor");
const visitorFields = byId<HTMLDListElement>("visitor-fields");
const alertTitle = byId<HTMLInputElement>("alert-title");
const alertSound = byId<HTMLInputElement>("alert-sound");
const alertDesktop = byId<HTMLInputElement>("alert-desktop");
const alertDesktopLabel = byId<HTMLElement>("alert-desktop-label");
const allowNotifications = byId<HTMLButtonElement>("allow-notifications");

let credentials: Credentials | undefined;
let conversations: ConversationSummary[] = [];
let selected: string | undefined;
let stream: AbortController | undefined;
const security = installSecurityView({
  toggle: byId<HTMLButtonElement>("security-toggle"),
  section: byId<HTMLElement>("security"),
  inbox,
}, call);
/** The agent the key belongs to, and every agent of the organization. */
let me: AgentIdentity | undefined;
let agents: readonly AgentIdentity[] = [];
/** The open conversation as last read (for its details and the visitor's name). */
let openConversation: ConversationSummary | undefined;

const visitorTyping = new TypingIndicator(
  (label) => typingLine.textContent = label,
  () => typingLine.textContent = "",
);
const agentTyping = new TypingThrottle(() => {
  if (selected) {
    call("agent.typing", { conversationId: selected }).catch(() => {});
  }
});
const alerts = new InboxAlerts({
  hidden: () => document.hidden,
  focused: () => document.hasFocus(),
  notificationsAllowed: () =>
    "Notification" in globalThis && Notification.permission === "granted",
  setTitle: (title) => document.title = title,
  playSound: createChime(),
  notify: ({ title, body, conversationId }) => {
    let notification: Notification;
    try {
      notification = new Notification(title, { body, tag: conversationId });
    } catch {
      // Some browsers (Chrome on Android) only notify from a service worker.
      return;
    }
    notification.addEventListener("click", () => {
      globalThis.focus();
      notification.close();
      void select(conversationId);
    });
  },
}, readAlertSettings(globalThis.localStorage));

function call<T>(method: string, body: Record<string, unknown>): Promise<T> {
  const { organizationId, key } = credentials!;
  return callRpc<T>(apiBaseUrl, method, { organizationId, ...body }, {
    token: key,
  })
    .then((result) => result.data);
}

function say(text: string): void {
  status.textContent = text;
}

function who(conversation: ConversationSummary): string {
  const { name, email, id } = conversation.visitor;
  // An anonymous visitor's id is a reference (`v.…`), never their visitorId.
  const short = conversation.verified
    ? id
    : id.slice(VISITOR_REFERENCE_PREFIX.length);
  const label = name ?? email ?? `Visitor ${short.slice(0, 8)}`;
  return conversation.verified ? `${label} ✓` : `${label} (unverified)`;
}

function renderList(): void {
  list.replaceChildren(...conversations.map((conversation) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.id = conversation.id;
    button.setAttribute("aria-current", String(conversation.id === selected));
    const title = document.createElement("strong");
    title.textContent = who(conversation);
    const preview = document.createElement("span");
    preview.textContent = conversation.lastMessage?.text ?? "No messages yet";
    const assignee = document.createElement("span");
    assignee.className = "assignee";
    assignee.textContent = conversation.assignee
      ? `Assigned to ${agentLabel(conversation.assignee)}`
      : "Unassigned";
    button.append(title, preview, assignee);
    if (conversation.status === "closed") button.classList.add("closed");
    if (alerts.isUnread(conversation.id)) button.classList.add("unread");
    button.addEventListener("click", () => void select(conversation.id));
    item.append(button);
    return item;
  }));
}

/** An agent's name, with "(you)" for the one signed in. */
function agentLabel(agent: AgentIdentity): string {
  return agent.id === me?.id ? `${agent.name} (you)` : agent.name;
}

function appendMessage(message: ChatMessage): void {
  if (thread.querySelector(`[data-id="${CSS.escape(message.id)}"]`)) return;
  const item = document.createElement("li");
  item.dataset.id = message.id;
  item.className = message.author;
  item.textContent = message.text;
  if (message.agent) {
    const name = document.createElement("span");
    name.className = "who";
    name.textContent = message.agent.name;
    item.prepend(name);
  }
  const time = document.createElement("time");
  time.dateTime = message.at;
  time.textContent = new Date(message.at).toLocaleTimeString();
  item.append(time);
  thread.append(item);
  thread.scrollTop = thread.scrollHeight;
}

/** Counts list reads, so a reply that arrives after a newer read's is dropped. */
let listReads = 0;

async function refreshList(): Promise<void> {
  const read = ++listReads;
  const filter = filterSelect.value;
  const page = await call<{
    conversations: ConversationSummary[];
    agent?: AgentIdentity;
    agents?: AgentIdentity[];
  }>("agent.listConversations", { filter });
  // A stream event's read started before a filter change may answer after
  // it: showing it would put the old filter's rows under the new filter.
  if (read !== listReads) return;
  conversations = page.conversations;
  list.dataset.filter = filter;
  if (page.agent) me = page.agent;
  if (page.agents) agents = page.agents;
  signedInAs.textContent = me ? `Signed in as ${me.name}` : "";
  renderList();
}

/** The assignee, the hand-over choices and the visitor's fields of the open conversation. */
function renderDetails(conversation: ConversationSummary): void {
  openConversation = conversation;
  heading.textContent = who(conversation);
  const assignee = conversation.assignee;
  assignment.hidden = false;
  assigneeText.textContent = assignee ? agentLabel(assignee) : "Unassigned";
  assignMeButton.hidden = me === undefined || assignee?.id === me.id;
  unassignButton.hidden = assignee === null;
  // Handing over to oneself is "Assign to me".
  const others = agents.filter((agent) =>
    agent.id !== assignee?.id && agent.id !== me?.id
  );
  handOverTo.replaceChildren(...others.map((agent) => {
    const option = document.createElement("option");
    option.value = agent.id;
    option.textContent = agent.name;
    return option;
  }));
  handOverButton.parentElement!.hidden = others.length === 0;

  const { visitor, page, contact, language, userData } = conversation;
  const fields: [string, string | Node][] = [];
  if (visitor.name) fields.push(["Name", visitor.name]);
  if (visitor.email) fields.push(["Email", visitor.email]);
  // A verified visitor's id is the token's `sub`: the site's own user id.
  const userId = conversation.verified ? visitor.id : visitor.userId;
  if (userId) fields.push(["User id", userId]);
  fields.push([
    "Identity",
    conversation.verified ? "Verified ✓" : "Unverified",
  ]);
  // The visitor wrote these: links only where they cannot lead elsewhere.
  // The language the visitor reads the widget in: the one to answer in.
  if (language) fields.push(["Language", languageLabel(language)]);
  if (contact) fields.push(["Contact", shown(contactField(contact.email))]);
  if (page) {
    const { page: where, referrer } = pageFields(page);
    fields.push(["Page", shown(where)]);
    if (referrer) fields.push(["Came from", shown(referrer)]);
  }
  for (const [name, value] of Object.entries(userData ?? {})) {
    // The token's name and email already show as the visitor's.
    if ((name === "name" || name === "email") && value === visitor[name]) {
      continue;
    }
    fields.push([
      name,
      typeof value === "string" ? value : JSON.stringify(value),
    ]);
  }
  visitorFields.replaceChildren(...fields.flatMap(([name, value]) => {
    const term = document.createElement("dt");
    term.textContent = name;
    const detail = document.createElement("dd");
    detail.append(value);
    return [term, detail];
  }));
  visitorSection.hidden = false;
}

/** Reads the open conversation's details again (not its messages). */
async function refreshDetails(id: string): Promise<void> {
  const { conversation } = await call<{ conversation: ConversationSummary }>(
    "agent.getConversation",
    { conversationId: id },
  );
  if (conversation.id === selected) renderDetails(conversation);
}

/** A field as `visitor_links.ts` decided: a link that opens elsewhere, or text. */
function shown({ text, href }: Shown): Node {
  if (href === undefined) return document.createTextNode(text);
  const anchor = document.createElement("a");
  anchor.href = href;
  anchor.textContent = text;
  anchor.title = href;
  if (!href.startsWith("mailto:")) {
    anchor.target = "_blank";
    anchor.rel = "noopener noreferrer";
  }
  return anchor;
}

/** Assigns the open conversation (`null`: to nobody). */
function assign(agentId: string | null): void {
  if (!selected) return;
  call<{ conversation: ConversationSummary }>("agent.assign", {
    conversationId: selected,
    agentId,
  })
    .then(({ conversation }) => {
      if (conversation.id === selected) renderDetails(conversation);
      return refreshList();
    })
    .catch((error) =>
      say(`Assign failed: ${(error as { code?: string }).code ?? "error"}`)
    );
}

async function select(id: string): Promise<void> {
  if (selected !== id) {
    visitorTyping.stop();
    agentTyping.reset();
  }
  selected = id;
  if (!document.hidden) alerts.read(id);
  renderList();
  const { conversation, messages } = await call<
    { conversation: ConversationSummary; messages: ChatMessage[] }
  >("agent.getConversation", { conversationId: id });
  renderDetails(conversation);
  thread.replaceChildren();
  if (conversation.trimmed > 0) {
    const notice = document.createElement("li");
    notice.className = "notice";
    notice.textContent = `${conversation.trimmed} older messages were removed`;
    thread.append(notice);
  }
  messages.forEach(appendMessage);
  replyForm.hidden = false;
  closeButton.hidden = conversation.status === "closed";
  renderList();
  replyInput.focus();
}

/**
 * One event of `agent.stream`.
 *
 * @returns the reason, when the stream itself ends
 */
function onStreamEvent(event: StreamEvent): string | undefined {
  if (event.event === "closed") {
    const { conversationId, reason } = JSON.parse(event.data) as {
      conversationId?: string;
      reason?: string;
    };
    // The stream itself ended: the key left the policy, the server stops…
    if (conversationId === undefined) return reason ?? "";
    // Closed here or by another agent: the list and buttons follow.
    if (conversationId === selected) closeButton.hidden = true;
    void refreshList();
    return undefined;
  }
  if (event.event === "typing") {
    const { conversationId, author } = JSON.parse(event.data) as {
      conversationId?: string;
      author?: string;
    };
    if (author === "visitor" && conversationId === selected) {
      visitorTyping.typing(
        `${openConversation?.visitor.name ?? "The visitor"} is typing…`,
      );
    }
    return undefined;
  }
  if (event.event === "conversation") {
    const { conversationId, conversation } = JSON.parse(event.data) as {
      conversationId?: string;
      conversation?: ConversationSummary;
    };
    // Assigned, handed over, a contact left, a page visited.
    if (selected !== undefined && conversationId === selected) {
      if (conversation) renderDetails(conversation);
      else void refreshDetails(selected);
    }
    void refreshList();
    return undefined;
  }
  if (event.event !== "message") return undefined;
  const message = JSON.parse(event.data) as ChatMessage & {
    conversationId: string;
  };
  const viewing = message.conversationId === selected;
  if (viewing) appendMessage(message);
  // The first agent to reply takes the conversation (no conversation event says so).
  if (viewing && message.author === "agent" && !openConversation?.assignee) {
    void refreshDetails(message.conversationId);
  }
  // A failed refresh leaves the list as it was; the next event refreshes again.
  const refreshed = refreshList().catch(() => {});
  if (message.author === "visitor") {
    if (viewing) visitorTyping.stop();
    const alert = (): void => {
      const known = conversations.find((conversation) =>
        conversation.id === message.conversationId
      );
      alerts.visitorMessage({
        conversationId: message.conversationId,
        visitor: known ? who(known) : "A visitor",
        text: message.text,
      }, viewing);
    };
    // A new conversation is named once the list has it.
    if (conversations.some(({ id }) => id === message.conversationId)) alert();
    else void refreshed.then(alert);
  }
  return undefined;
}

async function listen(signal: AbortSignal): Promise<void> {
  let lastEventId = "";
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      const body = await openRpcStream(
        apiBaseUrl,
        "agent.stream",
        { organizationId: credentials!.organizationId },
        { token: credentials!.key, lastEventId, signal },
      );
      attempt = 0;
      say("Live");
      let ended: string | undefined;
      lastEventId = await readEventStream(body, (event) => {
        try {
          ended = onStreamEvent(event) ?? ended;
        } catch {
          // A malformed event is skipped; the stream goes on.
        }
      }, lastEventId);
      if (ended === "agent.key_invalid") {
        signOut("This key is no longer valid: sign in again");
        return;
      }
    } catch {
      if (signal.aborted) return;
      say("Reconnecting…");
    }
    await new Promise((resolve) =>
      setTimeout(resolve, reconnectDelay(attempt))
    );
  }
}

/** Back to the sign-in form, forgetting the key. */
function signOut(reason: string): void {
  stream?.abort();
  credentials = undefined;
  me = undefined;
  agents = [];
  alerts.clear();
  sessionStorage.removeItem(STORAGE_KEY);
  inbox.hidden = true;
  security.disable();
  loginForm.hidden = false;
  say(reason);
}

async function start(next: Credentials): Promise<void> {
  credentials = next;
  loginError.hidden = true;
  try {
    await refreshList();
  } catch (error) {
    credentials = undefined;
    const failure = error as SignInFailure;
    showSignInError(signInError(failure, next.organizationId), failure.code);
    return;
  }
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(next));
  loginForm.hidden = true;
  inbox.hidden = false;
  security.enable();
  stream?.abort();
  stream = new AbortController();
  void listen(stream.signal);
}

/** The failure above the button; a refused key is cleared for another try. */
function showSignInError(error: SignInError, code = "error"): void {
  loginError.textContent = error.text;
  // The wire code stays readable (support, tests) without being the message.
  loginError.dataset.code = code;
  loginError.hidden = false;
  const key = loginForm.elements.namedItem("key");
  if (error.keyRefused && key instanceof HTMLInputElement) {
    key.value = "";
    key.setAttribute("aria-invalid", "true");
    key.focus();
  }
}

loginForm.addEventListener("input", (event) => {
  if (event.target instanceof HTMLInputElement) {
    event.target.removeAttribute("aria-invalid");
  }
});

loginForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const data = new FormData(loginForm);
  void start({
    organizationId: String(data.get("organizationId") ?? "").trim(),
    key: String(data.get("key") ?? "").trim(),
  });
});

replyForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = replyInput.value.trim();
  if (!text || !selected) return;
  replyInput.value = "";
  agentTyping.reset();
  call<{ message: ChatMessage }>("agent.reply", {
    conversationId: selected,
    text,
  })
    .then(({ message }) => appendMessage(message))
    .catch((error) => {
      replyInput.value = text;
      say(`Reply failed: ${(error as { code?: string }).code ?? "error"}`);
    });
});

replyInput.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    replyForm.requestSubmit();
  }
});

replyInput.addEventListener("input", () => {
  if (replyInput.value.trim()) agentTyping.input();
});

filterSelect.addEventListener("change", () => {
  refreshList().catch(() => say("Could not load the list"));
});

assignMeButton.addEventListener("click", () => {
  if (me) assign(me.id);
});
unassignButton.addEventListener("click", () => assign(null));
handOverButton.addEventListener("click", () => {
  if (handOverTo.value) assign(handOverTo.value);
});

// Coming back to the tab reads the open conversation.
document.addEventListener("visibilitychange", () => {
  if (document.hidden || !selected) return;
  alerts.read(selected);
  renderList();
});

/** The alert switches, as the settings and the browser's permission stand. */
function renderAlertControls(): void {
  const settings = alerts.settings;
  const permission = "Notification" in globalThis
    ? Notification.permission
    : "denied";
  alertTitle.checked = settings.titleCount;
  alertSound.checked = settings.sound;
  alertDesktop.checked = settings.desktop;
  alertDesktopLabel.hidden = permission !== "granted";
  allowNotifications.hidden = permission !== "default";
}

function changeAlerts(change: Partial<typeof alerts.settings>): void {
  const settings = { ...alerts.settings, ...change };
  alerts.configure(settings);
  writeAlertSettings(globalThis.localStorage, settings);
  renderAlertControls();
}

alertTitle.addEventListener(
  "change",
  () => changeAlerts({ titleCount: alertTitle.checked }),
);
alertSound.addEventListener(
  "change",
  () => changeAlerts({ sound: alertSound.checked }),
);
alertDesktop.addEventListener(
  "change",
  () => changeAlerts({ desktop: alertDesktop.checked }),
);
allowNotifications.addEventListener("click", () => {
  Notification.requestPermission().then((permission) => {
    if (permission === "granted") changeAlerts({ desktop: true });
    else {
      renderAlertControls();
      say("Desktop notifications are blocked in this browser's settings");
    }
  }, () => renderAlertControls());
});
renderAlertControls();

closeButton.addEventListener("click", () => {
  if (!selected) return;
  call("agent.close", { conversationId: selected })
    .then(() => select(selected!))
    .then(refreshList)
    .catch(() => say("Close failed"));
});

// `/agent?org=acme` fills the organization in; a key never travels in a URL.
const organizationField = loginForm.elements.namedItem("organizationId");
const suggested = new URLSearchParams(location.search).get("org");
if (suggested && organizationField instanceof HTMLInputElement) {
  organizationField.value = suggested;
}

const saved = sessionStorage.getItem(STORAGE_KEY);
if (saved) void start(JSON.parse(saved) as Credentials);
