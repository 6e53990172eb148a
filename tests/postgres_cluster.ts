/**
 * A throwaway PostgreSQL cluster for tests: `initdb` and `pg_ctl` from
 * Debian's `postgresql` (`/usr/lib/postgresql/<version>/bin`), a temp dir, a
 * free port on 127.0.0.1, trust authentication on loopback and `fsync=off`.
 * As root the binaries run as user `postgres` (`runuser -u postgres --`).
 *
 * `deno test` runs every file in one process (a worker each), so one
 * cluster serves them all: {@linkcode sharedCluster} starts it on first use,
 * each test store gets a fresh database on it
 * ({@linkcode PostgresCluster.createDatabase}), dropped when its file ends,
 * and a watcher stops it once the process is gone. Fault tests that stop or
 * pause the database take their own from {@linkcode startCluster}. `initdb`
 * runs once per process; every cluster starts from a copy of its output.
 *
 * URLs carry a password although trust authentication ignores it, so tests
 * can assert it never shows in `/healthz`, logs, errors or metrics.
 *
 * @module
 */

import postgres from "postgres";
import { statFields } from "./proc_stat.ts";

/** Where PostgreSQL's binaries are, or why there are none. */
export type PostgresAvailability =
  | { readonly available: true; readonly bin: string }
  | { readonly available: false; readonly reason: string };

/** A running cluster. */
export interface PostgresCluster extends AsyncDisposable {
  /** `127.0.0.1`. */
  readonly host: string;
  readonly port: number;
  /** The password every URL of this cluster carries (and nothing may show). */
  readonly password: string;
  /** A new, empty database owned by the `parley` role; its URL. */
  createDatabase(): Promise<string>;
  /** `pg_ctl stop -m immediate`: the database is gone at once, like a crash. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /**
   * `SIGSTOP` to the postmaster and every backend: the database hangs with
   * its sockets open, answering nothing (as a frozen VM or a stuck disk).
   */
  pause(): Promise<void>;
  /** `SIGCONT` to the processes {@linkcode pause} stopped. */
  resume(): Promise<void>;
}

/** The role every test database belongs to. */
const ROLE = "parley";

/**
 * Whether this machine can run a cluster.
 *
 * @returns The bin directory, or the reason it cannot.
 */
export function postgresAvailability(): PostgresAvailability {
  const root = "/usr/lib/postgresql";
  let versions: string[] = [];
  try {
    versions = [...Deno.readDirSync(root)]
      .filter((entry) => entry.isDirectory && /^\d+$/.test(entry.name))
      .map((entry) => entry.name)
      .sort((a, b) => Number(b) - Number(a));
  } catch {
    // No PostgreSQL installed.
  }
  for (const version of versions) {
    const bin = `${root}/${version}/bin`;
    try {
      Deno.statSync(`${bin}/initdb`);
      Deno.statSync(`${bin}/pg_ctl`);
      return { available: true, bin };
    } catch {
      // An incomplete install; try an older one.
    }
  }
  return {
    available: false,
    reason:
      `no ${root}/*/bin/initdb on this machine (apt-get install postgresql)`,
  };
}

/**
 * This test process's directory: the `initdb` template every cluster copies
 * and the shared cluster. Test files run in workers of one process, each with
 * its own module state, so they meet here, named by the process's id and start
 * time. A watcher outside the process removes it (and stops the shared
 * cluster) once the process is gone, however it ends.
 */
const PROCESS_DIR = `${
  Deno.env.get("TMPDIR") ?? "/tmp"
}/parley-pg-${Deno.pid}-${processStartTime()}`;

/** How long a worker waits for another to build the template or start the shared cluster. */
const WAIT_FOR_PEER_MS = 120_000;

let shared: Promise<PostgresCluster> | undefined;

/**
 * The cluster of this test process, started by the first test file that asks
 * and stopped when the process exits. Every file gets fresh databases on it
 * ({@linkcode PostgresCluster.createDatabase}) and drops them when it ends.
 *
 * @returns The running cluster; it cannot be stopped, paused or disposed
 *   (fault tests take their own from {@linkcode startCluster}).
 * @throws {Error} When PostgreSQL is missing or does not start.
 */
