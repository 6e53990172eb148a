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
  /** When the decision was made, ISO 8601. */
  readonly time: string;
  /** Revision (short hash) of the policy in force. */
  readonly policyRevision: string;
  /** The organization as named by the request (may be unknown). */
  readonly organizationId: string | null;
  /** The request's `Origin` header (at most 256 characters); `null` when absent. */
  readonly origin: string | null;
  /** The client IP, as resolved under `server.trustProxy`. */
  readonly ip: string;
  /** The RPC method name (at most 64 characters). */
  readonly method: string;
  /** `report`: admitted but would be rejected under enforce; `error`: an internal bug. */
  readonly outcome: "rejected" | "report" | "error";
  /** The wire error code, e.g. `DOMAIN_NOT_ALLOWED`. */
  readonly code: string;
  /** Stable reason code, e.g. `domain.not_allowed`; `null` when there is none. */
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
