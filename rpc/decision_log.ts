/**
 * The decision log: one JSON line per rejection and per report-mode would-be
 * rejection, for admins and incident review. It carries ids, codes and reasons
 * — never a token, signature, secret or email address.
 *
 * @module
 */

/** One logged decision. */
export interface DecisionLogEntry {
  /** Unique id, also sent to the client in `INTERNAL` errors. */
  readonly decisionId: string;
  readonly time: string;
  readonly policyRevision: string;
  /** The organization as named by the request (may be unknown). */
  readonly organizationId: string | null;
  readonly origin: string | null;
  readonly ip: string;
  readonly method: string;
  readonly outcome: "rejected" | "report" | "error";
  readonly code: string;
  readonly reason: string | null;
}

/** Where decision lines go. */
export type DecisionLogSink = (entry: DecisionLogEntry) => void;

/**
 * A sink writing JSON lines to a file (appending) or to stdout.
 *
 * @param path A file path; stdout when absent.
 * @returns The sink.
 */
export function jsonLinesSink(path?: string): DecisionLogSink {
  const encoder = new TextEncoder();
  if (path === undefined) {
    return (entry) => {
      Deno.stdout.writeSync(encoder.encode(JSON.stringify(entry) + "\n"));
    };
  }
  const file = Deno.openSync(path, { append: true, create: true });
  return (entry) => {
    file.writeSync(encoder.encode(JSON.stringify(entry) + "\n"));
  };
}
