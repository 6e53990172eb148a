/**
 * Parley: a security layer for embeddable website chat widgets.
 *
 * An organization's admins write a declarative policy (allowed domains, JWT
 * requirement and HS256 keys, rate limits); Parley compiles it into one
 * in-memory evaluator and serves the widget's RPC methods behind it, with
 * Deno KV for exact rate limits, sessions and conversations.
 *
 * @example Mount Parley in your own Deno.serve
 * ```ts ignore
 * import { compilePolicy, createHandler } from "jsr:@parley/parley";
 *
 * const policy = compilePolicy(await Deno.readTextFile("policy.yaml"), {
 *   env: (name) => Deno.env.get(name),
 * });
 * const kv = await Deno.openKv(".parley/kv.sqlite");
 * Deno.serve(createHandler({ policy, kv }));
 * ```
 *
 * @module
 */

export { compilePolicy } from "./policy/compile.ts";
export type { CompilePolicyOptions } from "./policy/compile.ts";
export { validatePolicy } from "./policy/validate.ts";
export type {
  EnvLookup,
  ValidateOptions,
  ValidationResult,
} from "./policy/validate.ts";
export { PolicyError } from "./policy/error.ts";
export type {
  AdminKeySpec,
  BusinessHours,
  CompiledOrganization,
  Decision,
  DecisionCode,
  DomainMode,
  DomainPattern,
  Evaluator,
  Explanation,
  Facts,
  Identity,
  JwtKeySpec,
  JwtMode,
  LimitSettings,
  OpeningRange,
  OrganizationSpec,
  OriginVerdict,
  PolicyFileError,
  PolicyProblem,
  PolicySpec,
  Rate,
  ServerSettings,
  StoreErrorMode,
  TraceStep,
  Weekday,
  WidgetSettings,
} from "./policy/types.ts";
export { createHandler } from "./rpc/handler.ts";
export type { DecisionLogEntry, DecisionLogSink } from "./rpc/decision_log.ts";
export { Metrics } from "./rpc/metrics.ts";
export type { JwtState } from "./rpc/metrics.ts";
export type {
  HandlerOptions,
  ParleyHandler,
  PolicySource,
  WidgetAsset,
} from "./rpc/handler.ts";
export { ERROR_STATUS } from "./rpc/wire.ts";
export type {
  BootData,
  ChatMessage,
  ErrorCode,
  ErrorReply,
  OkReply,
  RateLimitState,
  Reply,
  WidgetConfig,
  WireError,
} from "./rpc/wire.ts";
