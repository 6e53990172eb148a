/**
 * Opens the Deno KV store named by `PARLEY_KV`: the storage every part of
 * Parley shares (rate-limit counters, sessions' secret, conversations).
 *
 * @module
 */

import { dirname } from "node:path";
import { type LockedRetryOptions, retryWhileLocked } from "./locked_retry.ts";
import { StoreUnavailableError } from "../store_unavailable_error.ts";

const OPEN_RETRY: LockedRetryOptions = { maxAttempts: 45, maxDelayMs: 250 };

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
 * const kv = await openKv(Deno.env.get("PARLEY_KV"));
 * ```
 */
export async function openKv(location?: string): Promise<Deno.Kv> {
  const target = location === undefined || location === ""
    ? DEFAULT_STORE_PATH
    : location;
  const isFile = target !== ":memory:" && !/^https?:\/\//i.test(target);
  try {
    if (isFile) await Deno.mkdir(dirname(target), { recursive: true });
    // Workers of `deno serve --parallel` open one fresh file at the same
    // moment, and SQLite answers all but one with `database is locked` while
    // it sets the file up: wait that out (up to about ten seconds).
    return await retryWhileLocked(() => Deno.openKv(target), OPEN_RETRY);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new StoreUnavailableError(
      `Cannot open the KV store at "${target}": ${reason}`,
      { cause },
    );
  }
}
