/**
 * A policy directory read from disk and kept current, one file at a time:
 * the file watcher names the files that changed and only those are read and
 * compiled; `SIGHUP` rescans the directory and reads only files whose
 * modification time or size changed (or that appeared or went).
 *
 * At start, a broken organization file is skipped (logged, and shown in
 * `/healthz`) so every other organization is served; a broken
 * `_parley.yaml` is fatal, since there are no last good settings to keep.
 * Later, every broken file keeps its last good version in force.
 *
 * Files are read bounded and confined to the directory
 * (`policy_io/policy_directory_reader.ts`) and validated in a worker with a time limit
 * (`policy_worker.ts`), so requests are answered while any file is read and
 * compiled. Only positions and codes reach `/healthz`; the log gets every
 * message, escaped and folded (`policy_log_lines.ts`).
 *
 * @module
 */

import { PolicyError } from "../policy/error.ts";
import {
  PolicyDirectory,
  type PolicyFileChange,
  type PolicyFileReport,
  SETTINGS_FILE_NAME,
} from "../policy/policy_directory.ts";
import type { Evaluator, PolicyFileError } from "../policy/types.ts";
import {
  type FileStamp,
  isPolicyFileName,
  PolicyDirectoryReader,
} from "../policy_io/policy_directory_reader.ts";
import { readFailure } from "../policy_io/read_failure.ts";
import { escapeLogText, problemLogLines } from "./policy_log_lines.ts";
import type { PolicySource } from "./policy_source.ts";
import { PolicyWorker } from "./policy_worker.ts";
import { ReloadTrigger } from "./reload_trigger.ts";
import type { FileReloadResult } from "./policy_file_source.ts";

/** Options of {@linkcode PolicyDirectorySource.open}. */
export interface PolicyDirectorySourceOptions {
  /** How long one file may take to compile, milliseconds (default 20 s). */
  readonly compileTimeLimitMs?: number;
  /** Told of every file applied after the start. */
  readonly onReload?: (result: FileReloadResult) => void;
  /** Where problems and reloads are written (default: stderr). */
  readonly log?: (line: string) => void;
}

/** What a file looked like when it was last read; size -1 when it could not be. */
const UNREAD: FileStamp = Object.freeze({ mtime: null, size: -1 });

/** Files read at once during a full scan. */
const READ_CONCURRENCY = 32;

