/**
 * The PostgreSQL connection pool of one store, through the npm `postgres`
 * client: every statement goes through {@linkcode PgDatabase.run}, which
 * counts it (round trips, for `/metrics` and the benchmark) and turns any
 * engine failure into a {@linkcode StoreUnavailableError} whose text never
 * holds the URL's password, and a value the database refuses (SQLSTATE class
 * 22) into a {@linkcode StoreDataError}.
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
  /** Seconds a connection attempt may take before it fails (default 3). */
  readonly connectTimeoutS?: number;
  /**
   * Milliseconds a statement may go unanswered before it is cancelled and
   * fails (default 10,000): a database that stops answering without closing
   * its sockets fails requests instead of hanging them.
   */
  readonly statementTimeoutMs?: number;
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
  readonly #sql: Sql;
  readonly #secrets: string[];
  readonly #target: PgTarget;
  readonly #options: PgDatabaseOptions;
  #roundTrips = 0;

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
    this.#sql = this.connect({ max: options.maxConnections ?? 10 });
  }

  /**
   * A new client on the same database (the change feed's own connection).
   *
   * @param extra Client options that differ from the pool's.
   * @returns A client the caller ends.
   */
  connect(extra: Partial<postgres.Options<Record<string, never>>>): Sql {
    const target = this.#target;
    return postgres({
      host: target.host,
      port: target.port,
      database: target.database,
      user: target.user,
      ...(target.password === "" ? {} : { password: target.password }),
      connect_timeout: this.#options.connectTimeoutS ?? 3,
      // Idle connections close, so a pool does not sit on dead sockets for
      // long after a database restart.
      idle_timeout: 30,
      onnotice: () => {},
      connection: { application_name: "parley" },
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
      ...extra,
    } as postgres.Options<Record<string, never>>) as unknown as Sql;
  }

  /**
   * Sends one statement (one round trip).
   *
   * @param what What it does, for the error message ("Counters").
   * @param statement Builds the statement on the pool.
   * @returns Its rows.
   * @throws {StoreUnavailableError} When the engine fails.
   * @throws {StoreDataError} When the database refuses a value of the statement.
   */
  async run<T extends readonly unknown[]>(
    what: string,
    statement: (sql: Sql) => Promise<T>,
  ): Promise<T> {
    this.#roundTrips++;
    const pending = statement(this.#sql);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeoutMs = this.#options.statementTimeoutMs ?? 10_000;
    const unanswered = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // The statement's own failure, if any, is not the one reported.
        pending.catch(() => {});
        (pending as { cancel?: () => unknown }).cancel?.();
        reject(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([pending, unanswered]);
    } catch (error) {
      throw this.#failure(what, error);
    } finally {
      clearTimeout(timer);
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
    await this.#sql.end({ timeout: 5 });
  }
}
