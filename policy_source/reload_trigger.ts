/**
 * When to read a policy again: the file watcher's events in its directory,
 * and `SIGHUP`, gathered over one burst (an editor's save is several
 * events) into one call.
 *
 * Reloads are never starved: events for names the source ignores (an
 * editor's `.beta.yaml.swp`, temp files) are dropped before they count, and
 * a burst of relevant events ends at most {@linkcode MAX_BURST_MS} after it
 * began, however often events keep coming. (A swap file rewritten every
 * 50 ms used to hold an edit back for 15 s: each event restarted the wait.)
 *
 * @module
 */

/** What a burst of events asks for. */
export interface ReloadRequest {
  /** Base names of the files the watcher saw change. */
  readonly names: ReadonlySet<string>;
  /** Look at everything again: `SIGHUP`, or the watcher lost track. */
  readonly rescan: boolean;
}

/** How long after its last event a burst ends, milliseconds. */
const BURST_MS = 100;
/** How long after its first event a burst ends at the latest, milliseconds. */
export const MAX_BURST_MS = 300;

/** Options of {@linkcode ReloadTrigger}. */
export interface ReloadTriggerOptions {
  /** Whether a file name is one the source reads (default: every name). */
  readonly relevant?: (name: string) => boolean;
}

/** Watches one directory and `SIGHUP` for a policy source. */
export class ReloadTrigger {
  readonly #directory: string;
  readonly #reload: (request: ReloadRequest) => void;
  readonly #relevant: (name: string) => boolean;
  #watcher: Deno.FsWatcher | undefined;
  #signalListener: (() => void) | undefined;
  #burst: ReturnType<typeof setTimeout> | undefined;
  /** When the pending burst's first event came; `undefined` when none is pending. */
  #burstStart: number | undefined;
  #names = new Set<string>();
  #rescan = false;

  /**
   * @param directory Watched without recursion (editors replace files by
   *   rename, so a directory is watched rather than a file's inode).
   * @param reload Called once per burst, with only relevant names.
   * @param options Which names are relevant.
   */
  constructor(
    directory: string,
    reload: (request: ReloadRequest) => void,
    options: ReloadTriggerOptions = {},
  ) {
    this.#directory = directory;
    this.#reload = reload;
    this.#relevant = options.relevant ?? (() => true);
  }

  /** Starts watching; a second call does nothing. */
  start(): void {
    if (this.#watcher !== undefined) return;
    this.#watcher = Deno.watchFs(this.#directory, { recursive: false });
    (async () => {
      for await (const event of this.#watcher!) {
        let relevant = event.flag === "rescan";
        if (relevant) this.#rescan = true;
        for (const path of event.paths) {
          const name = path.slice(path.lastIndexOf("/") + 1);
          if (!this.#relevant(name)) continue;
          this.#names.add(name);
          relevant = true;
        }
        if (relevant) this.#schedule();
      }
    })().catch(() => {});
    if (Deno.build.os !== "windows") {
      this.#signalListener = () => {
        this.#rescan = true;
        this.#schedule();
      };
      Deno.addSignalListener("SIGHUP", this.#signalListener);
    }
  }

  /** Stops watching. */
  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    if (this.#signalListener !== undefined) {
      Deno.removeSignalListener("SIGHUP", this.#signalListener);
      this.#signalListener = undefined;
    }
    clearTimeout(this.#burst);
  }

  #schedule(): void {
    const now = Date.now();
    this.#burstStart ??= now;
    clearTimeout(this.#burst);
    this.#burst = setTimeout(
      () => {
        const request = { names: this.#names, rescan: this.#rescan };
        this.#names = new Set();
        this.#rescan = false;
        this.#burstStart = undefined;
        this.#reload(request);
      },
      Math.max(0, Math.min(BURST_MS, this.#burstStart + MAX_BURST_MS - now)),
    );
  }
}
