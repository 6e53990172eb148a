/**
 * The PostgreSQL connection pool of one store, through the npm `postgres`
 * client: every statement goes through {@linkcode PgDatabase.run}, which
 * counts it (round trips, for `/metrics` and the benchmark) and turns any
 * engine failure into a {@linkcode StoreUnavailableError} whose text never
 * holds the URL's password, and a value the database refuses (SQLSTATE class
 * 22) into a {@linkcode StoreDataError}.
 *
 * ## A database that stops answering fails fast
 *
 * A database that is down refuses connections, and requests fail at once. One
 * that hangs (its processes stopped, a network that drops packets, a lock
 * held) answers nothing, and the client would wait for ever. So:
 *
 * - every statement has a deadline (`statementTimeoutMs`, 3 s; background
 *   sweeps pass a longer one), after which it is cancelled and fails;
 * - the server gives up on its own side too: a lock waited for longer than
 *   `lockTimeoutMs` (1.5 s) fails the statement, a transaction left idle is
 *   ended after 10 s, and no statement runs longer than 60 s;
 * - a missed deadline marks the database stalled and replaces the pool (the
 *   old one's sockets are closed a second later), since the client cannot
 *   tell which connection hangs. While stalled, a statement first waits for
 *   one shared probe (`SELECT 1` on a connection of its own, within
 *   `probeTimeoutMs`, 1 s): when it answers, the stall is over; when it does
 *   not, the statement fails at once, and the next probe goes out half a
 *   second later at the soonest. Requests queued behind a hung statement (the
 *   rate limiter's next batch) so fail within a second of it, not one
 *   deadline each, and recovery needs no restart.
 *
 * @module
 */

import postgres from "postgres";
import { dataErrorKind, StoreDataError } from "../store_data_error.ts";
import { StoreUnavailableError } from "../store_unavailable_error.ts";

/** The client's tagged-template query function. */
export type Sql = postgres.Sql;

/** Options of {@linkcode PgDatabase}. */
export interface PgDatabaseOptions {
  /** Pooled connections (default 10). */
  readonly maxConnections?: number;
  /** Seconds a connection attempt may take before it fails (default 2). */
  readonly connectTimeoutS?: number;
  /**
   * Milliseconds a statement may go unanswered before it is cancelled and
   * fails (default 3,000): a database that stops answering without closing
   * its sockets fails requests instead of hanging them.
   */
  readonly statementTimeoutMs?: number;
  /**
   * Milliseconds the server lets a statement wait for a lock (default 1,500:
   * the rate limiter's next batch may wait behind one such statement, and
   * both answer within 5 s).
   */
  readonly lockTimeoutMs?: number;
  /** Milliseconds the probe of a stalled database may take (default 1,000). */
  readonly probeTimeoutMs?: number;
}

/** Options of one {@linkcode PgDatabase.run}. */
export interface RunOptions {
  /** This statement's deadline, milliseconds (default the database's `statementTimeoutMs`). */
  readonly deadlineMs?: number;
}

/** The deadline of sweeps and purges, which may touch many rows. */
export const BACKGROUND_DEADLINE_MS = 30_000;
/** The server's own bound on any statement of the pool (beyond every deadline here). */
const SERVER_STATEMENT_TIMEOUT_MS = 60_000;
/** A transaction the client left open releases its locks after this long. */
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000;
/** Soonest another probe follows one that failed. */
const PROBE_INTERVAL_MS = 500;
/** Seconds a replaced pool's statements get before its sockets are closed. */
const REPLACED_POOL_GRACE_S = 1;

/** A database that missed a deadline, until a probe answers. */
interface Stall {
  probe?: Promise<boolean> | undefined;
  /** When the last probe failed, `performance.now()`. */
  failedAt?: number;
}

/** Connection settings from a `postgres://` URL, the password kept apart. */
export interface PgTarget {
  /** `postgres://host:port/database`, without credentials. */
  readonly location: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  /** Other query parameters (`sslmode`, …), passed on to the client. */
  readonly parameters: Readonly<Record<string, string>>;
}

/**
 * Reads a `postgres://` or `postgresql://` URL.
 *
 * @param url `postgres://user:password@host:port/database?…`
 * @returns Its parts, with a `location` safe to show.
 * @throws {RangeError} When it is not such a URL (the message never repeats it).
 */
