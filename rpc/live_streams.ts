/**
 * The open `chat.stream` and `agent.stream` replies of this process: capped,
 * and held to the credential that opened them for as long as they last.
 *
 * - **Caps.** At most `server.maxStreamsPerSession` per session or admin key
 *   (a newer stream ends the oldest, so a reconnect after a network blip just
 *   works), `server.maxStreamsPerIp` per client IP and `server.maxStreams` in
 *   all; beyond those, `429 RATE_LIMITED` with reason `stream.too_many`.
 *   They are counted per process (per host), which is where the descriptors
 *   and memory they hold are spent.
 * - **Re-checks.** Every stream's credential is checked again whenever the
 *   policy revision changes (within a second of the reload, and before any
 *   event is delivered under a new revision), every 30 s, and at its
 *   expiry. A stream whose credential fails ends with a last
 *   `event: closed` whose data names the reason (`session.revoked`,
 *   `session.expired`, `agent.key_invalid`, …); nothing is delivered after.
 *
 * @module
 */

import {
  EVENT_STREAM_HEADERS,
  eventStream,
  type ServerSentEvent,
} from "../chat/event_stream.ts";
import type { Evaluator, ServerSettings } from "../policy/types.ts";
import type { PolicySource } from "./policy_source.ts";
import { ChatError } from "../chat/chat_error.ts";
import { RpcError } from "./rpc_error.ts";

/** Who holds a stream, and how to tell whether they still may. */
export interface StreamHolder {
  /** What the per-credential cap counts: one session, or one admin key. */
  readonly credential: string;
  /** The client IP. */
  readonly ip: string;
  /** When the credential ends on its own (a session's expiry), epoch milliseconds. */
  readonly expiresAt?: number;
  /** The reason the credential no longer holds under `evaluator`, or `undefined`. */
  check(evaluator: Evaluator, now: number): string | undefined;
  /**
   * Called once the stream is admitted (past the caps); what it returns is
   * called once when the stream ends, however it ends.
   */
  hold?(): () => void;
}

/** Options of {@linkcode LiveStreams}. */
export interface LiveStreamsOptions {
  /** Clock, epoch milliseconds. */
  readonly now?: () => number;
  /** Longest time between two checks of a credential (default 30 000). */
  readonly recheckMs?: number;
  /** Heartbeat comment interval of every stream (default 15 000). */
  readonly heartbeatMs?: number;
}

/** The caps of `server`, with the documented defaults. */
interface StreamCaps {
  readonly perCredential: number;
  readonly perIp: number;
  readonly total: number;
}

interface OpenStream {
  readonly holder: StreamHolder;
  /** Ends what `holder.hold` started. */
  readonly release: () => void;
  /** Ends the stream's source, so its last event can be sent. */
  readonly ending: AbortController;
  /** The policy revision its credential was last checked under. */
  checkedRevision: string;
  checkedAt: number;
  /** Why it ends, once it does. */
  reason?: string;
}

/** How often the registry looks at revisions and expiries, milliseconds. */
const TICK_MS = 1_000;

/** The open streams of this process. */
export class LiveStreams {
  readonly #source: PolicySource;
  readonly #now: () => number;
  readonly #recheckMs: number;
  readonly #heartbeatMs: number;
  readonly #open = new Set<OpenStream>();
  readonly #byCredential = new Map<string, OpenStream[]>();
  readonly #byIp = new Map<string, number>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #revision: string;

  /**
   * @param source The policy in force, read at every check.
   * @param options Clock and intervals.
   */
  constructor(source: PolicySource, options: LiveStreamsOptions = {}) {
    this.#source = source;
    this.#now = options.now ?? Date.now;
    this.#recheckMs = options.recheckMs ?? 30_000;
    this.#heartbeatMs = options.heartbeatMs ?? 15_000;
    this.#revision = source.current.revision;
  }

  /** Streams open now. */
  get size(): number {
    return this.#open.size;
  }