export function sharedCluster(): Promise<PostgresCluster> {
  shared ??= openSharedCluster();
  return shared;
}

/** Private clusters to stop when this file's worker ends. */
const running = new Set<ClusterProcess>();
/** Databases this file's worker created on the shared cluster. */
const sharedDatabases: { cluster: ClusterProcess; names: string[] }[] = [];

globalThis.addEventListener("unload", () => {
  for (const cluster of running) cluster.stopSync();
  for (const { cluster, names } of sharedDatabases) cluster.dropSync(names);
});

/**
 * Starts a private cluster.
 *
 * @returns The running cluster; dispose it with `await using`.
 * @throws {Error} When PostgreSQL is missing or does not start.
 */
export async function startCluster(): Promise<PostgresCluster> {
  const bin = binOrThrow();
  const template = await processTemplate(bin);
  const dir = await Deno.makeTempDir({ prefix: "parley-pg-" });
  const cluster = new ClusterProcess(bin, dir, freePort());
  running.add(cluster);
  try {
    await cluster.init(template);
    await cluster.start();
  } catch (error) {
    await cluster[Symbol.asyncDispose]();
    throw error;
  }
  return cluster;
}

async function openSharedCluster(): Promise<PostgresCluster> {
  const bin = binOrThrow();
  const template = await processTemplate(bin);
  const dir = `${PROCESS_DIR}/shared`;
  const address = `${dir}/address.json`;
  let cluster: ClusterProcess;
  if (await claim(dir)) {
    cluster = new ClusterProcess(bin, dir, freePort(), { shared: true });
    try {
      await cluster.init(template);
      await cluster.start();
    } catch (error) {
      await Deno.writeTextFile(`${dir}/failed.txt`, String(error));
      throw error;
    }
    await writeAtomically(
      address,
      JSON.stringify({ port: cluster.port, password: cluster.password }),
    );
  } else {
    const { port, password } = JSON.parse(
      await readWhenPresent(address, `${dir}/failed.txt`),
    );
    cluster = new ClusterProcess(bin, dir, port, { shared: true, password });
  }
  sharedDatabases.push({ cluster, names: cluster.databaseNames });
  return cluster;
}

/**
 * The `initdb` data directory of this process, made once (by whichever worker
 * asks first); a cluster copies it, which takes a fraction of `initdb`'s time.
 */
async function processTemplate(bin: string): Promise<string> {
  if (await claim(PROCESS_DIR)) {
    await ownedByPostgres(PROCESS_DIR);
    await watchProcess(bin);
    const building = `${PROCESS_DIR}/template.building`;
    try {
      await runAsPostgres(`${bin}/initdb`, [
        "-D",
        building,
        "-U",
        "postgres",
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",
      ]);
      await Deno.rename(building, `${PROCESS_DIR}/template`);
    } catch (error) {
      await Deno.writeTextFile(`${PROCESS_DIR}/failed.txt`, String(error));
      throw error;
    }
  } else {
    await readWhenPresent(
      `${PROCESS_DIR}/template/PG_VERSION`,
      `${PROCESS_DIR}/failed.txt`,
    );
  }
  return `${PROCESS_DIR}/template`;
}

/**
 * A detached shell that waits for this process to end, then stops the shared
 * cluster and removes {@linkcode PROCESS_DIR}: a worker's `unload` cannot
 * (later files still use them), and no code runs after a crash or a kill.
 */
