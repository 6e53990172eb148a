/**
 * A policy directory: one file per organization, compiled and kept one by
 * one.
 *
 * - `_parley.yaml` (optional) holds `version`, `defaults` and `server`;
 * - `<organizationId>.yaml` (`.yml`, `.json`) holds `version: 1` and that
 *   organization's settings at the top level; the file name is the id;
 * - `<organizationId>.test.yaml` holds its policy tests and is never read as
 *   an organization; other names starting with `_` are reserved;
 * - hidden files (editors' swap files) and other extensions are ignored.
 *
 * `apply` takes the texts of the files that changed (or `undefined` for a
 * removed file) and compiles only those. A file whose new version fails keeps
 * its organization's last good version in force; a broken `_parley.yaml`
 * keeps the last good settings. An edit to `defaults` or
 * `server.allowWebhookHosts` recompiles every organization, since they are
 * all validated against them; an edit to an organization's
 * entry of `secrets:` recompiles that organization; any other edit compiles
 * one. An organization whose variables are no longer assigned to it loses
 * its version in force rather than keep secrets it may no longer name.
 *
 * Each file's validation goes through a `FileValidator` (in this thread by
 * default; a server runs it in a worker with a time limit), so `apply` is
 * asynchronous; calls run one after another.
 *
 * Pure: the caller reads the files (and watches them).
 *
 * @module
 */

import {
  assembleEvaluator,
  compileOrganization,
  type Fingerprint,
  fingerprintHex,
  fingerprintOf,
  type OrganizationEntry,
} from "./compile.ts";
import { type FileValidator, validateInThread } from "./file_validation.ts";
import { NO_SECRETS, type SecretAssignment } from "./secret_assignment.ts";
import type {
  Evaluator,
  OrganizationSpec,
  PolicyFileError,
  PolicyProblem,
} from "./types.ts";
import {
  BUILT_IN_DEFAULTS,
  BUILT_IN_SERVER,
  type DirectorySettings,
  type EnvLookup,
  type OrganizationValidationResult,
} from "./validate.ts";
import { ORGANIZATION_ID } from "./policy_schema.ts";

/** The name of a policy directory's settings file. */
export const SETTINGS_FILE_NAME = "_parley.yaml";

/** What a name in a policy directory is. */
export type PolicyFileKind =
  | "settings"
  | "organization"
  | "test"
  | "reserved"
  | "bad-name"
  | "ignored";

/** A file name of a policy directory, classified. */
export interface PolicyFileName {
  /** What the file is. */
  readonly kind: PolicyFileKind;
  /** For `organization` and `test` files: the organization's id. */
  readonly organizationId?: string;
}

const POLICY_EXTENSION = /\.(?:ya?ml|json)$/;
const TEST_EXTENSION = /\.test\.ya?ml$/;

/**
 * Says what a name in a policy directory is.
 *
 * @param name A file name (no directory part).
 * @returns Its kind and, for organization and test files, the organization id.
 */
export function classifyPolicyFile(name: string): PolicyFileName {
  if (name === SETTINGS_FILE_NAME) return { kind: "settings" };
  if (name.startsWith(".") || name.includes("/")) return { kind: "ignored" };
  const test = TEST_EXTENSION.exec(name);
  if (test !== null) {
    return { kind: "test", organizationId: name.slice(0, test.index) };
  }
  const extension = POLICY_EXTENSION.exec(name);
  if (extension === null) return { kind: "ignored" };
  const stem = name.slice(0, extension.index);
  if (stem.startsWith("_")) return { kind: "reserved" };
  if (!ORGANIZATION_ID.test(stem)) return { kind: "bad-name" };
  return { kind: "organization", organizationId: stem };
}

/** Options of {@linkcode PolicyDirectory}. */
export interface PolicyDirectoryOptions {
  /** Environment for `{ env: NAME }` secrets. */
  readonly env?: EnvLookup;
  /** Clock for `until-past` warnings, epoch milliseconds. */
  readonly now?: () => number;
  /** Runs each file's validation (default: in this thread). */
  readonly validate?: FileValidator;
}

