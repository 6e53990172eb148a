/**
 * The open `chat.stream` and `agent.stream` replies of this process: capped,
 * held to the credential that opened them for as long as they last, and
 * cheap to hold.
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
 * - **Cost.** A stream is one object that is at once the body's source, the
 *   sink its events are pushed into and an entry of one timing wheel
 *   (`timer_wheel.ts`) that sends every stream's heartbeat, re-check and
 *   expiry from a single interval. No per-stream timer, `AbortController`,
 *   `request.signal` listener (reading `request.signal` alone costs Deno
 *   about 4 KB a request), generator or encoder: a client that goes away
 *   cancels the body, which ends the stream.
 *
 * @module
 */

import { EVENT_STREAM_HEADERS, frameEvent } from "../chat/event_stream.ts";
import type { Evaluator, ServerSettings } from "../policy/types.ts";
import type { StreamFrame } from "../wire/mod.ts";
import type { PolicySource } from "../policy_source/policy_source.ts";
import { ChatError } from "../chat/chat_error.ts";
import { RpcError } from "./rpc_error.ts";
import { TimerWheel, type WheelEntry } from "./timer_wheel.ts";

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

/** Where a stream's source pushes its events. */
export interface StreamSink {
  /** Sends one event (nothing once the stream has ended). */
  send(event: StreamFrame): void;
  /** Ends the stream after what was sent: the source is done. */
  close(): void;
  /** Ends the stream with an error; the client sees the body fail and resumes. */
  fail(error: unknown): void;
}

/** What a stream stops when it ends. */
export interface StreamSource {
  /** Called once, however the stream ends; the sink takes nothing after. */
  stop(): void;
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

/** What a stream asks of the registry that holds it. */
interface Registry {
  readonly recheckMs: number;
  readonly heartbeatMs: number;
  now(): number;
  /** The revision of the policy in force. */
  revision(): string;
  /** Checks the stream's credential now; it may end. */
  check(stream: OpenStream): void;
  /** Schedules the stream's next heartbeat, re-check or expiry. */
  schedule(stream: OpenStream): void;
  /** The stream ended: forget it. */
  removed(stream: OpenStream): void;
}

/** Chunks a client may leave unread before its stream is ended (it may resume). */
const MAX_BACKLOG = 1_000;
const encoder = new TextEncoder();
const PING = ": ping\n\n";

/** The open streams of this process. */
export class LiveStreams {
  readonly #source: PolicySource;
  readonly #open = new Set<OpenStream>();
  /** Streams by credential, oldest first (one on its own: the common case costs no array). */
  readonly #byCredential = new Map<string, OpenStream | OpenStream[]>();
  readonly #byIp = new Map<string, number>();
  readonly #wheel: TimerWheel<OpenStream>;
  readonly #registry: Registry;
  #revision: string;

  /**
   * @param source The policy in force, read at every check.
   * @param options Clock and intervals.
   */
  constructor(source: PolicySource, options: LiveStreamsOptions = {}) {
    this.#source = source;
    const now = options.now ?? Date.now;
    this.#revision = source.current.revision;
    this.#wheel = new TimerWheel<OpenStream>(
      (stream, at) => stream.visit(at),
      { now, onTick: (at) => this.#tick(at) },
    );
    this.#registry = {
      recheckMs: options.recheckMs ?? 30_000,
      heartbeatMs: options.heartbeatMs ?? 15_000,
      now,
      revision: () => this.#source.current.revision,
      check: (stream) => this.#check(stream, now()),
      schedule: (stream) => this.#wheel.schedule(stream, stream.nextVisit()),
      removed: (stream) => this.#remove(stream),
    };
  }

  /** Streams open now. */
  get size(): number {
    return this.#open.size;
  }

