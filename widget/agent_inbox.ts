/**
 * The agent inbox served at `GET /agent`: an admin-key holder lists the
 * organization's conversations, reads one, replies and closes it, with new
 * messages arriving live over `agent.stream`. Browser-only; the admin key is
 * kept in `sessionStorage` for this tab only and sent as a bearer header.
 *
 * @module
 */

import type { ChatMessage, ConversationSummary } from "../rpc/wire.ts";
import { readEventStream } from "./event_stream.ts";
import { callRpc, openRpcStream } from "./rpc_client.ts";
import { reconnectDelay } from "./backoff.ts";

interface Credentials {
  readonly organizationId: string;
  readonly key: string;
}

const STORAGE_KEY = "parley:agent";
const apiBaseUrl = location.origin;

const byId = <T extends HTMLElement>(id: string): T =>
  document.getElementById(id) as T;
const loginForm = byId<HTMLFormElement>("login");
const inbox = byId<HTMLElement>("inbox");
const list = byId<HTMLUListElement>("conversations");
const thread = byId<HTMLOListElement>("messages");
const heading = byId<HTMLElement>("conversation-title");
const replyForm = byId<HTMLFormElement>("reply");
const replyInput = byId<HTMLTextAreaElement>("reply-text");
const closeButton = byId<HTMLButtonElement>("close-conversation");
const status = byId<HTMLElement>("status");

let credentials: Credentials | undefined;
let conversations: ConversationSummary[] = [];
let selected: string | undefined;
let stream: AbortController | undefined;

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
  const label = name ?? email ?? `Visitor ${id.slice(0, 8)}`;
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
    button.append(title, preview);
    if (conversation.status === "closed") button.classList.add("closed");
    button.addEventListener("click", () => void select(conversation.id));
    item.append(button);
    return item;
  }));
}

function appendMessage(message: ChatMessage): void {
  if (thread.querySelector(`[data-id="${CSS.escape(message.id)}"]`)) return;
  const item = document.createElement("li");
  item.dataset.id = message.id;
  item.className = message.author;
  item.textContent = message.text;
  const time = document.createElement("time");
  time.dateTime = message.at;
  time.textContent = new Date(message.at).toLocaleTimeString();
  item.append(time);
  thread.append(item);
  thread.scrollTop = thread.scrollHeight;
}

async function refreshList(): Promise<void> {
  const page = await call<{ conversations: ConversationSummary[] }>(
    "agent.listConversations",
    {},
  );
  conversations = page.conversations;
  renderList();
}

async function select(id: string): Promise<void> {
  selected = id;
  const { conversation, messages } = await call<
    { conversation: ConversationSummary; messages: ChatMessage[] }
  >("agent.getConversation", { conversationId: id });
  heading.textContent = who(conversation);
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
        if (event.event === "closed") {
          const { conversationId, reason } = JSON.parse(event.data) as {
            conversationId?: string;
            reason?: string;
          };
          // The stream itself ended: the key left the policy, the server stops…
          if (conversationId === undefined) {
            ended = reason;
            return;
          }
          // Closed here or by another agent: the list and buttons follow.
          if (conversationId === selected) closeButton.hidden = true;
          void refreshList();
          return;
        }
        if (event.event !== "message") return;
        const message = JSON.parse(event.data) as ChatMessage & {
          conversationId: string;
        };
        if (message.conversationId === selected) appendMessage(message);
        void refreshList();
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
  sessionStorage.removeItem(STORAGE_KEY);
  inbox.hidden = true;
  loginForm.hidden = false;
  say(reason);
}

async function start(next: Credentials): Promise<void> {
  credentials = next;
  try {
    await refreshList();
  } catch (error) {
    credentials = undefined;
    say(`Sign-in failed: ${(error as { code?: string }).code ?? "error"}`);
    return;
  }
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(next));
  loginForm.hidden = true;
  inbox.hidden = false;
  stream?.abort();
  stream = new AbortController();
  void listen(stream.signal);
}

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