/**
 * A file's new version for `apply`: its text, `undefined` when it was
 * removed, why it could not be read, or why it was not read (its last good
 * version stays in both cases).
 */
export type PolicyFileChange = string | undefined | {
  /** Why the file could not be read, e.g. `permission denied`; never its content. */
  readonly unreadable: string;
} | {
  /** Why the reader refused the file, e.g. `file-too-large`, `symlink-outside`. */
  readonly refused: PolicyFileRefusal;
};

/** A reader's reason not to read a file: the problem the file gets. */
export interface PolicyFileRefusal {
  /** Stable code. */
  readonly code: string;
  /** Names the file's problem, never its content. */
  readonly message: string;
  /** How to fix it. */
  readonly hint: string;
}

/** The latest version of one file of the directory. */
export interface PolicyFileReport {
  /** The file's name in the directory. */
  readonly file: string;
  /** Whether its latest version compiled (a removed file is ok). */
  readonly ok: boolean;
  /** Whether the file was removed. */
  readonly removed: boolean;
  /** Every problem of the latest version, each naming `file`. */
  readonly problems: readonly PolicyProblem[];
  /** Problems the validator left out of `problems`, counted by code. */
  readonly omitted?: Readonly<Record<string, number>>;
}

/** What one `apply` did. */
export interface PolicyDirectoryUpdate {
  /** One report per file applied, in name order. */
  readonly files: readonly PolicyFileReport[];
  /** Whether the evaluator in force changed. */
  readonly changed: boolean;
  /** The evaluator in force after the update. */
  readonly evaluator: Evaluator;
}

/** One file's latest version. */
interface FileState {
  readonly name: string;
  readonly text: string;
  readonly problems: readonly PolicyProblem[];
  readonly omitted?: Readonly<Record<string, number>>;
  /** Set when the latest version validated. */
  readonly organization?: OrganizationSpec;
  /** Set when the latest version was not read (unreadable, refused): `text` is an older one. */
  readonly unread?: true;
}

/** The version of an organization that is in force. */
interface InForce {
  readonly file: string;
  readonly text: string;
  readonly fingerprint: Fingerprint;
  readonly entry: OrganizationEntry;
  readonly warnings: readonly PolicyProblem[];
}

/** The settings in force: the last good `_parley.yaml`, or the built-in ones. */
interface SettingsInForce {
  readonly text: string | undefined;
  readonly fingerprint: Fingerprint;
  readonly settings: DirectorySettings;
  readonly warnings: readonly PolicyProblem[];
}

const NO_FINGERPRINT: Fingerprint = Object.freeze({ hi: 0, lo: 0 });
const BUILT_IN_SETTINGS: SettingsInForce = Object.freeze({
  text: undefined,
  fingerprint: NO_FINGERPRINT,
  settings: Object.freeze({
    server: BUILT_IN_SERVER,
    defaults: BUILT_IN_DEFAULTS,
  }),
  warnings: Object.freeze([]),
});

function fileFingerprint(name: string, text: string): Fingerprint {
  return fingerprintOf(`${name}\n${text}`);
}

/** XOR: adding and removing a version are the same step, in any order. */
function combine(a: Fingerprint, b: Fingerprint): Fingerprint {
  return { hi: (a.hi ^ b.hi) >>> 0, lo: (a.lo ^ b.lo) >>> 0 };
}

function tagged(
  file: string,
  problems: readonly PolicyProblem[],
): readonly PolicyProblem[] {
  return Object.freeze(
    problems.map((problem) => Object.freeze({ ...problem, file })),
  );
}

function fileProblem(
  file: string,
  code: string,
  message: string,
  hint: string,
): PolicyProblem {
  return Object.freeze({
    file,
    code,
    severity: "error",
    path: "",
    line: 1,
    column: 1,
    message,
    hint,
  });
}

