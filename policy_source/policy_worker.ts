/**
 * Validates policy files in a worker, so that no file, however hostile,
 * holds up the requests of other organizations: the server's main thread
 * only posts the text and receives the validated spec (plain data: maps,
 * strings, numbers and byte arrays), then compiles it, which is linear and
 * small.
 *
 * Each file gets a time limit. A file still compiling when it runs out gets
 * `compile-timeout`, and the worker is ended and a new one started for the
 * files after it. Requests are pipelined (a few in flight at once), so
 * compiling thousands of small files at start costs no round trip each.
 * An idle worker is ended after a while, so the memory a large file took
 * is given back and the process can exit.
 *
 * @module
 */

import {
  failedOutcome,
  type FileValidationOutcome,
  type FileValidationRequest,
  type FileValidator,
  frozenOutcome,
} from "../policy/file_validation.ts";

/** One validation posted to the worker. */
export interface CompileJob {
  readonly id: number;
  readonly request: FileValidationRequest;
}

/** Options of {@linkcode PolicyWorker}. */
export interface PolicyWorkerOptions {
  /** How long one file may take, milliseconds (default 20 s). */
  readonly timeLimitMs?: number;
  /** How long the worker stays without work before it is ended (default 30 s). */
  readonly idleMs?: number;
}

/**
 * The default time limit of one file. Parsing is linear and a file is at
 * most 1 MiB, so the limit only stops what nobody foresaw; a 1 MiB file of
 * 80,000 problems took 6 s on a busy 2-core host, so it is far above that.
 */
export const COMPILE_TIME_LIMIT_MS = 20_000;

/** Requests posted at once. */
const IN_FLIGHT = 8;

interface Job extends CompileJob {
  readonly resolve: (outcome: FileValidationOutcome) => void;
}

/** A worker that validates policy files with a time limit each. */
export class PolicyWorker {
  readonly #timeLimitMs: number;
  readonly #idleMs: number;
  #worker: Worker | undefined;
  /** Waiting jobs, oldest first; the first `#posted` are with the worker. */
  readonly #jobs: Job[] = [];
  #posted = 0;
  #nextId = 1;
  #deadline: ReturnType<typeof setTimeout> | undefined;
  #idle: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /** @param options The time limit of one file and the idle time. */
  constructor(options: PolicyWorkerOptions = {}) {
    this.#timeLimitMs = options.timeLimitMs ?? COMPILE_TIME_LIMIT_MS;
    this.#idleMs = options.idleMs ?? 30_000;
  }

  /**
   * Validates one file in the worker. The request must not carry `env`:
   * the worker reads the process environment itself.
   *
   * @param request The file and its options.
   * @returns Its outcome, frozen; `compile-timeout` past the time limit.
   */
  readonly validate: FileValidator = (request) => {
    if (request.options.env !== undefined) {
      return Promise.reject(
        new TypeError("The worker reads the process environment; omit env"),
      );
    }
    if (this.#closed) {
      return Promise.resolve(failedOutcome(request.kind, stopped()));
    }
    return new Promise((resolve) => {
      this.#jobs.push({ id: this.#nextId++, request, resolve });
      this.#pump();
    });
  };

  /** Ends the worker; files still waiting get a problem. */
  close(): void {
    this.#closed = true;
    this.#end();
    clearTimeout(this.#idle);
    for (const job of this.#jobs.splice(0)) {
      job.resolve(failedOutcome(job.request.kind, stopped()));
    }
  }

  #pump(): void {
    clearTimeout(this.#idle);
    const wasIdle = this.#posted === 0;
    while (this.#posted < Math.min(IN_FLIGHT, this.#jobs.length)) {
      const { id, request } = this.#jobs[this.#posted]!;
      this.#start().postMessage({ id, request } satisfies CompileJob);
      this.#posted += 1;
    }
    if (wasIdle && this.#posted > 0) this.#arm();
    if (this.#jobs.length === 0 && this.#worker !== undefined) {
      this.#idle = setTimeout(() => this.#end(), this.#idleMs);
    }
  }

  #start(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(
      new URL("./policy_compile_worker.ts", import.meta.url),
      { type: "module" },
    );
    worker.onmessage = (
      event: MessageEvent<{ id: number; outcome: FileValidationOutcome }>,
    ) => this.#answered(event.data.id, frozenOutcome(event.data.outcome));
    worker.onerror = (event) => {
      // The worker itself failed (not the file's validation, which never throws).
      event.preventDefault();
      this.#fail({
        code: "compile-failed",
        message: "Policy file could not be compiled: the compiler stopped",
        hint: "Its last good version stays in force; see the server's log",
      });
    };
    this.#worker = worker;
    return worker;
  }

  /** The time limit of the job the worker is on now: the oldest posted. */
  #arm(): void {
    clearTimeout(this.#deadline);
    this.#deadline = setTimeout(() =>
      this.#fail({
        code: "compile-timeout",
        message: `Policy file took longer than ${
          this.#timeLimitMs / 1000
        } s to compile, so it was stopped`,
        hint:
          "Its last good version stays in force; make the file smaller or use fewer aliases",
      }), this.#timeLimitMs);
  }

  #answered(id: number, outcome: FileValidationOutcome): void {
    const job = this.#jobs[0];
    if (job === undefined || job.id !== id) return;
    this.#jobs.shift();
    this.#posted -= 1;
    clearTimeout(this.#deadline);
    if (this.#posted > 0) this.#arm();
    job.resolve(outcome);
    this.#pump();
  }

  /** The oldest posted job fails; the others go to a new worker. */
  #fail(problem: { code: string; message: string; hint: string }): void {
    this.#end();
    const job = this.#jobs.shift();
    if (job !== undefined) {
      job.resolve(
        failedOutcome(job.request.kind, {
          ...problem,
          severity: "error",
          path: "",
          line: 1,
          column: 1,
        }),
      );
    }
    if (!this.#closed) this.#pump();
  }

  #end(): void {
    clearTimeout(this.#deadline);
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#posted = 0;
  }
}

function stopped() {
  return {
    code: "compile-failed",
    severity: "error" as const,
    path: "",
    line: 1,
    column: 1,
    message: "Policy file could not be compiled: the server is stopping",
  };
}
