/**
 * One visitor's session with the server: boot (with the user's JWT, renewed
 * once when it expired), rate-limit backoff, the live message stream with
 * reconnects, silent session renewal, sending, and the visitor's side of
 * typing, the page they are on and the contact they leave. Reports every
 * error through `onError` and never throws into the host page.
 *
 * @module
 */

import type {
  AgentIdentity,
  BootData,
  ChatMessage,
  ErrorCode,
  PageInfo,
  WidgetConfig,
} from "../rpc/wire.ts";
import {
  MAX_RATE_LIMIT_RETRIES,
  MAX_STREAM_RECONNECTS,
  rateLimitDelay,
  reconnectDelay,
  sessionRenewalDelay,
} from "./backoff.ts";
import { readEventStream } from "./event_stream.ts";
import { callRpc, openRpcStream, type RpcCallOptions } from "./rpc_client.ts";
import { readVisitorId, writeVisitorId } from "./visitor_id_store.ts";
import { WidgetError } from "./widget_error.ts";

/** Who the visitor is and where the server lives. */
export interface ChatSessionOptions {
  readonly apiBaseUrl: string;
  readonly organizationId: string;
  readonly appId?: string | undefined;
  readonly userJWT?: string | undefined;
  readonly getUserJWT?: (() => Promise<string>) | undefined;
  readonly userId?: string | undefined;
  readonly email?: string | undefined;
  readonly name?: string | undefined;
  /** The page the visitor is on now, sent at every boot. */
  readonly page: () => PageInfo | undefined;
  /** Every error, including the rate limits that are being retried. */
  readonly onError: (error: WidgetError) => void;
  /** A message from the live stream or a renewed boot (may repeat an id). */
  readonly onMessage: (message: ChatMessage) => void;
  /** An agent is typing in this conversation (live only, never replayed). */
  readonly onTyping: (agent: AgentIdentity) => void;
  /** A later boot (a renewal, a new conversation) with fresh availability. */
  readonly onRenewed: (boot: BootData) => void;
  /** The session is over for good (a renewal was refused). */
  readonly onEnded: () => void;
  /**
   * An agent closed the conversation; the session has already moved to a new
   * one, where the visitor's next message goes.
   */
  readonly onConversationClosed: () => void;
}

/** A successful start: the widget settings and the boot data. */
export interface SessionStart {
  readonly config: WidgetConfig;
  readonly boot: BootData;
}

/**
 * Codes after which retrying cannot help until the page or policy changes
 * (`SESSION_INVALID` only once renewing the session has failed too).
 */
const FINAL_STREAM_CODES: readonly ErrorCode[] = [
  "DOMAIN_NOT_ALLOWED",
  "JWT_REQUIRED",
  "JWT_INVALID",
  "ORGANIZATION_NOT_FOUND",
  "BAD_REQUEST",
  "METHOD_NOT_FOUND",
  "SESSION_INVALID",
];

/** A stream that stayed open this long counts as healthy again. */
const HEALTHY_STREAM_MS = 10_000;

/** A visitor's live session. */
export class ChatSession {
  #options: ChatSessionOptions;
  #abort = new AbortController();
  #boot: BootData | undefined;
  #renewTimer: ReturnType<typeof setTimeout> | undefined;
  #lastEventId = "";
  /** The page last reported (JSON), so a navigation to the same page sends nothing. */
  #reportedPage = "";

  /** Prepares a session; nothing is sent until `start`. */
  constructor(options: ChatSessionOptions) {
    this.#options = options;
  }

  /** Whether `close` was called. */
  get closed(): boolean {
    return this.#abort.signal.aborted;
  }