/** The state of a file that was not read: the reader's problem. */
function notRead(
  name: string,
  change: Exclude<PolicyFileChange, string | undefined>,
): FileState {
  const problem = "refused" in change
    ? { ...change.refused, line: 1, column: 1 }
    : {
      code: "unreadable-file",
      line: 0,
      column: 0,
      message: `File ${
        JSON.stringify(name)
      } cannot be read: ${change.unreadable}`,
      hint:
        "Check the file's permissions; its last good version stays in force",
    };
  return {
    name,
    text: "",
    unread: true,
    problems: Object.freeze([
      Object.freeze({
        file: name,
        severity: "error" as const,
        path: "",
        ...problem,
      }),
    ]),
  };
}

function failed(problems: readonly PolicyProblem[]): boolean {
  return problems.some((problem) => problem.severity === "error");
}

/** A policy directory's files, compiled one by one into one evaluator. */
export class PolicyDirectory {
  readonly #env: EnvLookup | undefined;
  readonly #now: () => number;
  readonly #validator: FileValidator;
  /** `apply` calls run one after another. */
  #queue: Promise<unknown> = Promise.resolve();
  /** The latest version of every policy file (not test or ignored files), by name. */
  readonly #files = new Map<string, FileState>();
  /** The files naming each organization id; more than one is an error. */
  readonly #claims = new Map<string, Set<string>>();
  /** Files whose latest version has an error, and ids claimed twice: failures() reads only these. */
  readonly #failing = new Set<string>();
  readonly #duplicates = new Set<string>();
  /** The organizations in force, by id. */
  readonly #inForce = new Map<string, InForce>();
  #settings: SettingsInForce = BUILT_IN_SETTINGS;
  /** The maps the evaluator holds; copied before the first change after an assembly. */
  #entries = new Map<string, OrganizationEntry>();
  #specs = new Map<string, OrganizationSpec>();
  #ownMaps = true;
  /** XOR of the fingerprints of every version in force. */
  #fingerprint: Fingerprint = NO_FINGERPRINT;
  #evaluator: Evaluator;

  /**
   * An empty directory: built-in settings and no organizations.
   *
   * @param options Environment for secrets and the clock.
   */
  constructor(options: PolicyDirectoryOptions = {}) {
    this.#env = options.env;
    this.#now = options.now ?? Date.now;
    this.#validator = options.validate ?? validateInThread;
    this.#evaluator = this.#assemble();
  }

  /** The evaluator in force. */
  get evaluator(): Evaluator {
    return this.#evaluator;
  }

  /**
   * Whether `_parley.yaml` exists but none of its versions compiled, so
   * the built-in settings stand in for it. A server must not start so.
   */
  get settingsUnusable(): boolean {
    const state = this.#files.get(SETTINGS_FILE_NAME);
    return state !== undefined && failed(state.problems) &&
      this.#settings.text === undefined;
  }