export function parsePostgresUrl(url: string): PgTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RangeError("PARLEY_STORE: the PostgreSQL URL cannot be parsed");
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new RangeError(
      "PARLEY_STORE: a PostgreSQL URL starts with postgres:// or postgresql://",
    );
  }
  const host = decodeURIComponent(parsed.hostname.replace(/^\[|\]$/g, "")) ||
    "localhost";
  const port = parsed.port === "" ? 5432 : Number(parsed.port);
  const database = decodeURIComponent(parsed.pathname.slice(1)) ||
    decodeURIComponent(parsed.username) || "postgres";
  const parameters: Record<string, string> = {};
  for (const [name, value] of parsed.searchParams) parameters[name] = value;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    location: `postgres://${shownHost}:${port}/${encodeURIComponent(database)}`,
    host,
    port,
    database,
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    parameters,
  };
}

/** One store's pool, counted and scrubbed. */
export class PgDatabase {
  /** Where it is, without credentials. */
  readonly location: string;
  #sql: Sql;
  readonly #secrets: string[];
  readonly #target: PgTarget;
  readonly #options: PgDatabaseOptions;
  readonly #deadlineMs: number;
  #roundTrips = 0;
  #stall: Stall | undefined;
  /** Replaced pools still closing. */
  readonly #retired = new Set<Promise<void>>();

  /**
   * Prepares a pool; connections open on first use.
   *
   * @param target From {@linkcode parsePostgresUrl}.
   * @param options Pool size and connect timeout.
   */
  constructor(target: PgTarget, options: PgDatabaseOptions = {}) {
    this.#target = target;
    this.#options = options;
    this.location = target.location;
    this.#secrets = [target.password, encodeURIComponent(target.password)]
      .filter((secret) => secret.length > 0);
    this.#deadlineMs = Math.max(1, options.statementTimeoutMs ?? 3_000);
    this.#sql = this.#pool();
  }