  /**
   * Fetches the settings and boots. On success the live stream and the
   * renewal timer run until `close`.
   *
   * @returns the settings and boot data, or `undefined` after a reported failure
   */
  async start(): Promise<SessionStart | undefined> {
    try {
      const [config, boot] = await Promise.all([
        this.#withRateLimitRetries(() =>
          this.#call<WidgetConfig>("chat.getConfig", this.#identity(false))
        ),
        this.#bootWithToken(),
      ]);
      if (this.closed) return undefined;
      this.#adopt(boot);
      void this.#runStream();
      return { config, boot };
    } catch (error) {
      this.#fail(error);
      this.close();
      return undefined;
    }
  }

  /**
   * Sends a message; renews the session once if the server no longer knows it.
   *
   * @throws {WidgetError} when the server refuses (already reported through `onError`)
   * @returns the stored message
   */
  async send(text: string): Promise<ChatMessage> {
    const data = await this.#withSession<{ message: ChatMessage }>(
      "chat.sendMessage",
      { text },
    );
    return data.message;
  }

  /**
   * Leaves an address to be answered at (`chat.setContact`); renews the
   * session once if needed. A malformed address (`BAD_REQUEST`) is the
   * visitor's to fix, so it is not reported through `onError`.
   *
   * @throws {WidgetError} when the server refuses
   * @returns the stored address
   */
  async setContact(email: string): Promise<string> {
    const data = await this.#withSession<{ contact: { email: string } }>(
      "chat.setContact",
      { email },
      ["BAD_REQUEST"],
    );
    return data.contact.email;
  }

  /**
   * Tells the agents the visitor is typing. Best effort: a lost typing
   * signal is not worth a retry or a report.
   */
  typing(): void {
    this.#call("chat.typing", {}, { token: this.#boot?.session.token })
      .catch(() => {});
  }

  /**
   * Reports the current page after an SPA navigation (`chat.setPage`),
   * unless it is the one reported last. Best effort, like `typing`: the
   * next boot sends the page anyway.
   */
  pageChanged(): void {
    const page = this.#options.page();
    const json = JSON.stringify(page);
    if (!page || json === this.#reportedPage || !this.#boot) return;
    this.#reportedPage = json;
    this.#call("chat.setPage", { ...page }, {
      token: this.#boot.session.token,
    }).catch(() => {});
  }

  /** Stops the stream and timers; pending calls resolve quietly. */
  close(): void {
    this.#abort.abort();
    clearTimeout(this.#renewTimer);
  }

  /**
   * A session call, made again once after renewing a session the server no
   * longer knows. Errors are reported unless their code is in `quiet`.
   */
  async #withSession<T>(
    method: string,
    body: Record<string, unknown>,
    quiet: readonly ErrorCode[] = [],
  ): Promise<T> {
    const once = (): Promise<T> =>
      this.#call<T>(method, body, { token: this.#boot?.session.token });
    try {
      try {
        return await once();
      } catch (error) {
        if (
          !(error instanceof WidgetError) ||
          error.code !== "SESSION_INVALID" || this.closed
        ) throw error;
        await this.#renew();
        return await once();
      }
    } catch (error) {
      if (!(error instanceof WidgetError && quiet.includes(error.code))) {
        this.#fail(error);
      }
      throw error;
    }
  }

  #identity(withVisitor: boolean): Record<string, unknown> {
    const o = this.#options;
    const body: Record<string, unknown> = { organizationId: o.organizationId };
    if (o.appId) body.app_id = o.appId;
    if (!withVisitor) return body;
    if (o.userId) body.user_id = o.userId;
    if (o.email) body.email = o.email;
    if (o.name) body.name = o.name;
    const visitorId = this.#boot?.visitorId ?? readVisitorId(o.organizationId);
    if (visitorId) body.visitorId = visitorId;
    const page = o.page();
    if (page) {
      body.page = page;
      this.#reportedPage = JSON.stringify(page);
    }
    return body;
  }

  /** Boots with the page's JWT; asks `getUserJWT` for a new one once if it expired. */
  async #bootWithToken(): Promise<BootData> {
    let token = await this.#userToken();
    let refreshed = false;
    for (;;) {
      try {
        return await this.#withRateLimitRetries(() =>
          this.#call<BootData>("chat.boot", this.#identity(true), { token })
        );
      } catch (error) {
        const expired = error instanceof WidgetError &&
          error.code === "JWT_INVALID" &&
          error.reason === "jwt.expired";
        if (!expired || refreshed || !this.#options.getUserJWT) throw error;
        refreshed = true;
        token = await this.#options.getUserJWT();
      }
    }
  }

  async #userToken(): Promise<string | undefined> {
    const { getUserJWT, userJWT } = this.#options;
    if (!getUserJWT) return userJWT;
    try {
      return await getUserJWT();
    } catch {
      // The page's token endpoint failed: fall back to the token it gave, if any.
      return userJWT;
    }
  }

  async #withRateLimitRetries<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 0;; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (
          !(error instanceof WidgetError) || error.code !== "RATE_LIMITED" ||
          attempt >= MAX_RATE_LIMIT_RETRIES || this.closed
        ) throw error;
        this.#options.onError(error);
        await this.#sleep(rateLimitDelay(error.retryAfter));
      }
    }
  }

  async #call<T>(
    method: string,
    body: Record<string, unknown>,
    options: RpcCallOptions = {},
  ): Promise<T> {
    const { data } = await callRpc<T>(this.#options.apiBaseUrl, method, body, {
      ...options,
      signal: this.#abort.signal,
    });
    return data;
  }

  #adopt(boot: BootData): void {
    if (this.#boot?.conversation.id !== boot.conversation.id) {
      // Event ids are positions in one conversation.
      this.#lastEventId = "";
    }
    this.#boot = boot;
    if (boot.visitorId) {
      writeVisitorId(this.#options.organizationId, boot.visitorId);
    }
    clearTimeout(this.#renewTimer);
    this.#renewTimer = setTimeout(() => {
      this.#renew().catch((error) => this.#end(error));
    }, sessionRenewalDelay(boot.session.expiresAt, Date.now()));
  }

  /** Boots again for a fresh session token, keeping the conversation. */
  async #renew(): Promise<void> {
    const boot = await this.#bootWithToken();
    if (this.closed) return;
    this.#adopt(boot);
    this.#options.onRenewed(boot);
    for (const message of boot.conversation.messages) {
      this.#options.onMessage(message);
    }
  }

  async #runStream(): Promise<void> {
    let failures = 0;
    let renewed = false;
    while (!this.closed && failures < MAX_STREAM_RECONNECTS) {
      const openedAt = Date.now();
      try {
        const body = await openRpcStream(
          this.#options.apiBaseUrl,
          "chat.stream",
          {},
          {
            token: this.#boot?.session.token,
            lastEventId: this.#lastEventId,
            signal: this.#abort.signal,
          },
        );
        // Why the server ended the stream, if it said.
        let ended: string | undefined;
        await readEventStream(body, (event) => {
          // Kept per event, so a connection cut mid-stream still resumes where it was.
          this.#lastEventId = event.id;
          if (event.event === "closed") ended = closedReason(event.data);
          if (event.event === "typing") {
            const agent = parseTypingAgent(event.data);
            if (agent) this.#options.onTyping(agent);
          }
          if (event.event !== "message") return;
          const message = parseMessage(event.data);
          if (message) this.#options.onMessage(message);
        }, this.#lastEventId);
        if (this.closed) return;
        // A newer stream of this session took over.
        if (ended === "stream.replaced") return;
        if (ended === "conversation.closed" || ended?.startsWith("session.")) {
          // Boot again now: a closed conversation is replaced by a new one,
          // a revoked or expired session by a fresh one (or a security
          // error), and the stream follows.
          await this.#renew();
          if (this.closed) return;
          if (ended === "conversation.closed") {
            this.#options.onConversationClosed();
          }
          failures = 0;
          continue;
        }
      } catch (caught) {
        if (this.closed) return;
        let error = caught;
        if (
          error instanceof WidgetError && error.code === "SESSION_INVALID" &&
          !renewed
        ) {
          renewed = true;
          try {
            await this.#renew();
            continue;
          } catch (renewError) {
            error = renewError;
          }
        }
        if (error instanceof WidgetError) {
          if (FINAL_STREAM_CODES.includes(error.code)) {
            this.#end(error);
            return;
          }
          this.#options.onError(error);
          if (error.code === "RATE_LIMITED") {
            await this.#sleep(rateLimitDelay(error.retryAfter));
            failures++;
            continue;
          }
        }
      }
      if (Date.now() - openedAt >= HEALTHY_STREAM_MS) {
        failures = 0;
        renewed = false;
      }
      await this.#sleep(reconnectDelay(failures++));
    }
  }

  /** Reports a final error and ends the session. */
  #end(error: unknown): void {
    if (this.closed) return;
    this.#fail(error);
    this.close();
    this.#options.onEnded();
  }

  #fail(error: unknown): void {
    if (this.closed) return;
    this.#options.onError(
      error instanceof WidgetError
        ? error
        : new WidgetError({ code: "INTERNAL", message: String(error) }),
    );
  }

  #sleep(ms: number): Promise<void> {
    const signal = this.#abort.signal;
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      signal.addEventListener("abort", wake);
    });
  }
}

function parseMessage(data: string): ChatMessage | undefined {
  try {
    const value = JSON.parse(data) as Partial<ChatMessage> | null;
    if (
      value && typeof value.id === "string" && typeof value.text === "string" &&
      (value.author === "visitor" || value.author === "agent")
    ) return value as ChatMessage;
  } catch {
    // A malformed event is skipped; the next one may be fine.
  }
  return undefined;
}

/** The agent of a `typing` event. */
function parseTypingAgent(data: string): AgentIdentity | undefined {
  try {
    const agent = (JSON.parse(data) as { agent?: Partial<AgentIdentity> })
      .agent;
    if (typeof agent?.name === "string") return agent as AgentIdentity;
  } catch {
    // Skipped like a malformed message.
  }
  return undefined;
}

/** The reason of a `closed` event; servers before 0.2 sent only the conversation. */
function closedReason(data: string): string {
  try {
    const reason = (JSON.parse(data) as { reason?: unknown }).reason;
    return typeof reason === "string" ? reason : "conversation.closed";
  } catch {
    return "conversation.closed";
  }
}
