/**
 * One visitor's session with the server, as cheap as what the visitor does:
 *
 * - **A page view reuses the stored session** (`stored_session.ts`) when it
 *   is the same identity and has time left, and asks the server nothing;
 *   otherwise it boots once (`chat.boot`, which carries the settings).
 * - **The live stream runs only while it is wanted**: while the panel is
 *   open, or while the visitor has an open conversation. It says which
 *   conversation it follows and what the settings are now (`ready`), then
 *   brings messages, typing and availability changes; a closed conversation
 *   ends it unless the panel is open.
 * - **Calls renew the session** when it is about to end, or once when the
 *   server no longer knows it; a renewal the policy refuses ends the
 *   session for good (reported, and forgotten from storage).
 * - The page goes with the first message of a page view, then `chat.setPage`
 *   on SPA navigations, and only while there is a conversation; the
 *   language the visitor reads goes with the first message of a page view,
 *   and again with a message after it changed.
 *
 * Reports every error through `onError` and never throws into the host page.
 *
 * @module
 */

import type {
  AgentIdentity,
  BootData,
  ChatMessage,
  ErrorCode,
  PageInfo,
  SentMessage,
  StreamReady,
  VisitorConversation,
  WidgetConfig,
} from "../wire/mod.ts";
import {
  MAX_RATE_LIMIT_RETRIES,
  MAX_STREAM_RECONNECTS,
  rateLimitDelay,
  reconnectDelay,
  sessionRenewalDelay,
} from "./backoff.ts";
import { readEventStream } from "./event_stream.ts";
import { callRpc, openRpcStream, type RpcCallOptions } from "./rpc_client.ts";
import {
  forgetStoredSession,
  identityOf,
  isReusable,
  readStoredSession,
  reuseMargin,
  sessionKey,
  type SessionStorage,
  type StoredSession,
  writeStoredSession,
} from "./stored_session.ts";
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
  /** The page the visitor is on now. */
  readonly page: () => PageInfo | undefined;
  /** The language the visitor reads the widget in now (a locale tag). */
  readonly language?: (() => string) | undefined;
  /** Where the session is kept between page loads (default `localStorage`). */
  readonly storage?: SessionStorage | undefined;
  /** Every error, including the rate limits that are being retried. */
  readonly onError: (error: WidgetError) => void;
  /** The conversation and its recent messages (a boot, or a stream's start); may repeat ids. */
  readonly onConversation: (conversation: VisitorConversation) => void;
  /** A live message (may repeat an id). */
  readonly onMessage: (message: ChatMessage) => void;
  /** An agent is typing in this conversation (live only, never replayed). */
  readonly onTyping: (agent: AgentIdentity) => void;
  /** Settings (and availability) as a renewal or a stream found them. */
  readonly onSettings: (config: WidgetConfig) => void;
  /** Availability changed while the stream was open. */
  readonly onAvailability: (
    availability: { agentsOnline: boolean; withinHours: boolean },
  ) => void;
  /** The session is over for good (the server refused it). */
  readonly onEnded: () => void;
  /** An agent closed the conversation; the visitor's next message starts a new one. */
  readonly onConversationClosed: () => void;
}

/** A successful start: the settings, and the conversation when a boot brought it. */
export interface SessionStart {
  readonly config: WidgetConfig;
  /** From a boot; a reused session's conversation comes on its stream. */
  readonly conversation: VisitorConversation | null;
  /** Whether this start booted (false: a stored session was reused). */
  readonly booted: boolean;
}

/**
 * Codes after which retrying cannot help until the page or policy changes
 * (`SESSION_INVALID` only once renewing the session has failed too).
 */