async function watchProcess(bin: string): Promise<void> {
  const stop = Deno.uid() === 0
    ? `runuser -u postgres -- "$PG_CTL"`
    : `"$PG_CTL"`;
  const script = `while [ -e "/proc/$OWNER" ]; do sleep 1; done
if [ -f "$DIR/shared/data/postmaster.pid" ]; then
  ${stop} -D "$DIR/shared/data" -m immediate stop
fi
rm -rf "$DIR"`;
  const output = await new Deno.Command("setsid", {
    args: ["-f", "sh", "-c", script],
    env: {
      OWNER: String(Deno.pid),
      DIR: PROCESS_DIR,
      PG_CTL: `${bin}/pg_ctl`,
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    },
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
  if (!output.success) {
    throw new Error(`Could not start the cluster watcher (${output.code})`);
  }
}

class ClusterProcess implements PostgresCluster {
  readonly host = "127.0.0.1";
  readonly password: string;
  readonly port: number;
  /** Names of the databases this worker created, for the shared cluster's clean-up. */
  readonly databaseNames: string[] = [];
  readonly #bin: string;
  readonly #dir: string;
  readonly #shared: boolean;
  #roleCreated = false;
  #disposed = false;

  constructor(
    bin: string,
    dir: string,
    port: number,
    options: { shared?: boolean; password?: string } = {},
  ) {
    this.#bin = bin;
    this.#dir = dir;
    this.port = port;
    this.#shared = options.shared ?? false;
    this.password = options.password ?? `pw-${crypto.randomUUID()}`;
  }

  get #data(): string {
    return `${this.#dir}/data`;
  }

  /** Copies the process's `initdb` template into this cluster's directory. */
  async init(template: string): Promise<void> {
    await ownedByPostgres(this.#dir);
    await runAsPostgres("cp", ["-a", template, this.#data]);
  }

  async start(): Promise<void> {
    if (this.#roleCreated) this.#notShared("start again");
    await runAsPostgres(`${this.#bin}/pg_ctl`, [
      "-D",
      this.#data,
      "-l",
      `${this.#dir}/server.log`,
      "-w",
      "-t",
      "30",
      "-o",
      [
        `-c listen_addresses=${this.host}`,
        `-p ${this.port}`,
        `-k ${this.#dir}`,
        // Speed without losing commits: `pg_ctl stop -m immediate` loses
        // what synchronous_commit=off had not flushed, but the OS keeps
        // what fsync=off did not force to disk.
        "-c fsync=off",
        "-c full_page_writes=off",
        "-c max_connections=400",
        "-c shared_buffers=64MB",
      ].join(" "),
      "start",
    ]);
    if (!this.#roleCreated) {
      await this.#admin(async (sql) => {
        await sql.unsafe(
          `CREATE ROLE ${ROLE} LOGIN PASSWORD '${this.password}'`,
        );
      });
      this.#roleCreated = true;
    }
  }

  async stop(): Promise<void> {
    this.#notShared("stop");
    await runAsPostgres(`${this.#bin}/pg_ctl`, [
      "-D",
      this.#data,
      "-m",
      "immediate",
      "stop",
    ]);
  }

  #paused: number[] = [];

  async pause(): Promise<void> {
    this.#notShared("pause");
    const postmaster = Number(
      (await Deno.readTextFile(`${this.#data}/postmaster.pid`)).split("\n")[0],
    );
    // The postmaster first, so it starts no backend after the list is read.
    Deno.kill(postmaster, "SIGSTOP");
    this.#paused = [postmaster, ...await childrenOf(postmaster)];
    for (const pid of this.#paused.slice(1)) Deno.kill(pid, "SIGSTOP");
  }

  resume(): Promise<void> {
    for (const pid of this.#paused.reverse()) {
      try {
        Deno.kill(pid, "SIGCONT");
      } catch {
        // Gone since.
      }
    }
    this.#paused = [];
    return Promise.resolve();
  }

  stopSync(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    void this.resume();
    try {
      new Deno.Command(
        ...commandAsPostgres(`${this.#bin}/pg_ctl`, [
          "-D",
          this.#data,
          "-m",
          "immediate",
          "stop",
        ]),
      ).outputSync();
    } catch {
      // Already stopped.
    }
    try {
      Deno.removeSync(this.#dir, { recursive: true });
    } catch {
      // Best effort at exit.
    }
  }

  async createDatabase(): Promise<string> {
    const name = `parley_${crypto.randomUUID().replaceAll("-", "")}`;
    await this.#admin(async (sql) => {
      await sql.unsafe(`CREATE DATABASE ${name} OWNER ${ROLE}`);
    });
    this.databaseNames.push(name);
    return `postgres://${ROLE}:${this.password}@${this.host}:${this.port}/${name}`;
  }

  /**
   * Drops databases at once (`psql`, synchronously, for `unload`), cutting
   * the connections a file left open.
   */
  dropSync(names: readonly string[]): void {
    if (names.length === 0) return;
    try {
      new Deno.Command(`${this.#bin}/psql`, {
        args: [
          "-X",
          "-q",
          `--host=${this.host}`,
          `--port=${this.port}`,
          "--username=postgres",
          "--dbname=postgres",
          ...names.flatMap((name) => [
            "-c",
            `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`,
          ]),
        ],
        stdin: "null",
        stdout: "null",
        stderr: "null",
        env: { LC_ALL: "C" },
      }).outputSync();
    } catch {
      // Best effort: the cluster goes with the process anyway.
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#notShared("dispose");
    if (this.#disposed) return;
    running.delete(this);
    this.#disposed = true;
    await this.resume();
    await this.stop().catch(() => {});
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }

  /** Other test files use the shared cluster after this one: it is never stopped by a test. */
  #notShared(what: string): void {
    if (this.#shared) {
      throw new Error(
        `The shared cluster cannot ${what}: take a private one from startCluster()`,
      );
    }
  }

  async #admin(work: (sql: postgres.Sql) => Promise<void>): Promise<void> {
    const sql = postgres({
      host: this.host,
      port: this.port,
      user: "postgres",
      database: "postgres",
      max: 1,
      onnotice: () => {},
      connect_timeout: 10,
    });
    try {
      await work(sql);
    } finally {
      await sql.end({ timeout: 5 });
    }
  }
}

/** A command run as user `postgres` when this process is root (PostgreSQL refuses root). */
function commandAsPostgres(
  path: string,
  args: string[],
): [string, Deno.CommandOptions] {
  const asRoot = Deno.uid() === 0;
  return [asRoot ? "runuser" : path, {
    args: asRoot ? ["-u", "postgres", "--", path, ...args] : args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { LC_ALL: "C" },
  }];
}

async function runAsPostgres(path: string, args: string[]): Promise<void> {
  const output = await new Deno.Command(...commandAsPostgres(path, args))
    .output();
  if (!output.success) {
    const decoder = new TextDecoder();
    throw new Error(
      `${path} failed (${output.code}): ${decoder.decode(output.stderr)}${
        decoder.decode(output.stdout)
      }`,
    );
  }
}

/** The PostgreSQL bin directory, or an error saying why there is none. */
function binOrThrow(): string {
  const availability = postgresAvailability();
  if (!availability.available) {
    throw new Error(`PostgreSQL is not available: ${availability.reason}`);
  }
  return availability.bin;
}

/** Creates `dir`; false when another worker already did. */
async function claim(dir: string): Promise<boolean> {
  try {
    await Deno.mkdir(dir);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return false;
    throw error;
  }
}

/** As root, hands `dir` to user `postgres`, which runs the clusters. */
async function ownedByPostgres(dir: string): Promise<void> {
  if (Deno.uid() !== 0) return;
  await Deno.chown(dir, await idOf("-u"), await idOf("-g"));
}

async function writeAtomically(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(`${path}.partial`, text);
  await Deno.rename(`${path}.partial`, path);
}

/**
 * Waits for a file another worker writes when it is done, or fails with
 * what that worker wrote to `failure`.
 */
async function readWhenPresent(path: string, failure: string): Promise<string> {
  const deadline = Date.now() + WAIT_FOR_PEER_MS;
  while (Date.now() < deadline) {
    try {
      return await Deno.readTextFile(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    const failed = await Deno.readTextFile(failure).catch(() => undefined);
    if (failed !== undefined) throw new Error(failed);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${path} did not appear in ${WAIT_FOR_PEER_MS} ms`);
}

/** Field 22 of `/proc/self/stat`: tells this process from a later one with its id. */
function processStartTime(): string {
  return statFields("self")?.[19] ?? "0";
}

/** The processes whose parent is `pid` (Linux `/proc`). */
async function childrenOf(pid: number): Promise<number[]> {
  const children: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    // An entry that exited while listed has no fields.
    const parent = statFields(Number(entry.name))?.[1];
    if (Number(parent) === pid) children.push(Number(entry.name));
  }
  return children;
}

async function idOf(flag: "-u" | "-g"): Promise<number> {
  const output = await new Deno.Command("id", {
    args: [flag, "postgres"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(
      "Running as root needs a postgres user to run PostgreSQL as",
    );
  }
  return Number(new TextDecoder().decode(output.stdout).trim());
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
