/**
 * Opens the store that `PARLEY_STORE` (or its alias `PARLEY_KV`) names.
 *
 * @module
 */

import { createKvStore } from "./kv/kv_store.ts";
import { DEFAULT_STORE_PATH, openKv } from "./kv/open_kv.ts";
import type { Store } from "./store.ts";

export { DEFAULT_STORE_PATH };

/**
 * Opens a store:
 * - a file path (default {@linkcode DEFAULT_STORE_PATH}, its directory
 *   created) or `:memory:` → Deno KV, the embedded default;
 * - `postgres://…` or `postgresql://…` → PostgreSQL, for many hosts.
 *
 * A KV Connect URL (`http(s)://`) is refused: self-hosted `denokv` refuses
 * any commit with more than 10 checks (`MAX_CHECKS = 10` in its
 * `proto/limits.rs`) where one rate-limit batch checks up to 100 counters,
 * it is one SQLite writer with no clustering, and `kv.watch` does not cross
 * processes — so it would neither keep limits exact under load nor serve
 * many hosts. PostgreSQL does both.
 *
 * @param location `PARLEY_STORE`; an empty string counts as unset.
 * @returns The open store; the caller closes it.
 * @throws {RangeError} For a KV Connect URL or another unsupported URL.
 * @throws {StoreUnavailableError} When the store cannot be opened.
 *
 * @example Open the store the operator configured
 * ```ts ignore
 * const store = await openStore(Deno.env.get("PARLEY_STORE"));
 * ```
 */
export async function openStore(location?: string): Promise<Store> {
  const target = location === undefined || location === ""
    ? DEFAULT_STORE_PATH
    : location;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(target)?.[1]?.toLowerCase();
  if (scheme === "http" || scheme === "https") {
    throw new RangeError(
      "PARLEY_STORE: KV Connect URLs are not supported (denokv takes at most 10 checks per commit and is one SQLite writer); use a KV file for one machine or postgres://… for many hosts",
    );
  }
  if (scheme === "postgres" || scheme === "postgresql") {
    // Loaded only here, so Deno KV users never load the npm client.
    const { openPostgresStore } = await import("./postgres/postgres_store.ts");
    return await openPostgresStore(target);
  }
  if (scheme !== undefined) {
    throw new RangeError(
      `PARLEY_STORE: unsupported URL scheme "${scheme}"; use a KV file path, ":memory:" or postgres://…`,
    );
  }
  return createKvStore(await openKv(target), { location: target });
}
