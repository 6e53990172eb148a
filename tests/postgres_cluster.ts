/**
 * A throwaway PostgreSQL cluster for tests: `initdb` and `pg_ctl` from
 * Debian's `postgresql` (`/usr/lib/postgresql/<version>/bin`), a temp dir, a
 * free port on 127.0.0.1, trust authentication on loopback and `fsync=off`.
 * As root the binaries run as user `postgres` (`runuser -u postgres --`).
 *
 * {@linkcode sharedCluster} starts one cluster per test process on first
 * use and stops it when the process exits; fault tests that stop the
 * database take their own from {@linkcode startCluster}. Each test store
 * gets a fresh database ({@linkcode PostgresCluster.createDatabase}).
 *
 * URLs carry a password although trust authentication ignores it, so tests
 * can assert it never shows in `/healthz`, logs, errors or metrics.
 *
 * @module
 */

import postgres from "postgres";

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

let shared: Promise<PostgresCluster> | undefined;

/**
 * The cluster of this test process, started on first use and stopped at exit.
 *
 * @returns The running cluster; do not stop it (use {@linkcode startCluster}).
 * @throws {Error} When PostgreSQL is missing or does not start.
 */
export function sharedCluster(): Promise<PostgresCluster> {
  shared ??= startCluster();
  return shared;
}

/** Clusters to stop when the process exits. */
const running = new Set<ClusterProcess>();

globalThis.addEventListener("unload", () => {
  for (const cluster of running) cluster.stopSync();
});

/**
 * Starts a private cluster.
 *
 * @returns The running cluster; dispose it with `await using`.
 * @throws {Error} When PostgreSQL is missing or does not start.
 */
export async function startCluster(): Promise<PostgresCluster> {
  const availability = postgresAvailability();
  if (!availability.available) {
    throw new Error(`PostgreSQL is not available: ${availability.reason}`);
  }
  const cluster = new ClusterProcess(availability.bin);
  await cluster.init();
  await cluster.start();
  running.add(cluster);
  return cluster;
}

class ClusterProcess implements PostgresCluster {
  readonly host = "127.0.0.1";
  readonly password = `pw-${crypto.randomUUID()}`;
  port = 0;
  readonly #bin: string;
  #dir = "";
  #databases = 0;
  #disposed = false;

  constructor(bin: string) {
    this.#bin = bin;
  }

  get #data(): string {
    return `${this.#dir}/data`;
  }

  async init(): Promise<void> {
    this.#dir = await Deno.makeTempDir({ prefix: "parley-pg-" });
    if (Deno.uid() === 0) {
      const uid = await idOf("-u");
      const gid = await idOf("-g");
      await Deno.chown(this.#dir, uid, gid);
    }
    this.port = freePort();
    await this.#run("initdb", [
      "-D",
      this.#data,
      "-U",
      "postgres",
      "--auth=trust",
      "--encoding=UTF8",
      "--locale=C",
      "--no-sync",
    ]);
  }

  async start(): Promise<void> {
    await this.#run("pg_ctl", [
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
    if (this.#databases === 0) {
      await this.#admin(async (sql) => {
        await sql.unsafe(
          `CREATE ROLE ${ROLE} LOGIN PASSWORD '${this.password}'`,
        );
      });
    }
  }

  async stop(): Promise<void> {
    await this.#run("pg_ctl", ["-D", this.#data, "-m", "immediate", "stop"]);
  }

  #paused: number[] = [];

  async pause(): Promise<void> {
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
      new Deno.Command(...this.#command("pg_ctl", [
        "-D",
        this.#data,
        "-m",
        "immediate",
        "stop",
      ])).outputSync();
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
    const name = `parley_${++this.#databases}_${
      crypto.randomUUID().slice(0, 8)
    }`;
    await this.#admin(async (sql) => {
      await sql.unsafe(`CREATE DATABASE ${name} OWNER ${ROLE}`);
    });
    return `postgres://${ROLE}:${this.password}@${this.host}:${this.port}/${name}`;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#disposed) return;
    running.delete(this);
    this.#disposed = true;
    await this.resume();
    await this.#run("pg_ctl", ["-D", this.#data, "-m", "immediate", "stop"])
      .catch(() => {});
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
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

  #command(
    binary: string,
    args: string[],
  ): [string, Deno.CommandOptions] {
    const path = `${this.#bin}/${binary}`;
    const asRoot = Deno.uid() === 0;
    return [asRoot ? "runuser" : path, {
      args: asRoot ? ["-u", "postgres", "--", path, ...args] : args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { LC_ALL: "C" },
    }];
  }

  async #run(binary: string, args: string[]): Promise<void> {
    const output = await new Deno.Command(...this.#command(binary, args))
      .output();
    if (!output.success) {
      const decoder = new TextDecoder();
      throw new Error(
        `${binary} failed (${output.code}): ${decoder.decode(output.stderr)}${
          decoder.decode(output.stdout)
        }`,
      );
    }
  }
}

/** The processes whose parent is `pid` (Linux `/proc`). */
async function childrenOf(pid: number): Promise<number[]> {
  const children: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      // "pid (comm) state ppid …": comm may hold spaces, so split after ")".
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) children.push(Number(entry.name));
    } catch {
      // Exited while listed.
    }
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
