/**
 * Parley: a security layer for embeddable website chat widgets.
 *
 * An organization's admins write a declarative policy (allowed domains, JWT
 * requirement and HS256 keys, rate limits); Parley compiles it into one
 * in-memory evaluator and serves the widget's RPC methods behind it, with
 * exact rate limits, sessions and conversations on Deno KV (one machine) or
 * PostgreSQL (many hosts).
 *
 * @example Mount Parley in your own Deno.serve
 * ```ts ignore
 * import {
 *   compilePolicy,
 *   createHandler,
 *   openStore,
 *   staticPolicy,
 * } from "jsr:@parley/parley";
 *
 * const policy = compilePolicy(await Deno.readTextFile("policy.yaml"), {
 *   env: (name) => Deno.env.get(name),
 * });
 * // A KV file on one machine, or postgres://… for many hosts.
 * const store = await openStore(Deno.env.get("PARLEY_STORE"));
 * Deno.serve(createHandler({ policy: staticPolicy(policy), store }));
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
  LocalizedText,
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
export { staticPolicy } from "./policy_source/policy_source.ts";
export type {
  DecisionLogEntry,
  DecisionLogSink,
} from "./observability/decision_log.ts";
export { Metrics } from "./observability/metrics.ts";
export type { JwtState } from "./observability/metrics.ts";
export type {
  Built,
  HandlerOptions,
  ParleyHandler,
  PolicySource,
  SiteAssets,
  WidgetAsset,
} from "./rpc/handler.ts";
export { openStore } from "./store/open_store.ts";
export { createKvStore } from "./store/kv/kv_store.ts";
export type { KvStoreOptions } from "./store/kv/kv_store.ts";
export { StoreUnavailableError } from "./store/store_unavailable_error.ts";
export { StoreDataError } from "./store/store_data_error.ts";
export type { SettingStore, Store, StoreEngine } from "./store/store.ts";
export type {
  CounterSlot,
  CounterStore,
  SlotOutcome,
} from "./store/counter_store.ts";
export type * from "./store/conversation_store.ts";
export type { ChangeFeed, ChangeListener } from "./store/change_feed.ts";
export type {
  ClaimShare,
  LeasedOutboxItem,
  OutboxItem,
  OutboxStore,
} from "./store/outbox_store.ts";
export type { PresenceStore } from "./store/presence_store.ts";
export type {
  KeyCap,
  SecurityCount,
  SecurityCounterStore,
  SumOptions,
} from "./store/security_counter_store.ts";
export {
  CONVERSATION_VIEWS,
  endsStream,
  ERROR_STATUS,
  isEmailAddress,
  MAX_EMAIL_LENGTH,
  MAX_MESSAGE_LENGTH,
  STREAM_EVENT_NAMES,
  VISITOR_REFERENCE_PREFIX,
} from "./wire/mod.ts";
export type {
  AgentIdentity,
  AgentMethod,
  AgentStreamEvent,
  Availability,
  AvailabilityEvent,
  BootData,
  BootParams,
  CallMethod,
  ChatMessage,
  ChatStreamEvent,
  ConfigParams,
  Contact,
  ConversationChangedEvent,
  ConversationClosedEvent,
  ConversationData,
  ConversationList,
  ConversationMessage,
  ConversationParams,
  ConversationSummary,
  ConversationView,
  EmptyData,
  ErrorCode,
  ErrorReply,
  EventName,
  JwtDocs,
  JwtDocsField,
  MessageData,
  NewMessageEvent,
  OkReply,
  OrganizationParams,
  PageInfo,
  RateLimitState,
  ReadyEvent,
  Reply,
  RpcData,
  RpcEvents,
  RpcMethod,
  RpcMethods,
  RpcParams,
  SecurityReport,
  SecurityReportHour,
  SecurityReportOrigin,
  SecurityReportWouldRefuse,
  SentMessage,
  SessionParams,
  StreamEndedEvent,
  StreamEvent,
  StreamFrame,
  StreamMethod,
  StreamReady,
  TextPerLocale,
  TypingEvent,
  VisitorConversation,
  WidgetConfig,
  WireError,
} from "./wire/mod.ts";
