/**
 * A `Deno.serve` listener that outlives its accept errors.
 *
 * When `accept()` fails — with EMFILE once every file descriptor is taken —
 * `Deno.serve` stops listening for good and rejects `finished`
 * (denoland/deno#10148); unhandled, that rejection ends the process. The
 * supervisor catches it, logs one line, shuts the dead listener down (which
 * closes its idle and half-sent connections, the descriptors an attacker
 * holds, while in-flight requests and open streams finish), and listens again
 * on the same port with a bounded backoff until it binds.
 *
 * @module
 */

/** The first wait before listening again; it doubles up to the cap. */
export const FIRST_RESTART_DELAY_MS = 50;
/** The longest wait between two attempts to listen again. */
export const MAX_RESTART_DELAY_MS = 1_000;

/** Options of {@linkcode ListenerSupervisor}. */
export interface ListenerSupervisorOptions {
  readonly hostname: string;
  /** `0` picks a free port; restarts reuse the port bound first. */
  readonly port: number;
  readonly handler: Deno.ServeHandler<Deno.NetAddr>;
  /** Called once, when the first listener is bound. */
  readonly onListen?: (address: Deno.NetAddr) => void;
  /** Where a failure and the recovery are reported (default: stderr). */
  readonly log?: (line: string) => void;
}

/**
 * The wait before attempt `attempt` (0-based) of one outage to listen again.
 *
 * @param attempt Attempts already made in this outage.
 * @returns Milliseconds, doubling from {@linkcode FIRST_RESTART_DELAY_MS} up
 * to {@linkcode MAX_RESTART_DELAY_MS}.
 */
export function restartDelayMs(attempt: number): number {
  return Math.min(
    MAX_RESTART_DELAY_MS,
    FIRST_RESTART_DELAY_MS * 2 ** Math.min(attempt, 30),
  );
}

/** An outage: from a listener's failure until a restarted one serves. */
interface Outage {
  readonly since: number;
  /** Attempts to listen again so far (for the backoff). */
  attempts: number;
  /** Listeners bound in this outage. */
  restarts: number;
  /** When the latest of them was bound. */
  listeningAt?: number;
}

/**
 * Keeps one `Deno.serve` listener on a fixed address: binds in the
 * constructor, restarts the listener whenever it fails, stops on
 * {@linkcode ListenerSupervisor.shutdown}.
 */
export class ListenerSupervisor {
  /** The address bound first; every restart binds the same port. */
  readonly address: Deno.NetAddr;
  readonly #options: ListenerSupervisorOptions;
  readonly #log: (line: string) => void;
  #current: Deno.HttpServer<Deno.NetAddr> | undefined;
  /** Failed listeners still draining their in-flight requests. */
  readonly #draining = new Set<Promise<void>>();
  /** Counts listeners, so a request on a dead one's connection is not taken for recovery. */
  #generation = 0;
  #outage: Outage | undefined;
  #restarts = 0;
  #stopping = false;
  /** Ends a backoff wait early, on shutdown. */
  #wake: (() => void) | undefined;
  readonly #supervised: Promise<void>;

  /**
   * Binds the first listener and starts supervising it.
   *
   * @param options Address, handler and observers.
   * @throws {Deno.errors.AddrInUse} (or another bind error) when the first
   * bind fails: a wrong address at start is not retried.
   */
  constructor(options: ListenerSupervisorOptions) {
    this.#options = options;
    this.#log = options.log ?? ((line) => console.error(line));
    const first = this.#serve(options.port);
    this.address = first.addr;
    options.onListen?.(first.addr);
    this.#supervised = this.#supervise(first);
  }

  /** Listeners started after a failure, over the supervisor's life. */
  get restarts(): number {
    return this.#restarts;
  }

  /**
   * Stops listening for good: no restart follows, a backoff wait ends, and
   * the current and draining listeners finish their in-flight requests.
   *
   * @returns Resolves once every listener has shut down.
   */
  async shutdown(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await Promise.all([this.#current?.shutdown(), ...this.#draining]);
    await this.#supervised;
  }

  #serve(port: number): Deno.HttpServer<Deno.NetAddr> {
    const generation = ++this.#generation;
    const handler = this.#options.handler;
    return Deno.serve({
      hostname: this.#options.hostname,
      port,
      // Without onListen, Deno prints its own start-up line on every restart.
      onListen: () => {},
    }, (request, info) => {
      if (this.#outage !== undefined && generation === this.#generation) {
        this.#recovered();
      }
      return handler(request, info);
    });
  }

  async #supervise(first: Deno.HttpServer<Deno.NetAddr>): Promise<void> {
    let server: Deno.HttpServer<Deno.NetAddr> | undefined = first;
    this.#current = first;
    while (server !== undefined) {
      const failure = await server.finished.then(
        () => new Error("the listener stopped"),
        (error: unknown) => error,
      );
      if (this.#stopping) return;
      this.#drain(server);
      this.#current = undefined;
      if (this.#outage === undefined) {
        this.#outage = { since: Date.now(), attempts: 0, restarts: 0 };
        this.#log(
          `parley: listener on ${this.#url()} failed (${
            describe(failure)
          }); closing its idle connections and listening again`,
        );
      }
      server = await this.#listenAgain(this.#outage);
    }
  }

  /** Shuts a failed listener down in the background; kept for shutdown(). */
  #drain(server: Deno.HttpServer<Deno.NetAddr>): void {
    const drained: Promise<void> = server.shutdown().catch(() => {}).finally(
      () => this.#draining.delete(drained),
    );
    this.#draining.add(drained);
  }

  /**
   * Binds the same port again, waiting between attempts; undefined on
   * shutdown. The new listener becomes current in the tick it binds, so a
   * shutdown() never misses it.
   */
  async #listenAgain(
    outage: Outage,
  ): Promise<Deno.HttpServer<Deno.NetAddr> | undefined> {
    while (true) {
      await this.#sleep(restartDelayMs(outage.attempts++));
      if (this.#stopping) return undefined;
      try {
        const server = this.#serve(this.address.port);
        this.#current = server;
        outage.restarts++;
        outage.listeningAt = Date.now();
        this.#restarts++;
        return server;
      } catch {
        // No descriptor for the socket yet, or the port taken meanwhile:
        // the next attempt comes after a longer wait.
      }
    }
  }

  #recovered(): void {
    const outage = this.#outage!;
    this.#outage = undefined;
    const after = (time: number) => `${time - outage.since} ms`;
    this.#log(
      `parley: serving again on ${this.#url()}: listening ${
        after(outage.listeningAt!)
      } after the failure (${outage.restarts} ${
        outage.restarts === 1 ? "restart" : "restarts"
      }), first request ${after(Date.now())} after it`,
    );
  }

  #sleep(ms: number): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    const timer = setTimeout(resolve, ms);
    this.#wake = () => {
      clearTimeout(timer);
      resolve();
    };
    return promise.finally(() => this.#wake = undefined);
  }

  #url(): string {
    return `http://${this.address.hostname}:${this.address.port}/`;
  }
}

function describe(error: unknown): string {
  return error instanceof Error
    ? `${error.name}: ${error.message}`
    : String(error);
}
