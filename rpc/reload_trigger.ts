/**
 * When to read a policy again: the file watcher's events in its directory,
 * and `SIGHUP`, gathered over one burst (an editor's save is several
 * events) into one call.
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

/** How long a burst of events is gathered, milliseconds. */
const BURST_MS = 100;

/** Watches one directory and `SIGHUP` for a policy source. */
export class ReloadTrigger {
  readonly #directory: string;
  readonly #reload: (request: ReloadRequest) => void;
  #watcher: Deno.FsWatcher | undefined;
  #signalListener: (() => void) | undefined;
  #burst: ReturnType<typeof setTimeout> | undefined;
  #names = new Set<string>();
  #rescan = false;

  /**
   * @param directory Watched without recursion (editors replace files by
   *   rename, so a directory is watched rather than a file's inode).
   * @param reload Called once per burst.
   */
  constructor(directory: string, reload: (request: ReloadRequest) => void) {
    this.#directory = directory;
    this.#reload = reload;
  }

  /** Starts watching; a second call does nothing. */
  start(): void {
    if (this.#watcher !== undefined) return;
    this.#watcher = Deno.watchFs(this.#directory, { recursive: false });
    (async () => {
      for await (const event of this.#watcher!) {
        if (event.flag === "rescan") this.#rescan = true;
        for (const path of event.paths) {
          this.#names.add(path.slice(path.lastIndexOf("/") + 1));
        }
        this.#schedule();
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
    clearTimeout(this.#burst);
    this.#burst = setTimeout(() => {
      const request = { names: this.#names, rescan: this.#rescan };
      this.#names = new Set();
      this.#rescan = false;
      this.#reload(request);
    }, BURST_MS);
  }
}