  /**
   * The latest version of every file that is one, in name order.
   *
   * @returns One report per policy file (settings, organizations, bad names).
   */
  reports(): PolicyFileReport[] {
    return [...this.#files.keys()].sort().map((name) => this.#report(name));
  }

  /**
   * The latest version of one file.
   *
   * @param name The file's name in the directory.
   * @returns Its report; `removed` when the directory has no such file.
   */
  report(name: string): PolicyFileReport {
    return this.#report(name);
  }

  /**
   * The files whose latest version failed, each with its first error, as
   * `/healthz` shows them.
   *
   * @returns One entry per failing file, in name order.
   */
  failures(): PolicyFileError[] {
    const names = new Set(this.#failing);
    for (const id of this.#duplicates) {
      for (const name of this.#claims.get(id) ?? []) names.add(name);
    }
    const failures: PolicyFileError[] = [];
    for (const report of [...names].sort().map((name) => this.#report(name))) {
      const first = report.problems.find((problem) =>
        problem.severity === "error"
      );
      if (first === undefined) continue;
      // Positions and codes only: messages name variables and values.
      failures.push(Object.freeze({
        file: report.file,
        line: first.line,
        column: first.column,
        code: first.code,
      }));
    }
    return failures;
  }

  /**
   * Applies new versions of files: compiles each changed organization file
   * (and, when `defaults` changed, every organization; when an
   * organization's `secrets:` entry changed, that one) and swaps in a new
   * evaluator when anything in force changed. Never rejects for bad input.
   *
   * @param changes File names (no directory part) and their new version.
   * @returns A report per applied file and the evaluator in force.
   */
  apply(
    changes: Iterable<readonly [string, PolicyFileChange]>,
  ): Promise<PolicyDirectoryUpdate> {
    const list = [...changes];
    const run = this.#queue.then(() => this.#apply(list));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #apply(
    changes: readonly (readonly [string, PolicyFileChange])[],
  ): Promise<PolicyDirectoryUpdate> {
    const pending = new Map<string, PolicyFileChange>();
    for (const [name, text] of changes) {
      const { kind } = classifyPolicyFile(name);
      if (kind !== "ignored" && kind !== "test") pending.set(name, text);
    }
    const applied = [...pending.keys()].sort();
    const beforeSettings = this.#settings;
    const beforeEvaluator = this.#fingerprint;
    let wrote = false;

    if (pending.has(SETTINGS_FILE_NAME)) {
      await this.#applySettings(pending.get(SETTINGS_FILE_NAME));
      pending.delete(SETTINGS_FILE_NAME);
    }
    const inherits = this.#inheritanceChanged(beforeSettings);

    const touched = new Set<string>();
    const validations: Promise<void>[] = [];
    for (const [name, text] of pending) {
      const id = this.#applyFile(name, text);
      if (id === undefined) continue;
      touched.add(id);
      if (typeof text === "string") {
        validations.push(this.#revalidate(name, id, text));
      }
    }
    // Organizations inherit the defaults and their secrets: validate those again.
    for (const state of this.#files.values()) {
      const id = classifyPolicyFile(state.name).organizationId;
      if (id === undefined || pending.has(state.name) || !inherits(id)) {
        continue;
      }
      touched.add(id);
      // A file not read keeps its problem; its last good version is
      // validated again when it is settled.
      if (!state.unread) {
        validations.push(this.#revalidate(state.name, id, state.text));
      }
    }
    await Promise.all(validations);
    const settled = await Promise.all(
      [...touched].map((id) => this.#settle(id, inherits(id))),
    );
    if (settled.includes(true)) wrote = true;

    const changed = wrote || this.#settings !== beforeSettings ||
      this.#fingerprint.hi !== beforeEvaluator.hi ||
      this.#fingerprint.lo !== beforeEvaluator.lo;
    if (changed) this.#evaluator = this.#assemble();
    return Object.freeze({
      files: Object.freeze(applied.map((name) => this.#report(name))),
      changed,
      evaluator: this.#evaluator,
    });
  }

  /** Which organizations inherit something that changed with the settings. */
  #inheritanceChanged(before: SettingsInForce): (id: string) => boolean {
    const after = this.#settings;
    if (after === before) return () => false;
    // Every organization is validated against the defaults and the hosts
    // its webhook may name.
    if (
      JSON.stringify(after.settings.defaults) !==
        JSON.stringify(before.settings.defaults) ||
      JSON.stringify(after.settings.server.allowWebhookHosts) !==
        JSON.stringify(before.settings.server.allowWebhookHosts)
    ) {
      return () => true;
    }
    const was = before.settings.secrets ?? NO_SECRETS;
    const is = after.settings.secrets ?? NO_SECRETS;
    return (id) =>
      JSON.stringify(was.get(id) ?? []) !== JSON.stringify(is.get(id) ?? []);
  }

  async #applySettings(text: PolicyFileChange): Promise<void> {
    if (text === undefined) {
      this.#deleteFile(SETTINGS_FILE_NAME);
      this.#replaceSettings(BUILT_IN_SETTINGS);
      return;
    }
    if (typeof text === "object") {
      this.#setFile(SETTINGS_FILE_NAME, notRead(SETTINGS_FILE_NAME, text));
      return;
    }
    const outcome = await this.#validator({
      kind: "settings",
      text,
      options: { filename: SETTINGS_FILE_NAME, now: this.#now() },
    });
    if (outcome.kind !== "settings") throw new TypeError("Wrong outcome");
    const { settings, problems } = outcome.result;
    const fileProblems = tagged(SETTINGS_FILE_NAME, problems);
    this.#setFile(SETTINGS_FILE_NAME, {
      name: SETTINGS_FILE_NAME,
      text,
      problems: fileProblems,
      ...(outcome.omitted ? { omitted: outcome.omitted } : {}),
    });
    if (settings === undefined) return;
    const fingerprint = fileFingerprint(SETTINGS_FILE_NAME, text);
    if (sameFingerprint(fingerprint, this.#settings.fingerprint)) return;
    this.#replaceSettings({
      text,
      fingerprint,
      settings,
      warnings: fileProblems,
    });
  }

  #setFile(name: string, state: FileState): void {
    this.#files.set(name, state);
    if (failed(state.problems)) this.#failing.add(name);
    else this.#failing.delete(name);
  }

  #deleteFile(name: string): void {
    this.#files.delete(name);
    this.#failing.delete(name);
  }

  #replaceSettings(settings: SettingsInForce): void {
    if (settings === this.#settings) return;
    this.#fingerprint = combine(
      combine(this.#fingerprint, this.#settings.fingerprint),
      settings.fingerprint,
    );
    this.#settings = settings;
  }

  /** Records a file's new version; returns the organization id it names. */
  #applyFile(name: string, text: PolicyFileChange): string | undefined {
    const { kind, organizationId } = classifyPolicyFile(name);
    if (text === undefined) {
      this.#deleteFile(name);
      if (organizationId !== undefined) {
        const claims = this.#claims.get(organizationId);
        claims?.delete(name);
        if ((claims?.size ?? 0) <= 1) this.#duplicates.delete(organizationId);
      }
      return organizationId;
    }
    if (typeof text === "object") {
      // The file is still there: it keeps its claim and its last good version.
      const previous = this.#files.get(name);
      this.#setFile(name, {
        ...notRead(name, text),
        text: previous?.text ?? "",
      });
      return undefined;
    }
    if (kind === "reserved" || kind === "bad-name") {
      this.#setFile(name, {
        name,
        text,
        problems: [
          kind === "reserved"
            ? fileProblem(
              name,
              "reserved-file-name",
              `File name ${
                JSON.stringify(name)
              } is reserved: names starting with "_" are Parley's`,
              `Name organization files <organizationId>.yaml; the settings file is "${SETTINGS_FILE_NAME}"`,
            )
            : fileProblem(
              name,
              "bad-organization-id",
              `File name ${JSON.stringify(name)} is not an organization id`,
              "Name the file with 1 to 64 letters, digits, '_' or '-' and .yaml, .yml or .json",
            ),
        ],
      });
      return undefined;
    }
    const id = organizationId!;
    let claims = this.#claims.get(id);
    if (claims === undefined) {
      claims = new Set();
      this.#claims.set(id, claims);
    }
    claims.add(name);
    if (claims.size > 1) this.#duplicates.add(id);
    return id;
  }

  /** Validates a file's latest version and records it. */
  async #revalidate(name: string, id: string, text: string): Promise<void> {
    this.#setFile(name, await this.#validate(name, id, text));
  }

  async #validate(name: string, id: string, text: string): Promise<FileState> {
    const secrets: SecretAssignment = this.#settings.settings.secrets ??
      NO_SECRETS;
    const outcome = await this.#validator({
      kind: "organization",
      text,
      options: {
        organizationId: id,
        defaults: this.#settings.settings.defaults,
        allowWebhookHosts: this.#settings.settings.server.allowWebhookHosts,
        secrets,
        filename: name,
        now: this.#now(),
        ...(this.#env === undefined ? {} : { env: this.#env }),
      },
    });
    if (outcome.kind !== "organization") throw new TypeError("Wrong outcome");
    const { organization, problems }: OrganizationValidationResult =
      outcome.result;
    return {
      name,
      text,
      problems: tagged(name, problems),
      ...(outcome.omitted ? { omitted: outcome.omitted } : {}),
      ...(organization === undefined ? {} : { organization }),
    };
  }

  /**
   * Decides which version of an organization is in force: the one file
   * naming it, when its latest version validated; else the last good one.
   * Two files naming one id keep the last good version until one goes.
   *
   * @returns Whether the organization in force changed.
   */
  async #settle(id: string, recompile: boolean): Promise<boolean> {
    const claims = this.#claims.get(id);
    const current = this.#inForce.get(id);
    if (claims === undefined || claims.size === 0) {
      this.#claims.delete(id);
      if (current === undefined) return false;
      this.#remove(id, current);
      return true;
    }
    if (claims.size > 1) return false;
    const [name] = claims;
    const state = this.#files.get(name!);
    if (state === undefined) return false;
    if (state.organization !== undefined) {
      const fingerprint = fileFingerprint(state.name, state.text);
      if (
        !recompile && current !== undefined &&
        sameFingerprint(current.fingerprint, fingerprint)
      ) {
        return false;
      }
      this.#put(id, {
        file: state.name,
        text: state.text,
        fingerprint,
        entry: compileOrganization(state.organization),
        warnings: state.problems,
      });
      return true;
    }
    if (!recompile || current === undefined) return false;
    // The latest version fails; the last good one takes the new settings.
    const again = await this.#validate(current.file, id, current.text);
    if (again.organization === undefined) {
      // Secrets taken away are not kept: the organization goes.
      const unassigned = again.problems.some((problem) =>
        problem.code === "secret-not-assigned"
      );
      if (!unassigned) return false;
      this.#remove(id, current);
      return true;
    }
    this.#put(id, {
      ...current,
      entry: compileOrganization(again.organization),
      warnings: again.problems,
    });
    return true;
  }

  #put(id: string, version: InForce): void {
    this.#writableMaps();
    const current = this.#inForce.get(id);
    if (current !== undefined) {
      this.#fingerprint = combine(this.#fingerprint, current.fingerprint);
    }
    this.#fingerprint = combine(this.#fingerprint, version.fingerprint);
    this.#inForce.set(id, version);
    this.#entries.set(id, version.entry);
    this.#specs.set(id, version.entry.spec);
  }

  #remove(id: string, current: InForce): void {
    this.#writableMaps();
    this.#fingerprint = combine(this.#fingerprint, current.fingerprint);
    this.#inForce.delete(id);
    this.#entries.delete(id);
    this.#specs.delete(id);
  }

  /** The evaluator in force keeps its maps: change copies. */
  #writableMaps(): void {
    if (this.#ownMaps) return;
    this.#entries = new Map(this.#entries);
    this.#specs = new Map(this.#specs);
    this.#ownMaps = true;
  }

  /** The report of a file's latest version, with duplicate ids added. */
  #report(name: string): PolicyFileReport {
    const state = this.#files.get(name);
    if (state === undefined) {
      return Object.freeze({
        file: name,
        ok: true,
        removed: true,
        problems: Object.freeze([]),
      });
    }
    const id = classifyPolicyFile(name).organizationId;
    const claims = id === undefined ? undefined : this.#claims.get(id);
    let problems = state.problems;
    if (claims !== undefined && claims.size > 1) {
      const others = [...claims].filter((other) => other !== name).sort();
      problems = Object.freeze([
        fileProblem(
          name,
          "duplicate-organization",
          `Organization "${id}" is also defined by ${
            others.map((other) => `"${other}"`).join(", ")
          }`,
          "Keep one file per organization",
        ),
        ...problems,
      ]);
    }
    return Object.freeze({
      file: name,
      ok: !failed(problems),
      removed: false,
      problems,
      ...(state.omitted ? { omitted: state.omitted } : {}),
    });
  }

  #assemble(): Evaluator {
    const warnings: PolicyProblem[] = [...this.#settings.warnings];
    for (const version of this.#inForce.values()) {
      for (const problem of version.warnings) warnings.push(problem);
    }
    this.#ownMaps = false;
    return assembleEvaluator({
      revision: fingerprintHex(this.#fingerprint),
      server: this.#settings.settings.server,
      defaults: this.#settings.settings.defaults,
      organizations: this.#entries,
      specs: this.#specs,
      warnings,
    });
  }
}

function sameFingerprint(a: Fingerprint, b: Fingerprint): boolean {
  return a.hi === b.hi && a.lo === b.lo;
}