/** A hot-reloading policy directory. */
export class PolicyDirectorySource implements PolicySource {
  /** The directory, as given without trailing slashes. */
  readonly path: string;
  readonly #directory: PolicyDirectory;
  readonly #worker: PolicyWorker;
  /** Reads the directory's files, confined to it. */
  readonly #files: PolicyDirectoryReader;
  readonly #options: PolicyDirectorySourceOptions;
  readonly #log: (line: string) => void;
  readonly #seen = new Map<string, FileStamp>();
  #lastReloadError: string | null = null;
  #lastFailedFile: string | null = null;
  #policyErrors: readonly PolicyFileError[] = [];
  #trigger: ReloadTrigger | undefined;
  /** Reloads run one after another, never interleaved. */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(
    files: PolicyDirectoryReader,
    options: PolicyDirectorySourceOptions,
  ) {
    this.path = files.path;
    this.#files = files;
    this.#options = options;
    this.#log = options.log ?? ((line) => console.error(line));
    this.#worker = new PolicyWorker(
      options.compileTimeLimitMs === undefined
        ? {}
        : { timeLimitMs: options.compileTimeLimitMs },
    );
    // The worker reads the environment; each organization's file sees only
    // the variables `_parley.yaml`'s `secrets:` assigns to it.
    this.#directory = new PolicyDirectory({ validate: this.#worker.validate });
  }

  /**
   * Reads and compiles every file of the directory. Broken organization
   * files are logged and skipped; a broken `_parley.yaml` is fatal.
   *
   * @param path The policy directory.
   * @param options Environment, reload observer and log.
   * @returns The source, not yet watching (call {@linkcode watch}).
   * @throws {PolicyError} When `_parley.yaml` does not compile.
   * @throws {Deno.errors.NotFound} When the directory does not exist.
   */
  static async open(
    path: string,
    options: PolicyDirectorySourceOptions = {},
  ): Promise<PolicyDirectorySource> {
    const source = new PolicyDirectorySource(
      await PolicyDirectoryReader.open(path),
      options,
    );
    try {
      const names = await source.#files.policyFileNames();
      const update = await source.#directory.apply(
        await source.#readAll(names),
      );
      if (source.#directory.settingsUnusable) {
        const settings = update.files.find((file) =>
          file.file === SETTINGS_FILE_NAME
        );
        throw new PolicyError(
          settings?.problems ?? [],
          `${source.path}/${SETTINGS_FILE_NAME}`,
          settings?.omitted,
        );
      }
      for (const file of update.files) {
        if (file.ok) continue;
        source.#log(
          `policy: skipping ${
            source.#where(file.file)
          }; its organization is not served until it compiles`,
        );
        source.#logProblems(file);
      }
      source.#log(
        `policy: ${
          escapeLogText(source.path)
        }: ${source.current.spec.organizations.size} organizations, ${
          update.files.filter((file) => !file.ok).length
        } files failed`,
      );
      source.#refreshErrors();
      return source;
    } catch (error) {
      source.close();
      throw error;
    }
  }

  /** The evaluator in force. */
  get current(): Evaluator {
    return this.#directory.evaluator;
  }

  /** The latest failure while some file's latest version fails; `null` otherwise. */
  get lastReloadError(): string | null {
    return this.#lastReloadError;
  }

  /** Every file whose latest version failed, with its first error. */
  get policyErrors(): readonly PolicyFileError[] {
    return this.#policyErrors;
  }

  /**
   * Reads the named files again, or rescans the whole directory (by
   * modification time and size) when none are named.
   *
   * @param names File names in the directory; all files when absent.
   * @returns Whether every file applied is now in force.
   */
  reload(names?: Iterable<string>): Promise<boolean> {
    const list = names === undefined ? undefined : [...names];
    const run = this.#queue.then(() => this.#reload(list));
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Starts reloading on file changes and `SIGHUP`. */
  watch(): void {
    if (this.#trigger !== undefined) return;
    this.#trigger = new ReloadTrigger(this.path, ({ names, rescan }) => {
      if (rescan) void this.reload();
      else if (names.size > 0) void this.reload(names);
    }, { relevant: isPolicyFileName });
    this.#trigger.start();
  }

  /** Stops watching and ends the compile worker. */
  close(): void {
    this.#trigger?.close();
    this.#trigger = undefined;
    this.#worker.close();
  }

  async #reload(names: string[] | undefined): Promise<boolean> {
    let changes: [string, PolicyFileChange][];
    try {
      changes = names === undefined
        ? await this.#rescan()
        : await this.#readAll(names);
    } catch (error) {
      // The directory itself is gone or unreadable: keep everything.
      this.#lastReloadError = `unreadable-directory (${readFailure(error)})`;
      this.#log(
        `policy: cannot read ${escapeLogText(this.path)}: ${
          readFailure(error)
        }; keeping revision ${this.current.revision}`,
      );
      return false;
    }
    if (changes.length === 0) return true;
    const update = await this.#directory.apply(changes);
    const revision = update.evaluator.revision;
    for (const file of update.files) this.#announce(file, revision);
    this.#refreshErrors(update.files);
    return update.files.every((file) => file.ok);
  }

  #announce(file: PolicyFileReport, revision: string): void {
    const where = this.#where(file.file);
    if (file.ok) {
      this.#log(
        file.removed
          ? `policy: ${where} removed, revision ${revision}`
          : `policy: reloaded ${where}, revision ${revision}`,
      );
    } else {
      this.#log(
        `policy: ${where} failed, keeping its last good version (revision ${revision})`,
      );
      this.#logProblems(file);
    }
    const first = file.problems.find((problem) => problem.severity === "error");
    this.#options.onReload?.({
      file: file.file,
      ok: file.ok,
      revision,
      ...(first === undefined ? {} : {
        error: `${file.file}:${first.line}:${first.column} ${first.code}`,
      }),
    });
  }

  #logProblems(file: PolicyFileReport): void {
    for (
      const line of problemLogLines(
        `${this.path}/${file.file}`,
        file.problems,
        file.omitted,
      )
    ) {
      this.#log(line);
    }
  }

  /**
   * `/healthz`'s view: every failing file, and the latest failure while any
   * file fails (the first still failing once the latest one is fixed).
   */
  #refreshErrors(latest: readonly PolicyFileReport[] = []): void {
    this.#policyErrors = Object.freeze(this.#directory.failures());
    const stillFailing = new Set(this.#policyErrors.map((error) => error.file));
    const report = latest.find((file) => !file.ok) ??
      (this.#lastFailedFile !== null && stillFailing.has(this.#lastFailedFile)
        ? undefined
        : this.#policyErrors[0] &&
          this.#directory.report(this.#policyErrors[0].file));
    if (stillFailing.size === 0) {
      this.#lastReloadError = null;
      this.#lastFailedFile = null;
    } else if (report !== undefined) {
      this.#lastReloadError = failureSummary(report);
      this.#lastFailedFile = report.file;
    }
  }

  /** A file as the log names it, escaped. */
  #where(name: string): string {
    return escapeLogText(`${this.path}/${name}`);
  }

  /** The files whose modification time or size changed, appeared or went. */
  async #rescan(): Promise<[string, PolicyFileChange][]> {
    const names = await this.#files.policyFileNames();
    const listed = new Set(names);
    const changed: string[] = [];
    await forEachLimited(names, async (name) => {
      const seen = this.#seen.get(name);
      const now = await this.#files.stamp(name);
      if (
        seen === undefined || typeof now !== "object" || seen.size === -1 ||
        "unreadable" in now || now.mtime !== seen.mtime ||
        now.size !== seen.size
      ) {
        changed.push(name);
      }
    });
    for (const name of this.#seen.keys()) {
      if (!listed.has(name)) changed.push(name);
    }
    return await this.#readAll(changed.sort());
  }

  /**
   * Reads files; a missing one is removed, an unreadable or refused one
   * reported (and read again by every rescan).
   */
  async #readAll(
    names: readonly string[],
  ): Promise<[string, PolicyFileChange][]> {
    const changes: [string, PolicyFileChange][] = [];
    await forEachLimited(names, async (name) => {
      const read = await this.#files.read(name);
      switch (read.kind) {
        case "missing":
          // Only a file the directory knows can be removed from it.
          if (this.#seen.delete(name)) changes.push([name, undefined]);
          return;
        case "text":
          this.#seen.set(name, { mtime: read.mtime, size: read.size });
          changes.push([name, read.text]);
          return;
        case "refused":
          this.#seen.set(name, UNREAD);
          changes.push([name, { refused: read.refused }]);
          return;
        case "unreadable":
          this.#seen.set(name, UNREAD);
          changes.push([name, { unreadable: read.reason }]);
          return;
      }
    });
    return changes;
  }
}

/**
 * `/healthz`'s `lastReloadError`: where the latest failure is and its code,
 * like `policyErrors`, never its message.
 */
function failureSummary(report: PolicyFileReport): string {
  const errors = report.problems.filter((problem) =>
    problem.severity === "error"
  );
  const first = errors[0];
  return `${report.file}:${first?.line ?? 0}:${first?.column ?? 0} ${
    first?.code ?? "invalid-policy"
  }${errors.length > 1 ? ` (and ${errors.length - 1} more errors)` : ""}`;
}

async function forEachLimited<T>(
  items: readonly T[],
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(
    Array.from({ length: Math.min(READ_CONCURRENCY, items.length) }, worker),
  );
}