  /**
   * Opens a stream for `holder`: `events` is called with a signal that
   * aborts when the client goes away or the stream must end.
   *
   * @param holder Who opens it.
   * @param events The source of the stream's events.
   * @param request The request; its signal aborts on disconnect.
   * @returns The `text/event-stream` reply.
   * @throws {RpcError} `RATE_LIMITED` (`stream.too_many`) beyond the caps.
   */
  open(
    holder: StreamHolder,
    events: (signal: AbortSignal) => AsyncIterable<ServerSentEvent<unknown>>,
    request: Request,
  ): Response {
    const caps = streamCaps(this.#source.current.spec.server);
    const same = this.#byCredential.get(holder.credential) ?? [];
    const replaced = same.slice(
      0,
      Math.max(0, same.length - caps.perCredential + 1),
    );
    const sameIp = replaced.filter((stream) => stream.holder.ip === holder.ip);
    if (
      (this.#byIp.get(holder.ip) ?? 0) - sameIp.length >= caps.perIp ||
      this.#open.size - replaced.length >= caps.total
    ) {
      throw new RpcError("RATE_LIMITED", "Too many open streams", {
        reason: "stream.too_many",
        retryAfter: 30,
      });
    }
    for (const stream of replaced) this.#end(stream, "stream.replaced");

    const now = this.#now();
    const stream: OpenStream = {
      holder,
      release: holder.hold?.() ?? (() => {}),
      ending: new AbortController(),
      checkedRevision: this.#source.current.revision,
      checkedAt: now,
    };
    this.#add(stream);
    const signal = AbortSignal.any([request.signal, stream.ending.signal]);
    const source = events(signal);
    const held = this.#held(stream, source);
    const body = eventStream(held, {
      signal: request.signal,
      heartbeatMs: this.#heartbeatMs,
    });
    request.signal.addEventListener("abort", () => this.#remove(stream), {
      once: true,
    });
    return new Response(body, { headers: EVENT_STREAM_HEADERS });
  }

  /** Ends every stream (shutdown) and stops the timer. */
  close(): void {
    for (const stream of [...this.#open]) this.#end(stream, "server.stopping");
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The source's events while the credential holds, then the last `closed`. */
  async *#held(
    stream: OpenStream,
    source: AsyncIterable<ServerSentEvent<unknown>>,
  ): AsyncGenerator<ServerSentEvent<unknown>, void, undefined> {
    try {
      try {
        for await (const event of source) {
          if (stream.reason === undefined) this.#checkIfStale(stream);
          if (stream.reason !== undefined) break;
          yield event;
        }
      } catch (error) {
        // A refusal of the watch once the stream is open (its conversation
        // went away): the client is told why, as with any other end.
        if (!(error instanceof ChatError)) throw error;
        stream.reason ??= `chat.${error.code}`;
      }
      if (stream.reason !== undefined) {
        yield { event: "closed", data: { reason: stream.reason } };
      }
    } finally {
      this.#remove(stream);
    }
  }

  /** Checks a stream whose last check was under another revision. */
  #checkIfStale(stream: OpenStream): void {
    if (stream.checkedRevision !== this.#source.current.revision) {
      this.#check(stream, this.#now());
    }
  }

  #check(stream: OpenStream, now: number): void {
    const evaluator = this.#source.current;
    const expired = stream.holder.expiresAt !== undefined &&
      stream.holder.expiresAt <= now;
    const reason = expired
      ? "session.expired"
      : stream.holder.check(evaluator, now);
    stream.checkedRevision = evaluator.revision;
    stream.checkedAt = now;
    if (reason !== undefined) this.#end(stream, reason);
  }

  #tick(): void {
    const now = this.#now();
    const revision = this.#source.current.revision;
    const changed = revision !== this.#revision;
    this.#revision = revision;
    for (const stream of [...this.#open]) {
      if (
        changed || now - stream.checkedAt >= this.#recheckMs ||
        (stream.holder.expiresAt !== undefined &&
          stream.holder.expiresAt <= now)
      ) {
        this.#check(stream, now);
      }
    }
  }

  #end(stream: OpenStream, reason: string): void {
    if (stream.reason !== undefined) return;
    stream.reason = reason;
    stream.ending.abort();
    this.#remove(stream);
  }

  #add(stream: OpenStream): void {
    this.#open.add(stream);
    const { credential, ip } = stream.holder;
    this.#byCredential.set(credential, [
      ...(this.#byCredential.get(credential) ?? []),
      stream,
    ]);
    this.#byIp.set(ip, (this.#byIp.get(ip) ?? 0) + 1);
    if (this.#timer === undefined) {
      this.#revision = this.#source.current.revision;
      this.#timer = setInterval(() => this.#tick(), TICK_MS);
    }
  }

  #remove(stream: OpenStream): void {
    if (!this.#open.delete(stream)) return;
    stream.release();
    const { credential, ip } = stream.holder;
    const rest = (this.#byCredential.get(credential) ?? []).filter((open) =>
      open !== stream
    );
    if (rest.length === 0) this.#byCredential.delete(credential);
    else this.#byCredential.set(credential, rest);
    const count = (this.#byIp.get(ip) ?? 1) - 1;
    if (count === 0) this.#byIp.delete(ip);
    else this.#byIp.set(ip, count);
    if (this.#open.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}

function streamCaps(server: ServerSettings): StreamCaps {
  return {
    perCredential: server.maxStreamsPerSession,
    perIp: server.maxStreamsPerIp,
    total: server.maxStreams,
  };
}
