/**
 * A policy read from a file and kept current: reloaded when the file changes
 * and on `SIGHUP`, swapped atomically (one assignment), and — when the new
 * text fails — the last good evaluator stays in force while the error is kept
 * for `/healthz` and every problem is logged with its line.
 *
 * @module
 */

import { compilePolicy } from "../policy/compile.ts";
import { PolicyError } from "../policy/error.ts";
import { formatProblem } from "../policy/format_problem.ts";
import type { Evaluator, PolicyFileError } from "../policy/types.ts";
import type { PolicySource } from "./policy_source.ts";
import { ReloadTrigger } from "./reload_trigger.ts";

/** What one file's reload did, for metrics. */
export interface FileReloadResult {
  /** The file's name (a policy directory's file, or the policy file's base name). */
  readonly file: string;
  /** Whether its new version is in force (a removed directory file is). */
  readonly ok: boolean;
  /** The evaluator's revision after the reload. */
  readonly revision: string;
  /** The failure, when it failed; never a secret. */
  readonly error?: string;
}

/** Options of {@linkcode PolicyFileSource.open}. */
export interface PolicyFileSourceOptions {
  /** Environment lookup for `{env: NAME}` secrets. */
  readonly env?: (name: string) => string | undefined;
  /** Told of every reload attempt. */
  readonly onReload?: (result: FileReloadResult) => void;
  /** Where problems are written (default: stderr). */
  readonly log?: (line: string) => void;
}

/** A hot-reloading policy file. */
export class PolicyFileSource implements PolicySource {
  readonly path: string;
  #current: Evaluator;
  #lastReloadError: string | null = null;
  #policyErrors: readonly PolicyFileError[] = [];
  #options: PolicyFileSourceOptions;
  #trigger: ReloadTrigger | undefined;

  private constructor(
    path: string,
    evaluator: Evaluator,
    options: PolicyFileSourceOptions,
  ) {
    this.path = path;
    this.#current = evaluator;
    this.#options = options;
  }

  /**
   * Compiles the file once; a broken file at start is fatal (there is no last
   * good policy to keep).
   *
   * @param path The policy file.
   * @param options Environment and reload observers.
   * @returns The source, not yet watching (call {@linkcode watch}).
   * @throws {PolicyError} When the file does not compile.
   */
  static async open(
    path: string,
    options: PolicyFileSourceOptions = {},
  ): Promise<PolicyFileSource> {
    const text = await Deno.readTextFile(path);
    const evaluator = compilePolicy(text, {
      filename: path,
      env: options.env ?? ((name) => Deno.env.get(name)),
    });
    return new PolicyFileSource(path, evaluator, options);
  }

  /** The evaluator in force. */
  get current(): Evaluator {
    return this.#current;
  }

  /** The last reload failure, `null` after a good reload. */
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
    const log = this.#options.log ?? ((line: string) => console.error(line));
    try {
      const text = await Deno.readTextFile(this.path);
      const evaluator = compilePolicy(text, {
        filename: this.path,
        env: this.#options.env ?? ((name) => Deno.env.get(name)),
      });
      const changed = evaluator.revision !== this.#current.revision;
      this.#current = evaluator;
      this.#lastReloadError = null;
      this.#policyErrors = [];
      if (changed) {
        log(`policy: reloaded ${this.path}, revision ${evaluator.revision}`);
      }
      this.#options.onReload?.({
        file: this.#name,
        ok: true,
        revision: evaluator.revision,
      });
      return true;
    } catch (error) {
      const summary = error instanceof PolicyError
        ? error.message
        : `Cannot read ${this.path}: ${
          error instanceof Error ? error.message : String(error)
        }`;
      this.#lastReloadError = summary;
      const first = error instanceof PolicyError
        ? error.problems.find((problem) => problem.severity === "error")
        : undefined;
      this.#policyErrors = Object.freeze([Object.freeze({
        file: this.path,
        line: first?.line ?? 0,
        column: first?.column ?? 0,
        code: first?.code ?? "unreadable-file",
        message: first?.message ?? summary,
      })]);
      log(`policy: reload failed, keeping revision ${this.#current.revision}`);
      if (error instanceof PolicyError) {
        for (const problem of error.problems) {
          log(formatProblem(this.path, problem));
        }
      } else {
        log(summary);
      }
      this.#options.onReload?.({
        file: this.#name,
        ok: false,
        revision: this.#current.revision,
        error: summary,
      });
      return false;
    }
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
    this.#trigger = new ReloadTrigger(directory, ({ names, rescan }) => {
      if (rescan || names.has(name)) void this.reload();
    });
    this.#trigger.start();
  }

  /** Stops watching. */
  close(): void {
    this.#trigger?.close();
    this.#trigger = undefined;
  }
}
