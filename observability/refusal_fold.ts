/**
 * Folding the decision log's refusals by a spent limit (`RATE_LIMITED`): a
 * client that keeps calling past its limit is refused thousands of times,
 * and one line each would let anonymous traffic grow the log without bound.
 *
 * Per (organization, IP, reason) — organizations the policy does not know
 * counted as one, `_unknown` — the first refusal is written at once, as
 * any decision is, so the moment a limit starts refusing is seen without
 * delay; the refusals after it are counted, and at the end of each window
 * (10 s) one line says how many there were (`count`, from `time` to
 * `until`). A key quiet for a whole window is forgotten, so its next refusal
 * is written at once again. A steady flood from one address thus writes one
 * line per window; other decisions pass through unchanged.
 *
 * Memory is bounded: at most {@linkcode MAX_FOLDED_KEYS} keys are folded at
 * once; a refusal of another key then passes through unfolded (and the
 * writer's bounded queue is what holds it).
 *
 * @module
 */

import type { DecisionLogEntry, DecisionLogSink } from "./decision_log.ts";
import { UNKNOWN_ORGANIZATION } from "../store/store.ts";

/** How long refusals of one key are counted before their line is written. */
export const FOLD_WINDOW_MS = 10_000;
/** Keys folded at once. */
export const MAX_FOLDED_KEYS = 10_000;

/** Options of {@linkcode foldRefusals}. */
export interface FoldOptions {
  /** The window, milliseconds (default {@linkcode FOLD_WINDOW_MS}). */
  readonly windowMs?: number;
  /** Keys folded at once (default {@linkcode MAX_FOLDED_KEYS}). */
  readonly maxKeys?: number;
  /**
   * Whether the policy knows an organization. Refusals naming organizations
   * it does not know fold together, as `_unknown`, as their IP limit does:
   * random ids would otherwise each start a line of their own.
   */
  readonly known?: (organizationId: string) => boolean;
}

/** A decision sink that folds refusals by a spent limit. */
export interface RefusalFold {
  /** Takes every decision: folded when it is a refusal by a spent limit, else passed on. */
  readonly write: DecisionLogSink;
  /** Writes each key's pending line now (the end of a window). */
  flush(): void;
  /** Writes what is pending and stops the window timer. */
  close(): void;
}

/** What is counted of one key in the current window. */
interface Folded {
  /** The first refusal counted in this window; its fields head the line. */
  first: DecisionLogEntry | undefined;
  count: number;
  until: string;
}

/**
 * Folds refusals by a spent limit in front of `sink`.
 *
 * @param sink Where lines go.
 * @param options Window and key bound.
 * @returns The folding sink; `close()` it to write what is pending.
 */
export function foldRefusals(
  sink: DecisionLogSink,
  options: FoldOptions = {},
): RefusalFold {
  const maxKeys = options.maxKeys ?? MAX_FOLDED_KEYS;
  const known = options.known ?? (() => true);
  const folded = new Map<string, Folded>();

  function flush(): void {
    for (const [key, pending] of folded) {
      if (pending.first === undefined) {
        // Quiet for a whole window: its next refusal is news again.
        folded.delete(key);
        continue;
      }
      sink({ ...pending.first, count: pending.count, until: pending.until });
      pending.first = undefined;
      pending.count = 0;
    }
  }

  const timer = setInterval(flush, options.windowMs ?? FOLD_WINDOW_MS);
  Deno.unrefTimer(timer);

  return {
    write(entry) {
      if (entry.outcome !== "rejected" || entry.code !== "RATE_LIMITED") {
        sink(entry);
        return;
      }
      const named = entry.organizationId;
      const organizationId = named !== null && known(named)
        ? named
        : UNKNOWN_ORGANIZATION;
      const key = `${organizationId}\u0000${entry.ip}\u0000${entry.reason}`;
      const pending = folded.get(key);
      if (pending === undefined) {
        if (folded.size < maxKeys) {
          folded.set(key, { first: undefined, count: 0, until: entry.time });
        }
        sink(entry);
        return;
      }
      pending.first ??= { ...entry, organizationId };
      pending.count++;
      pending.until = entry.time;
    },
    flush,
    close() {
      clearInterval(timer);
      flush();
    },
  };
}
