/**
 * Opens the Deno KV store named by `PARLEY_KV`.
 *
 * @module
 */

import { dirname } from "node:path";
import { StoreUnavailableError } from "./store_unavailable_error.ts";

/** Where the store lives when `PARLEY_KV` is unset or empty. */
export const DEFAULT_STORE_PATH = ".parley/kv.sqlite";

/**
 * Opens the KV store at `location`, with `PARLEY_KV` semantics: a file path
 * (its parent directory is created), `":memory:"`, or an `http(s)://` KV
 * Connect URL handed to `Deno.openKv` as is. The caller reads the
 * environment, so this function needs no `--allow-env`.
 *
 * @param location Defaults to {@linkcode DEFAULT_STORE_PATH}; an empty string
 * counts as unset.
 * @returns The open store; the caller closes it.
 * @throws {StoreUnavailableError} When the directory cannot be created or the
 * store cannot be opened.
 *
 * @example Open the store the operator configured
 * ```ts ignore
 * const kv = await openStore(Deno.env.get("PARLEY_KV"));
 * ```
 */
export async function openStore(location?: string): Promise<Deno.Kv> {
  const target = location === undefined || location === ""
    ? DEFAULT_STORE_PATH
    : location;
  const isFile = target !== ":memory:" && !/^https?:\/\//i.test(target);
  try {
    if (isFile) await Deno.mkdir(dirname(target), { recursive: true });
    return await openRetryingLocks(target);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new StoreUnavailableError(
      `Cannot open the KV store at "${target}": ${reason}`,
      { cause },
    );
  }
}

/** How long a file held by another opening process is waited for. */
const OPEN_LOCK_BUDGET_MS = 10_000;

/**
 * `Deno.openKv`, retried while another process holds the file's write lock:
 * workers of `deno serve --parallel` open one file at the same moment, and
 * SQLite answers all but one with `database is locked` while it sets up.
 */
async function openRetryingLocks(target: string): Promise<Deno.Kv> {
  const started = Date.now();
  for (let tries = 0;; tries++) {
    try {
      return await Deno.openKv(target);
    } catch (error) {
      const locked = error instanceof Error &&
        /database is (locked|busy)/i.test(error.message);
      if (!locked || Date.now() - started > OPEN_LOCK_BUDGET_MS) throw error;
      await new Promise((wake) =>
        setTimeout(wake, Math.random() * Math.min(50, 2 ** tries))
      );
    }
  }
}
