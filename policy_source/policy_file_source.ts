/**
 * A policy read from a file and kept current: reloaded when the file changes
 * and on `SIGHUP`, swapped atomically (one assignment), and — when the new
 * text fails — the last good evaluator stays in force while the error is kept
 * for `/healthz` and every problem is logged with its line.
 *
 * The file is read bounded (1 MiB, `policy_io/policy_file_reader.ts`). Its
 * first read, before anything is served, is validated in this thread: the
 * file is the operator's own, and no request waits for it. Every reload is
 * validated in a worker with a time limit (`policy_worker.ts`), so requests
 * are answered while it is read and compiled. `/healthz` gets the position
 * and code of the first error; the log gets every message, escaped and
 * folded.
 *
 * @module
 */

import {
  compileSpec,
  fingerprintHex,
  fingerprintOf,
} from "../policy/compile.ts";
import { PolicyError } from "../policy/error.ts";
import type {
  FileValidationOutcome,
  FileValidationRequest,
} from "../policy/file_validation.ts";
import type {
  Evaluator,
  PolicyFileError,
  PolicyProblem,
} from "../policy/types.ts";
import {
  readPolicyFile,
  refusalProblem,
} from "../policy_io/policy_file_reader.ts";
import { escapeLogText, problemLogLines } from "./policy_log_lines.ts";
import type { PolicySource } from "./policy_source.ts";
import { PolicyWorker } from "./policy_worker.ts";
import { validateWithProcessEnv } from "./process_file_validation.ts";
import { ReloadTrigger } from "./reload_trigger.ts";

/** What one file's reload did, for metrics. */
export interface FileReloadResult {
  /** The file's name (a policy directory's file, or the policy file's base name). */
  readonly file: string;
  /** Whether its new version is in force (a removed directory file is). */
  readonly ok: boolean;
  /** The evaluator's revision after the reload. */
  readonly revision: string;
  /** The failure, when it failed: position and code, never a message or a secret. */
  readonly error?: string;
}

/** Options of {@linkcode PolicyFileSource.open}. */
export interface PolicyFileSourceOptions {
  /** How long a reload may take to compile, milliseconds (default 20 s). */
  readonly compileTimeLimitMs?: number;
  /** Told of every reload attempt. */
  readonly onReload?: (result: FileReloadResult) => void;
  /** Where problems are written (default: stderr). */
  readonly log?: (line: string) => void;
}

/** A compiled file, or why it is not. */
type Compiled =
  | { readonly evaluator: Evaluator }
  | {
    readonly problems: readonly PolicyProblem[];
    /** Problems the worker left out, counted by code. */
    readonly omitted?: Readonly<Record<string, number>>;
  };

/** A hot-reloading policy file. */
export class PolicyFileSource implements PolicySource {
  readonly path: string;
  #current: Evaluator;
  #lastReloadError: string | null = null;
  #policyErrors: readonly PolicyFileError[] = [];
  readonly #options: PolicyFileSourceOptions;
  readonly #worker: PolicyWorker;
  readonly #log: (line: string) => void;
  #trigger: ReloadTrigger | undefined;

  private constructor(
    path: string,
    evaluator: Evaluator,
    options: PolicyFileSourceOptions,
    worker: PolicyWorker,
  ) {
    this.path = path;
    this.#current = evaluator;
    this.#options = options;
    this.#worker = worker;
    this.#log = options.log ?? ((line: string) => console.error(line));
  }

  /**
   * Compiles the file once, in this thread (nothing is served yet); a broken
   * file at start is fatal (there is no last good policy to keep).
   *
   * @param path The policy file.
   * @param options The reloads' time limit, and reload observers.
   * @returns The source, not yet watching (call {@linkcode watch}).
   * @throws {PolicyError} When the file does not compile.
   * @throws {Deno.errors.NotFound} When the file does not exist.
   */
  static async open(
    path: string,
    options: PolicyFileSourceOptions = {},
  ): Promise<PolicyFileSource> {
    const compiled = await compileFile(path, validateWithProcessEnv);
    if ("problems" in compiled) {
      throw new PolicyError(compiled.problems, path, compiled.omitted);
    }
    const worker = new PolicyWorker(
      options.compileTimeLimitMs === undefined
        ? {}
        : { timeLimitMs: options.compileTimeLimitMs },
    );
    return new PolicyFileSource(path, compiled.evaluator, options, worker);
  }

  /** The evaluator in force. */
  get current(): Evaluator {
    return this.#current;
  }

