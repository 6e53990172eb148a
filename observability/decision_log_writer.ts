/**
 * The decision log's writer: JSON lines appended to a file (or stdout) off
 * the request path. A decision is queued and the call returns; one writer
 * drains the queue in chunks with asynchronous writes, so a slow disk or a
 * stalled stdout pipe delays only the log, never a request. The queue is
 * bounded ({@linkcode MAX_QUEUED_LINES}): past it, lines are dropped and
 * counted (`parley_decision_log_dropped_total`), so a log that cannot keep
 * up costs bounded memory.
 *
 * @module
 */

import type { DecisionLogEntry, DecisionLogSink } from "./decision_log.ts";

/** Lines waiting to be written before new ones are dropped. */
export const MAX_QUEUED_LINES = 10_000;

/** Where lines are written: a file, stdout, or anything that writes bytes. */
export interface ByteTarget {
  /** Writes some of `bytes`, returning how many (as `Deno.FsFile.write`). */
  write(bytes: Uint8Array): Promise<number>;
}

/** Options of {@linkcode openDecisionLogWriter}. */
export interface DecisionLogWriterOptions {
  /** Queued lines before new ones are dropped (default {@linkcode MAX_QUEUED_LINES}). */
  readonly maxQueuedLines?: number;
  /** Told of each line dropped (a full queue, or a failed write). */
  readonly onDrop?: () => void;
}

/** The decision log, written in the background. */
export interface DecisionLogWriter {
  /** Queues one line; never waits. */
  readonly write: DecisionLogSink;
  /** Waits until every queued line is written (or dropped). */
  drained(): Promise<void>;
  /** Writes what is queued, then closes the file. */
  close(): Promise<void>;
}

/**
 * Opens the decision log.
 *
 * @param target A file path to append to, stdout when absent, or a target.
 * @param options Queue bound and drop counter.
 * @returns The writer; `close()` it at shutdown.
 */
export function openDecisionLogWriter(
  target?: string | ByteTarget,
  options: DecisionLogWriterOptions = {},
): DecisionLogWriter {
  const file = typeof target === "string"
    ? Deno.openSync(target, { append: true, create: true })
    : undefined;
  const out: ByteTarget = file ?? (target as ByteTarget | undefined) ??
    Deno.stdout;
  const maxQueued = options.maxQueuedLines ?? MAX_QUEUED_LINES;
  const encoder = new TextEncoder();
  let queue: string[] = [];
  let writing: Promise<void> | undefined;
  let warned = false;

  const dropped = (lines: number) => {
    for (let i = 0; i < lines; i++) options.onDrop?.();
  };

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const lines = queue;
      queue = [];
      try {
        await writeAll(out, encoder.encode(lines.join("")));
      } catch (error) {
        dropped(lines.length);
        if (!warned) {
          warned = true;
          console.error(
            `parley: the decision log cannot be written, lines are dropped: ${
              error instanceof Error ? error.message : String(error)
            }`,
          );
        }
      }
    }
    writing = undefined;
  }

  return {
    write(entry: DecisionLogEntry) {
      if (queue.length >= maxQueued) {
        dropped(1);
        return;
      }
      queue.push(JSON.stringify(entry) + "\n");
      writing ??= drain();
    },
    async drained() {
      while (writing !== undefined) await writing;
    },
    async close() {
      while (writing !== undefined) await writing;
      file?.close();
    },
  };
}

async function writeAll(target: ByteTarget, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    offset += await target.write(bytes.subarray(offset));
  }
}