  /**
   * Opens a stream for `holder`. `start` is called at once with the stream's
   * sink and returns what to stop when the stream ends; an error it throws
   * refuses the stream (nothing was sent yet).
   *
   * @param holder Who opens it.
   * @param start Starts the stream's source.
   * @param first An event sent before anything the source sends.
   * @returns The `text/event-stream` reply.
   * @throws {RpcError} `RATE_LIMITED` (`stream.too_many`) beyond the caps.
   */
  open(
    holder: StreamHolder,
    start: (sink: StreamSink) => StreamSource,
    first?: StreamFrame,
  ): Response {
    const caps = streamCaps(this.#source.current.spec.server);
    const held = this.#byCredential.get(holder.credential);
    const same = held === undefined ? [] : Array.isArray(held) ? held : [held];
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
    for (const stream of replaced) stream.end("stream.replaced");

    const stream = new OpenStream(holder, this.#registry, start, first);
    this.#add(stream);
    let body: ReadableStream<Uint8Array>;
    try {
      body = new ReadableStream(stream);
    } catch (error) {
      stream.cancel();
      throw error;
    }
    return new Response(body, { headers: EVENT_STREAM_HEADERS });
  }

  /** Ends every stream (shutdown) and stops the timer. */
  close(): void {
    for (const stream of [...this.#open]) stream.end("server.stopping");
    this.#wheel.close();
  }

  #check(stream: OpenStream, now: number): void {
    const evaluator = this.#source.current;
    const expiresAt = stream.holder.expiresAt;
    const reason = expiresAt !== undefined && expiresAt <= now
      ? "session.expired"
      : stream.holder.check(evaluator, now);
    stream.checked(evaluator.revision, now);
    if (reason !== undefined) stream.end(reason);
  }

  /** A new policy revision re-checks every stream within a tick. */
  #tick(now: number): void {
    const revision = this.#source.current.revision;
    if (revision === this.#revision) return;
    this.#revision = revision;
    for (const stream of [...this.#open]) {
      if (stream.checkedRevision !== revision) this.#check(stream, now);
    }
  }

  #add(stream: OpenStream): void {
    if (this.#open.size === 0) this.#revision = this.#source.current.revision;
    this.#open.add(stream);
    const { credential, ip } = stream.holder;
    const same = this.#byCredential.get(credential);
    this.#byCredential.set(
      credential,
      same === undefined
        ? stream
        : [...(Array.isArray(same) ? same : [same]), stream],
    );
    this.#byIp.set(ip, (this.#byIp.get(ip) ?? 0) + 1);
    this.#wheel.schedule(stream, stream.nextVisit());
  }

  #remove(stream: OpenStream): void {
    if (!this.#open.delete(stream)) return;
    this.#wheel.cancel(stream);
    const { credential, ip } = stream.holder;
    const held = this.#byCredential.get(credential);
    const rest = Array.isArray(held)
      ? held.filter((open) => open !== stream)
      : held === undefined || held === stream
      ? []
      : [held];
    if (rest.length === 0) this.#byCredential.delete(credential);
    else {this.#byCredential.set(
        credential,
        rest.length === 1 ? rest[0]! : rest,
      );}
    const count = (this.#byIp.get(ip) ?? 1) - 1;
    if (count === 0) this.#byIp.delete(ip);
    else this.#byIp.set(ip, count);
  }
}

/**
 * One open stream: the body's underlying source, its events' sink, and an
 * entry of the registry's timing wheel.
 */
class OpenStream
  implements UnderlyingDefaultSource<Uint8Array>, StreamSink, WheelEntry {
  wheelSlot = -1;
  wheelDueAt = 0;
  readonly holder: StreamHolder;
  readonly #registry: Registry;
  #start: ((sink: StreamSink) => StreamSource) | undefined;
  #first: StreamFrame | undefined;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #source: StreamSource | undefined;
  #release: (() => void) | undefined;
  /** The policy revision its credential was last checked under. */
  checkedRevision: string;
  #checkedAt: number;
  #pingAt: number;
  #ended = false;

  constructor(
    holder: StreamHolder,
    registry: Registry,
    start: (sink: StreamSink) => StreamSource,
    first: StreamFrame | undefined,
  ) {
    this.holder = holder;
    this.#registry = registry;
    this.#start = start;
    this.#first = first;
    const now = registry.now();
    this.checkedRevision = registry.revision();
    this.#checkedAt = now;
    this.#pingAt = now + registry.heartbeatMs;
  }

  // ---- the body's underlying source ---------------------------------------

  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#controller = controller;
    const start = this.#start!;
    const first = this.#first;
    this.#start = undefined;
    this.#first = undefined;
    this.#release = this.holder.hold?.();
    if (first !== undefined) this.#write(frameEvent<unknown>(first));
    const source = start(this);
    if (this.#ended) source.stop();
    else this.#source = source;
  }

  /** The client went away (or the stream could not start). */
  cancel(): void {
    this.#finish();
  }

  // ---- the sink ------------------------------------------------------------

  send(event: StreamFrame): void {
    if (this.#ended) return;
    if (this.checkedRevision !== this.#registry.revision()) {
      this.#registry.check(this);
      if (this.#ended) return;
    }
    this.#write(frameEvent<unknown>(event));
  }

  close(): void {
    if (this.#ended) return;
    this.#finish();
    this.#controller?.close();
  }

  fail(error: unknown): void {
    if (this.#ended) return;
    // A refusal of the watch once the stream is open (its conversation went
    // away): the client is told why, as with any other end.
    if (error instanceof ChatError) return this.end(`chat.${error.code}`);
    this.#finish();
    this.#controller?.error(error);
  }

  // ---- the registry's side ---------------------------------------------------

  /** Ends the stream with a last `closed` event naming `reason`. */
  end(reason: string): void {
    if (this.#ended) return;
    this.#write(frameEvent({ event: "closed", data: { reason } }));
    this.close();
  }

  checked(revision: string, now: number): void {
    this.checkedRevision = revision;
    this.#checkedAt = now;
  }

  /** When the wheel should visit next: the heartbeat, re-check or expiry due first. */
  nextVisit(): number {
    const due = Math.min(
      this.#pingAt,
      this.#checkedAt + this.#registry.recheckMs,
    );
    const expiresAt = this.holder.expiresAt;
    return expiresAt === undefined ? due : Math.min(due, expiresAt);
  }

  /** The wheel's visit: expiry, re-check and heartbeat, whichever are due. */
  visit(now: number): void {
    if (this.#ended) return;
    const registry = this.#registry;
    if (
      now - this.#checkedAt >= registry.recheckMs ||
      (this.holder.expiresAt !== undefined && this.holder.expiresAt <= now)
    ) {
      registry.check(this);
      if (this.#ended) return;
    }
    if (now >= this.#pingAt) {
      this.#write(PING);
      this.#pingAt = now + registry.heartbeatMs;
    }
    if (!this.#ended) registry.schedule(this);
  }

  #write(text: string): void {
    const controller = this.#controller;
    if (controller === undefined || this.#ended) return;
    controller.enqueue(encoder.encode(text));
    if ((controller.desiredSize ?? 0) < -MAX_BACKLOG) {
      this.fail(
        new RpcError("RATE_LIMITED", "The stream fell too far behind", {
          reason: "stream.lagging",
        }),
      );
    }
  }

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#registry.removed(this);
    const source = this.#source;
    const release = this.#release;
    this.#source = undefined;
    this.#release = undefined;
    source?.stop();
    release?.();
  }
}

function streamCaps(server: ServerSettings): StreamCaps {
  return {
    perCredential: server.maxStreamsPerSession,
    perIp: server.maxStreamsPerIp,
    total: server.maxStreams,
  };
}