  #pool(): Sql {
    return this.connect({ max: this.#options.maxConnections ?? 10 });
  }

  /**
   * A new client on the same database (the change feed's own connection).
   * Its sessions have the pool's server-side bounds (lock wait, idle
   * transaction, statement time) unless `extra.connection` sets others.
   *
   * @param extra Client options that differ from the pool's.
   * @returns A client the caller ends.
   */
  connect(extra: Partial<postgres.Options<Record<string, never>>>): Sql {
    const target = this.#target;
    const { connection, ...rest } = extra;
    return postgres({
      host: target.host,
      port: target.port,
      database: target.database,
      user: target.user,
      ...(target.password === "" ? {} : { password: target.password }),
      connect_timeout: this.#options.connectTimeoutS ?? 2,
      // Idle connections close, so a pool does not sit on dead sockets for
      // long after a database restart.
      idle_timeout: 30,
      onnotice: () => {},
      connection: {
        application_name: "parley",
        lock_timeout: this.#options.lockTimeoutMs ?? 1_500,
        idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
        statement_timeout: SERVER_STATEMENT_TIMEOUT_MS,
        ...connection,
      },
      // Counts and epoch milliseconds are exact in a JavaScript number.
      types: {
        bigint: {
          to: 20,
          from: [20],
          serialize: (value: number) => String(value),
          parse: (text: string) => Number(text),
        },
        // Custom types replace the client's defaults, so JSON is restated.
        json: {
          to: 3802,
          from: [114, 3802],
          serialize: (value: unknown) => JSON.stringify(value),
          parse: (text: string) => JSON.parse(text),
        },
      },
      ...(target.parameters.sslmode === undefined
        ? {}
        : { ssl: target.parameters.sslmode as "require" }),
      ...rest,
    } as postgres.Options<Record<string, never>>) as unknown as Sql;
  }

  /**
   * Sends one statement (one round trip), within its deadline.
   *
   * @param what What it does, for the error message ("Counters").
   * @param statement Builds the statement on the pool.
   * @param options The deadline, when not the database's.
   * @returns Its rows.
   * @throws {StoreUnavailableError} When the engine fails, misses the
   *   deadline, or has stalled and its probe does not answer.
   * @throws {StoreDataError} When the database refuses a value of the statement.
   */
  async run<T extends readonly unknown[]>(
    what: string,
    statement: (sql: Sql) => Promise<T>,
    options: RunOptions = {},
  ): Promise<T> {
    if (this.#stall !== undefined) await this.#recovered(what);
    this.#roundTrips++;
    const sql = this.#sql;
    const pending = statement(sql);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadlineMs = options.deadlineMs ?? this.#deadlineMs;
    const unanswered = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // The statement's own failure, if any, is not the one reported.
        pending.catch(() => {});
        (pending as { cancel?: () => unknown }).cancel?.();
        this.#stalled(sql);
        reject(new Error(`no answer within ${deadlineMs} ms`));
      }, deadlineMs);
    });
    try {
      return await Promise.race([pending, unanswered]);
    } catch (error) {
      throw this.#failure(what, error);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A statement on `sql` missed its deadline: the database is stalled until
   * a probe answers, and the pool is replaced (once per stalled pool).
   */
  #stalled(sql: Sql): void {
    this.#stall ??= {};
    if (sql !== this.#sql) return;
    this.#sql = this.#pool();
    const closing = sql.end({ timeout: REPLACED_POOL_GRACE_S })
      .catch(() => {})
      .finally(() => this.#retired.delete(closing));
    this.#retired.add(closing);
  }

  /** Waits for the stall to end, or fails the statement named `what`. */
  async #recovered(what: string): Promise<void> {
    const stall = this.#stall!;
    if (
      stall.probe === undefined && stall.failedAt !== undefined &&
      performance.now() - stall.failedAt < PROBE_INTERVAL_MS
    ) {
      throw this.#stillStalled(what);
    }
    stall.probe ??= this.#probe().then((answered) => {
      stall.probe = undefined;
      if (answered && this.#stall === stall) this.#stall = undefined;
      if (!answered) stall.failedAt = performance.now();
      return answered;
    });
    if (!await stall.probe) throw this.#stillStalled(what);
  }

  #stillStalled(what: string): StoreUnavailableError {
    return new StoreUnavailableError(
      `${what}: PostgreSQL at ${this.location} stopped answering`,
    );
  }

  /**
   * `SELECT 1` on a connection of its own, so a probe that hangs holds none
   * of the pool's. Not counted as a round trip: no request sent it.
   *
   * @returns Whether the database answered within `probeTimeoutMs`.
   */
  async #probe(): Promise<boolean> {
    const client = this.connect({ max: 1 });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        client`SELECT 1`.then(() => true, () => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(
            () => resolve(false),
            this.#options.probeTimeoutMs ?? 1_000,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      client.end({ timeout: 0 }).catch(() => {});
    }
  }

  /** Counts a statement sent on another connection (the listener, migrations). */
  counted(): void {
    this.#roundTrips++;
  }

  /** Statements sent so far. */
  roundTrips(): number {
    return this.#roundTrips;
  }

  /**
   * What a failed statement is: the database refusing a value it was given
   * (a data exception, SQLSTATE class 22: never an outage), or the engine
   * failing.
   */
  #failure(
    what: string,
    error: unknown,
  ): StoreDataError | StoreUnavailableError {
    const state = (error as { code?: unknown } | null)?.code;
    const kind = typeof state === "string" ? dataErrorKind(state) : undefined;
    if (kind === undefined) return this.unavailable(what, error);
    // The message may quote the value (e.g. the bytes of an invalid
    // sequence): only the code is kept.
    return new StoreDataError(
      `${what}: PostgreSQL refused a value (SQLSTATE ${state})`,
      { kind, engineCode: state as string },
    );
  }

  /**
   * An engine failure as the port's error, with the password scrubbed.
   *
   * @param what What failed.
   * @param error What the client threw.
   * @returns The error to throw.
   */
  unavailable(what: string, error: unknown): StoreUnavailableError {
    if (error instanceof StoreUnavailableError) return error;
    const raw = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: unknown } | null)?.code;
    const cause = new Error(this.scrub(raw));
    if (typeof code === "string") {
      Object.assign(cause, { code: this.scrub(code) });
    }
    return new StoreUnavailableError(
      `${what}: PostgreSQL at ${this.location} failed: ${this.scrub(raw)}`,
      { cause },
    );
  }

  /** `text` with every form of the password replaced. */
  scrub(text: string): string {
    let clean = text;
    for (const secret of this.#secrets) clean = clean.replaceAll(secret, "***");
    return clean;
  }

  /** Ends the pool (in-flight statements finish first, for up to 5 s). */
  async end(): Promise<void> {
    await Promise.all([this.#sql.end({ timeout: 5 }), ...this.#retired]);
  }
}
