/**
 * A policy file as written, once `schema.json` has checked it: plain data
 * with the schema's types, every value the schema found wrong removed (a
 * removed list item leaves a hole, so the others keep their index). The
 * rules that the schema cannot state read it, with the `PolicyDocument` for
 * positions and for what was written but removed.
 *
 * @module
 */

import type { PolicyDocument } from "./document.ts";
import type { Problems } from "./problems.ts";
import type {
  DomainMode,
  JwtMode,
  LimitSettings,
  StoreErrorMode,
  WidgetSettings,
} from "./types.ts";

/** Where secrets named by `{ env: NAME }` are looked up. */
export type EnvLookup =
  | Record<string, string>
  | ((name: string) => string | undefined);

/** Why a file may not name a variable, for the problem's message and hint. */
export interface SecretRefusal {
  readonly message: string;
  readonly hint: string;
}

/** What every rule reads beside the data. */
export interface RuleContext {
  readonly document: PolicyDocument;
  readonly problems: Problems;
  readonly env: EnvLookup | undefined;
  /** The clock, epoch milliseconds. */
  readonly now: number;
  /**
   * Why the file may not name a variable (a policy directory's `secrets:`),
   * asked before the variable is looked up; absent: any may be named.
   */
  readonly refuseSecret?:
    | ((name: string) => SecretRefusal | undefined)
    | undefined;
}

/** `{ env: NAME }` or an inline secret. */
export type WrittenSecret = string | { readonly env?: string };

/** `limits`, rates as written. */
export type WrittenLimits = Partial<Record<keyof LimitSettings, string>>;

/** `maxLifetime` and `clockTolerance`, as written. */
export interface WrittenJwtTimes {
  readonly maxLifetime?: string;
  readonly clockTolerance?: string;
}

/** One `jwt.keys` item. */
export interface WrittenJwtKey {
  readonly id?: string | number;
  readonly secret?: WrittenSecret;
  readonly until?: string;
}

/** One `admin.keys` item. */
export interface WrittenAdminKey {
  readonly id?: string | number;
  readonly name?: string;
  readonly secret?: WrittenSecret;
}

/**
 * `widget`: the settings visitors see are written as they are compiled;
 * only the hours and the unanswered delay are written in another form.
 */
export type WrittenWidget =
  & Omit<WidgetSettings, "hours" | "unansweredAfterMs">
  & {
    readonly hours?: WrittenHours;
    readonly unansweredAfter?: string;
  };

/** One organization, under `organizations` or at the top of its own file. */
export interface WrittenOrganization {
  readonly name?: string;
  readonly appIds?: readonly (string | undefined)[];
  readonly domains?: {
    readonly mode?: DomainMode;
    readonly allow?: readonly (string | undefined)[];
  };
  readonly jwt?: WrittenJwtTimes & {
    readonly mode?: JwtMode;
    readonly keys?: readonly (WrittenJwtKey | undefined)[];
  };
  readonly limits?: WrittenLimits;
  readonly widget?: WrittenWidget;
  readonly admin?: { readonly keys?: readonly (WrittenAdminKey | undefined)[] };
  readonly webhook?: { readonly url?: string; readonly secret?: WrittenSecret };
  readonly retention?: string | {
    readonly conversations?: string;
    readonly messages?: number;
  };
}

/** `widget.hours`. */
export interface WrittenHours {
  readonly timezone?: string;
  readonly weekly?: Readonly<
    Record<string, string | readonly (string | undefined)[] | undefined>
  >;
}

/** `defaults` and `server`, at the top of a policy or in `_parley.yaml`. */
export interface WrittenSettings {
  readonly defaults?: {
    readonly limits?: WrittenLimits;
    readonly jwt?: WrittenJwtTimes;
  };
  readonly server?: {
    readonly trustProxy?: number;
    readonly maxBodyBytes?: number;
    readonly onStoreError?: StoreErrorMode;
    readonly maxStreamsPerSession?: number;
    readonly maxStreamsPerIp?: number;
    readonly maxStreams?: number;
    readonly allowWebhookHosts?: readonly (string | undefined)[];
  };
}

/** A whole policy file. */
export interface WrittenPolicy extends WrittenSettings {
  readonly organizations?: Readonly<Record<string, WrittenOrganization>>;
}