  /** The last reload failure (position and code), `null` after a good reload. */
  get lastReloadError(): string | null {
    return this.#lastReloadError;
  }

  /** The file, with its first error, while its latest version fails. */
  get policyErrors(): readonly PolicyFileError[] {
    return this.#policyErrors;
  }

  /**
   * Reads and compiles the file again; keeps the current policy on failure.
   *
   * @returns Whether the new policy is now in force.
   */
  async reload(): Promise<boolean> {
    const where = escapeLogText(this.path);
    let compiled: Compiled;
    try {
      compiled = await compileFile(
        this.path,
        (request) => this.#worker.validate(request),
      );
    } catch (error) {
      compiled = {
        problems: [{
          code: "unreadable-file",
          severity: "error",
          path: "",
          line: 0,
          column: 0,
          message: error instanceof Deno.errors.NotFound
            ? "File is gone"
            : "File cannot be read",
          hint: "The last good policy stays in force",
        }],
      };
    }
    if ("evaluator" in compiled) {
      const { evaluator } = compiled;
      const changed = evaluator.revision !== this.#current.revision;
      this.#current = evaluator;
      this.#lastReloadError = null;
      this.#policyErrors = [];
      if (changed) {
        this.#log(`policy: reloaded ${where}, revision ${evaluator.revision}`);
      }
      this.#options.onReload?.({
        file: this.#name,
        ok: true,
        revision: evaluator.revision,
      });
      return true;
    }
    const errors = compiled.problems.filter((problem) =>
      problem.severity === "error"
    );
    const first = errors[0];
    const failure: PolicyFileError = Object.freeze({
      file: this.path,
      line: first?.line ?? 0,
      column: first?.column ?? 0,
      code: first?.code ?? "invalid-policy",
    });
    this.#policyErrors = Object.freeze([failure]);
    this.#lastReloadError =
      `${failure.file}:${failure.line}:${failure.column} ${failure.code}${
        errors.length > 1 ? ` (and ${errors.length - 1} more errors)` : ""
      }`;
    this.#log(
      `policy: reload failed, keeping revision ${this.#current.revision}`,
    );
    for (
      const line of problemLogLines(
        this.path,
        compiled.problems,
        compiled.omitted,
      )
    ) {
      this.#log(line);
    }
    this.#options.onReload?.({
      file: this.#name,
      ok: false,
      revision: this.#current.revision,
      error: this.#lastReloadError,
    });
    return false;
  }

  /** The file's base name, the `file` label of its reloads. */
  get #name(): string {
    return this.path.slice(this.path.lastIndexOf("/") + 1);
  }

  /** Starts reloading on file changes and `SIGHUP`. */
  watch(): void {
    if (this.#trigger !== undefined) return;
    const directory = this.path.includes("/")
      ? this.path.slice(0, this.path.lastIndexOf("/")) || "/"
      : ".";
    const name = this.#name;
    this.#trigger = new ReloadTrigger(directory, () => void this.reload(), {
      relevant: (changed) => changed === name,
    });
    this.#trigger.start();
  }

  /** Stops watching and ends the compile worker. */
  close(): void {
    this.#trigger?.close();
    this.#trigger = undefined;
    this.#worker.close();
  }
}

/**
 * Reads and compiles a policy file: validated in the worker, compiled here.
 *
 * @throws {Deno.errors.NotFound} When there is no such file.
 * @throws {Error} When it cannot be read.
 */
async function compileFile(
  path: string,
  validate: (
    request: FileValidationRequest,
  ) => FileValidationOutcome | Promise<FileValidationOutcome>,
): Promise<Compiled> {
  const read = await readPolicyFile(path);
  if (read.kind === "refused") {
    return { problems: [refusalProblem(read.refused)] };
  }
  if (read.kind === "missing") {
    throw new Deno.errors.NotFound(`No policy file at ${path}`);
  }
  if (read.kind === "unreadable") {
    throw new Error(`Cannot read ${path}: ${read.reason}`);
  }
  const outcome = await validate({
    kind: "policy",
    text: read.text,
    options: { filename: path, now: Date.now() },
  });
  if (outcome.kind !== "policy") throw new TypeError("Wrong outcome");
  const { spec, problems } = outcome.result;
  if (spec === undefined) {
    return outcome.omitted ? { problems, omitted: outcome.omitted } : {
      problems,
    };
  }
  return {
    evaluator: compileSpec(spec, {
      // The text's fingerprint, as compilePolicy gives it.
      revision: fingerprintHex(fingerprintOf(read.text)),
      warnings: problems.filter((problem) => problem.severity === "warning"),
    }),
  };
}
