/**
 * The wire contract between the server and its browser clients (the widget
 * and the agent inbox): error codes and their statuses, the reply envelope,
 * the records every part names alike, each method's parameters and data
 * (`RpcMethods`), the events of the two streams (`StreamEvent`), and the
 * rules both sides apply to a field.
 *
 * Browser-safe and the lowest floor of the code: it imports nothing, and
 * everything may import it (the widget bundles it, the store keeps its
 * records). Beside it, imported by path rather than re-exported here: the
 * rules of languages the widget, the server and the policy CLI share —
 * which locale a tag gets (`locale_match.ts`) and which of the
 * organization's texts a language reads (`admin_text.ts`).
 *
 * @module
 */

export * from "./field_rules.ts";
export * from "./methods.ts";
export * from "./records.ts";
export * from "./reply.ts";
export * from "./security_report.ts";
export * from "./stream_events.ts";
export * from "./widget_config.ts";
