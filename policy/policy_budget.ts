/**
 * The bounds that keep one policy file from costing the server more than a
 * real policy needs: its size, how far aliases may expand it, and how many
 * admin keys one organization may hold. Each bound says why it exists.
 *
 * - **Size**: 1 MiB holds thousands of organizations in one file or a very
 *   long allow list in one organization's file; past it, reading and parsing
 *   alone cost seconds.
 * - **Nodes**: without aliases a tree holds exactly the nodes written in it,
 *   so the expansion budget is counted from those nodes (never from the text
 *   length, which a comment can pad): an alias may at most double the file,
 *   and a small file still gets {@linkcode MIN_NODE_BUDGET}.
 * - **Admin keys**: 1,000 agents per organization; each key is looked up by
 *   hash, but every key is also a secret read and kept in memory. The bound
 *   is `schema.json`'s `maxItems` of `admin.keys` (too-many-admin-keys).
 *
 * @module
 */

import type { PolicyProblem } from "./types.ts";

/** The largest policy file read, in bytes (1 MiB). */
export const MAX_POLICY_FILE_BYTES = 1_048_576;

/** The expansion budget of a file with few nodes. */
export const MIN_NODE_BUDGET = 100_000;

/**
 * How many nodes a parsed tree may hold, aliases expanded.
 *
 * @param writtenNodes The scalars, mappings and sequences written in the file (aliases not expanded).
 * @returns The budget: twice the written nodes, at least {@linkcode MIN_NODE_BUDGET}.
 */
export function nodeBudget(writtenNodes: number): number {
  return Math.max(MIN_NODE_BUDGET, 2 * writtenNodes);
}

/**
 * Whether a text is longer than a policy file may be, in UTF-8 bytes.
 * Counts bytes only when characters alone cannot tell.
 *
 * @param text A policy text.
 * @returns `true` when its UTF-8 encoding exceeds {@linkcode MAX_POLICY_FILE_BYTES}.
 */
export function exceedsPolicyFileSize(text: string): boolean {
  // One character is one to three UTF-8 bytes (a surrogate pair is four for two).
  if (text.length > MAX_POLICY_FILE_BYTES) return true;
  if (text.length * 3 <= MAX_POLICY_FILE_BYTES) return false;
  return new TextEncoder().encode(text).length > MAX_POLICY_FILE_BYTES;
}

/**
 * The problem of a file over {@linkcode MAX_POLICY_FILE_BYTES}.
 *
 * @returns An error at the top of the file.
 */
export function fileTooLargeProblem(): PolicyProblem {
  return {
    code: "file-too-large",
    severity: "error",
    path: "",
    line: 1,
    column: 1,
    message:
      `Policy file is larger than ${MAX_POLICY_FILE_BYTES} bytes (1 MiB)`,
    hint:
      "Split a policy of many organizations into a policy directory, one file each",
  };
}
