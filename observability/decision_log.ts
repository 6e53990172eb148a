/**
 * The decision log: one JSON line per rejection and per report-mode would-be
 * rejection, for admins and incident review. It carries ids, codes and reasons
 * — never a token, signature, secret or email address. Refusals by a spent
 * limit are folded into one line per (organization, IP, reason) and window
 * (`refusal_fold.ts`), and lines are written off the request path
 * (`decision_log_writer.ts`), so a flood cannot grow the log or slow the
 * server without bound.
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
  /**
   * On a line that folds refusals by a spent limit: how many refusals of
   * this organization, IP and reason it stands for (the others' method and
   * origin are not kept). Absent on a line for one decision.
   */
  readonly count?: number;
  /** With `count`: when the last of them was, ISO 8601 (`time` is the first). */
  readonly until?: string;
}

/** Where decision lines go. */
export type DecisionLogSink = (entry: DecisionLogEntry) => void;

/** What a decision line says about its request (the RPC pipeline's exchange). */
export interface LoggedRequest {
  /** The method as named in the path (not yet known to exist). */
  readonly methodName: string;
  readonly origin: string | null;
  /** The client IP under `server.trustProxy`. */
  readonly ip: string;
  /** Epoch milliseconds of arrival. */
  readonly now: number;
  /** The policy in force, by its revision. */
  readonly evaluator: { readonly revision: string };
}

/**
 * Writes one decision about a request, bounding what the client chose.
 *
 * @param sink Where it goes; nothing is written without one.
 * @param request The request.
 * @param organizationId The organization as the request (or its session)
 *   named it; `null` before that is known.
 * @param outcome What was decided.
 * @param code The wire code.
 * @param reason The stable reason, if any.
 * @returns The decision id (also when nothing was written).
 */
export function logDecision(
  sink: DecisionLogSink | undefined,
  request: LoggedRequest,
  organizationId: string | null,
  outcome: DecisionLogEntry["outcome"],
  code: string,
  reason: string | null,
): string {
  const decisionId = crypto.randomUUID();
  sink?.({
    decisionId,
    time: new Date(request.now).toISOString(),
    policyRevision: request.evaluator.revision,
    organizationId,
    origin: request.origin === null ? null : request.origin.slice(0, 256),
    ip: request.ip,
    method: request.methodName.slice(0, 64),
    outcome,
    code,
    reason,
  });
  return decisionId;
}