const FINAL_CODES: readonly ErrorCode[] = [
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
/** Messages a stream's `ready` event repeats when the panel has none yet. */
const RECENT_MESSAGES = 50;

/** A visitor's session. */
export class ChatSession {
  #options: ChatSessionOptions;
  #key: string;
  #abort = new AbortController();
  #session: StoredSession | undefined;
  #renewing: Promise<void> | undefined;
  #renewTimer: ReturnType<typeof setTimeout> | undefined;
  #panelOpen = false;
  /** The stream running now, and the token it opened with. */
  #stream: AbortController | undefined;
  #streamToken = "";
  /** The conversation the stream follows, and where it resumes. */
  #following: string | null = null;
  #lastEventId = "";
  /** The page last reported (JSON), so a navigation to the same page sends nothing. */
  #reportedPage = "";
  /** The language last sent with a message. */
  #reportedLanguage: string | undefined;

  /** Prepares a session; nothing is read or sent until `start`. */
  constructor(options: ChatSessionOptions) {
    this.#options = options;
    this.#key = sessionKey(
      options.apiBaseUrl,
      options.organizationId,
      options.appId,
    );
  }

  /** Whether `close` was called. */
  get closed(): boolean {
    return this.#abort.signal.aborted;
  }

  /**
   * Reuses the stored session, or boots. The stream starts with the first
   * `setPanelOpen`, once the page can show what it brings.
   *
   * @returns the settings, or `undefined` after a reported failure
   */
  async start(): Promise<SessionStart | undefined> {
    try {
      const token = await this.#userToken();
      const identity = identityOf(
        token,
        readVisitorId(this.#options.organizationId),
      );
      const stored = readStoredSession(this.#key, this.#options.storage);
      let start: SessionStart;
      if (isReusable(stored, identity, this.#inputs(), Date.now())) {
        this.#session = stored;
        start = { config: stored.config, conversation: null, booted: false };
      } else {
        const boot = await this.#boot(token);
        start = {
          config: boot.config,
          conversation: boot.conversation,
          booted: true,
        };
        // The boot showed the history: the stream starts after it.
        this.#following = boot.conversation?.id ?? null;
        this.#lastEventId = boot.conversation?.messages.at(-1)?.id ?? "";
      }
      return this.closed ? undefined : start;
    } catch (error) {
      this.#end(error);
      return undefined;
    }
  }

  /** Whether the visitor has an open conversation. */
  get hasConversation(): boolean {
    return this.#session?.conversation ?? false;
  }

  /**
   * The panel is open or closed (called once the panel is on the page, then
   * at each change): the stream runs while it is open or while there is a
   * conversation.
   */
  setPanelOpen(open: boolean): void {
    this.#panelOpen = open;
    if (this.#wanted()) this.#streamIfWanted();
    else this.#stopStream();
  }

  /**
   * Sends a message (the first one starts the conversation), with the page
   * and the language when this page view has not reported them yet.
   *
   * @throws {WidgetError} when the server refuses (already reported through `onError`)
   * @returns the stored message
   */
  async send(text: string): Promise<ChatMessage> {
    const page = this.#options.page();
    const json = JSON.stringify(page);
    const withPage = page && json !== this.#reportedPage;
    const language = this.#options.language?.();
    const body: Record<string, unknown> = withPage ? { text, page } : { text };
    if (language !== this.#reportedLanguage) body.language = language;
    const data = await this.#withSession<SentMessage>(
      "chat.sendMessage",
      body,
    );
    if (withPage) this.#reportedPage = json;
    this.#reportedLanguage = language;
    this.#conversationStarted(data.conversationId, data.message.id);
    return data.message;
  }

  /**
   * Leaves an address to be answered at (`chat.setContact`). A malformed
   * address (`BAD_REQUEST`) is the visitor's to fix, so it is not reported
   * through `onError`.
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
   * Tells the agents the visitor is typing, when there is a conversation
   * for them to see it in. Best effort: never retried or reported.
   */
  typing(): void {
    if (!this.hasConversation) return;
    this.#call("chat.typing", {}, { token: this.#session?.token })
      .catch(() => {});
  }

  /**
   * Reports the current page after an SPA navigation (`chat.setPage`),
   * unless there is no conversation (the first message carries it) or it is
   * the page reported last. Best effort, like `typing`.
   */
  pageChanged(): void {
    const page = this.#options.page();
    const json = JSON.stringify(page);
    if (!page || json === this.#reportedPage || !this.hasConversation) return;
    this.#reportedPage = json;
    this.#call("chat.setPage", { ...page }, { token: this.#session?.token })
      .catch(() => {});
  }

  /** Stops the stream and timers; pending calls resolve quietly. Storage is kept. */
  close(): void {
    this.#abort.abort();
    this.#stream?.abort();
    clearTimeout(this.#renewTimer);
  }

  /** Forgets the stored session (`shutdown()`, sign-out). */
  forget(): void {
    forgetStoredSession(this.#key, this.#options.storage);
  }

  // ---- the session -----------------------------------------------------------

  /**
   * A session call: renewed first when the session is about to end, and
   * made again once after renewing a session the server no longer knows.
   * Errors are reported unless their code is in `quiet`.
   */
  async #withSession<T>(
    method: string,
    body: Record<string, unknown>,
    quiet: readonly ErrorCode[] = [],
  ): Promise<T> {
    const once = (): Promise<T> =>
      this.#call<T>(method, body, { token: this.#session?.token });
    try {
      if (this.#expiring()) await this.#renew();
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

  /** Whether the session has less left than a reuse needs. */
  #expiring(): boolean {
    const session = this.#session;
    return !session ||
      session.expiresAt - Date.now() < reuseMargin(session.lifetime);
  }

  #inputs(): string {
    const o = this.#options;
    return JSON.stringify([o.userId, o.email, o.name]);
  }

  /** Boots with the page's identity and keeps the session. */
  async #boot(token?: string): Promise<BootData> {
    const o = this.#options;
    const body: Record<string, unknown> = { organizationId: o.organizationId };
    if (o.appId) body.app_id = o.appId;
    if (o.userId) body.user_id = o.userId;
    if (o.email) body.email = o.email;
    if (o.name) body.name = o.name;
    const visitorId = readVisitorId(o.organizationId);
    if (visitorId) body.visitorId = visitorId;
    const page = o.page();
    if (page) body.page = page;
    const { boot, token: used } = await this.#bootWithToken(body, token);
    if (this.closed) return boot;
    if (boot.visitorId) writeVisitorId(o.organizationId, boot.visitorId);
    // The page was recorded on the conversation, if there is one.
    if (page && boot.conversation) this.#reportedPage = JSON.stringify(page);
    const expiresAt = Date.parse(boot.session.expiresAt);
    this.#keep({
      token: boot.session.token,
      expiresAt,
      lifetime: expiresAt - Date.now(),
      identity: identityOf(used, boot.visitorId),
      inputs: this.#inputs(),
      config: boot.config,
      conversation: (boot.conversation?.messages.length ?? 0) > 0,
    });
    return boot;
  }

  /** Boots with the page's JWT; asks `getUserJWT` for a new one once if it expired. */
  async #bootWithToken(
    body: Record<string, unknown>,
    token: string | undefined,
  ): Promise<{ boot: BootData; token: string | undefined }> {
    let refreshed = false;
    for (;;) {
      try {
        const boot = await this.#withRateLimitRetries(() =>
          this.#call<BootData>("chat.boot", body, { token })
        );
        return { boot, token };
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

  /** Boots again for a fresh session (concurrent callers share one boot). */
  #renew(): Promise<void> {
    this.#renewing ??= (async () => {
      try {
        const boot = await this.#boot(await this.#userToken());
        if (this.closed) return;
        this.#options.onSettings(boot.config);
        if (boot.conversation) this.#options.onConversation(boot.conversation);
      } catch (error) {
        // Refused by the policy now: the session is over, here and in storage.
        if (error instanceof WidgetError && FINAL_CODES.includes(error.code)) {
          this.#end(error);
        }
        throw error;
      } finally {
        this.#renewing = undefined;
      }
    })();
    return this.#renewing;
  }

  #keep(session: StoredSession): void {
    this.#session = session;
    writeStoredSession(this.#key, session, this.#options.storage);
    this.#scheduleRenewal();
  }

  /** Updates what is kept of the session (the latest settings, the conversation). */
  #update(changes: Partial<StoredSession>): void {
    const session = this.#session;
    if (session) this.#keep({ ...session, ...changes });
  }

  /** While a stream runs, the session is renewed before it ends, so the stream goes on. */
  #scheduleRenewal(): void {
    clearTimeout(this.#renewTimer);
    const session = this.#session;
    if (!session || !this.#stream || this.closed) return;
    this.#renewTimer = setTimeout(
      () => this.#renew().catch(() => {}),
      sessionRenewalDelay(
        new Date(session.expiresAt).toISOString(),
        Date.now(),
      ),
    );
  }

  #conversationStarted(conversationId: string, messageId: string): void {
    if (!this.hasConversation) this.#update({ conversation: true });
    if (conversationId === this.#following) return this.#streamIfWanted();
    // A new stream for the new conversation, after the message just sent (shown already).
    this.#stopStream();
    this.#following = conversationId;
    this.#lastEventId = messageId;
    this.#streamIfWanted();
  }

  // ---- the stream ------------------------------------------------------------

  #wanted(): boolean {
    return !this.closed && (this.#panelOpen || this.hasConversation);
  }

  #streamIfWanted(): void {
    if (!this.#stream && this.#wanted()) void this.#runStream();
  }

  #stopStream(): void {
    this.#stream?.abort();
    this.#stream = undefined;
    clearTimeout(this.#renewTimer);
  }

  async #runStream(): Promise<void> {
    const stream = new AbortController();
    this.#stream = stream;
    this.#scheduleRenewal();
    // close() aborts it too.
    const signal = stream.signal;
    let failures = 0;
    let renewed = false;
    try {
      while (!signal.aborted && this.#wanted()) {
        const openedAt = Date.now();
        try {
          if (this.#expiring()) await this.#renew();
          const ended = await this.#streamOnce(signal);
          if (signal.aborted) return;
          // A newer stream of this session (another tab) took over.
          if (ended === "stream.replaced") return;
          if (ended === "conversation.closed") {
            this.#following = null;
            this.#lastEventId = "";
            this.#update({ conversation: false });
            this.#options.onConversationClosed();
            failures = 0;
            continue;
          }
          if (ended?.startsWith("session.")) {
            // Renewed meanwhile (the timer): the new token just needs a new stream.
            if (this.#streamToken === this.#session?.token) await this.#renew();
            failures = 0;
            continue;
          }
        } catch (caught) {
          if (signal.aborted) return;
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
            if (FINAL_CODES.includes(error.code)) {
              this.#end(error);
              return;
            }
            this.#options.onError(error);
            if (error.code === "RATE_LIMITED") {
              await this.#sleep(rateLimitDelay(error.retryAfter), signal);
              if (++failures >= MAX_STREAM_RECONNECTS) return;
              continue;
            }
          }
        }
        if (Date.now() - openedAt >= HEALTHY_STREAM_MS) {
          failures = 0;
          renewed = false;
        }
        if (failures >= MAX_STREAM_RECONNECTS) return;
        await this.#sleep(reconnectDelay(failures++), signal);
      }
    } finally {
      if (this.#stream === stream) {
        this.#stream = undefined;
        clearTimeout(this.#renewTimer);
      }
    }
  }

  /**
   * One stream connection, read to its end.
   *
   * @returns why the server ended it, if it said
   */
  async #streamOnce(signal: AbortSignal): Promise<string | undefined> {
    const token = this.#session?.token;
    this.#streamToken = token ?? "";
    const body: Record<string, unknown> = {};
    // A resumed stream has shown its history; a new one asks for it.
    if (!this.#lastEventId) body.recent = RECENT_MESSAGES;
    const page = this.#options.page();
    const json = JSON.stringify(page);
    if (page && json !== this.#reportedPage) body.page = page;
    const events = await openRpcStream(
      this.#options.apiBaseUrl,
      "chat.stream",
      body,
      { token, lastEventId: this.#lastEventId, signal },
    );
    let ended: string | undefined;
    await readEventStream(events, (event) => {
      // Kept per event, so a connection cut mid-stream still resumes where it was.
      this.#lastEventId = event.id;
      const data = parseJson(event.data);
      if (!data) return;
      switch (event.event) {
        case "ready": {
          const { conversation, config } = data as unknown as StreamReady;
          this.#following = conversation?.id ?? null;
          // The page was recorded on the conversation, if there is one.
          if (body.page && conversation) this.#reportedPage = json;
          this.#update({
            config,
            // Open, and (when its history was asked for) with a message in it.
            conversation: conversation !== null &&
              (!body.recent || conversation.messages.length > 0),
          });
          this.#options.onSettings(config);
          if (conversation) this.#options.onConversation(conversation);
          break;
        }
        case "message":
          if (typeof data.id === "string" && typeof data.text === "string") {
            this.#options.onMessage(data as unknown as ChatMessage);
          }
          break;
        case "typing": {
          const agent = data.agent as AgentIdentity | undefined;
          if (typeof agent?.name === "string") this.#options.onTyping(agent);
          break;
        }
        case "availability":
          this.#options.onAvailability(
            data as { agentsOnline: boolean; withinHours: boolean },
          );
          break;
        case "closed":
          ended = typeof data.reason === "string"
            ? data.reason
            : "conversation.closed";
      }
    }, this.#lastEventId);
    return ended;
  }

  // ---- plumbing ---------------------------------------------------------------

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
        await this.#sleep(rateLimitDelay(error.retryAfter), this.#abort.signal);
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

  /** Reports a final error, forgets the session and ends it. */
  #end(error: unknown): void {
    if (this.closed) return;
    this.#fail(error);
    this.forget();
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

  #sleep(ms: number, signal: AbortSignal): Promise<void> {
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

/** An event's JSON object; a malformed one is skipped (the next may be fine). */
function parseJson(data: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(data);
    if (typeof value === "object" && value !== null) {
      return value as Record<string, unknown>;
    }
  } catch {
    // Skipped.
  }
  return undefined;
}
