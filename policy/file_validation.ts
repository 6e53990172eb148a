/**
 * One policy file's validation as a request and an outcome of plain data,
 * so that it can run where the caller chooses: in this thread (the command
 * line, tests), or in a worker with a time limit (the server, so that no
 * file, however hostile, holds up the requests of other organizations).
 *
 * Plain data crosses a worker by structured clone, which keeps Maps, Dates
 * and byte arrays but not `Object.freeze`: {@linkcode frozenOutcome} freezes
 * what arrives again.
 *
 * @module
 */

import type { PolicyProblem } from "./types.ts";
import {
  type OrganizationValidationResult,
  type SettingsValidationResult,
  type ValidateOptions,
  validateOrganizationFile,
  type ValidateOrganizationOptions,
  validatePolicy,
  validateSettingsFile,
  type ValidationResult,
} from "./validate.ts";

/** A file to validate, with everything its validation depends on. */
export type FileValidationRequest =
  | {
    /** A whole policy in one file. */
    readonly kind: "policy";
    readonly text: string;
    readonly options: ValidateOptions;
  }
  | {
    /** A policy directory's `_parley.yaml`. */
    readonly kind: "settings";
    readonly text: string;
    readonly options: ValidateOptions;
  }
  | {
    /** One organization's file of a policy directory. */
    readonly kind: "organization";
    readonly text: string;
    readonly options: ValidateOrganizationOptions;
  };

/** What a validation found, by the request's kind. */
export type FileValidationOutcome =
  & (
    | { readonly kind: "policy"; readonly result: ValidationResult }
    | { readonly kind: "settings"; readonly result: SettingsValidationResult }
    | {
      readonly kind: "organization";
      readonly result: OrganizationValidationResult;
    }
  )
  & {
    /**
     * Problems left out by {@linkcode foldOutcome}, counted by code: the
     * result keeps the first of each code only.
     */
    readonly omitted?: Readonly<Record<string, number>>;
  };

/** Runs validations: the outcome matches the request's kind. */
export type FileValidator = (
  request: FileValidationRequest,
) => Promise<FileValidationOutcome>;

/**
 * Validates one file, here and now.
 *
 * @param request The file and its options.
 * @returns The outcome of the request's kind.
 */
export function validateFile(
  request: FileValidationRequest,
): FileValidationOutcome {
  switch (request.kind) {
    case "policy":
      return {
        kind: "policy",
        result: validatePolicy(request.text, request.options),
      };
    case "settings":
      return {
        kind: "settings",
        result: validateSettingsFile(request.text, request.options),
      };
    case "organization":
      return {
        kind: "organization",
        result: validateOrganizationFile(request.text, request.options),
      };
  }
}

/**
 * The validator that runs in this thread.
 *
 * @param request The file and its options.
 * @returns The outcome.
 */
export const validateInThread: FileValidator = (request) =>
  Promise.resolve(validateFile(request));

/**
 * The outcome of a file that could not be validated at all (its
 * validation took too long, or its worker failed): one error, no value.
 *
 * @param kind The request's kind.
 * @param problem The error.
 * @returns An outcome holding only that problem.
 */
export function failedOutcome(
  kind: FileValidationRequest["kind"],
  problem: PolicyProblem,
): FileValidationOutcome {
  const result = { problems: Object.freeze([Object.freeze(problem)]) };
  return Object.freeze({ kind, result: Object.freeze(result) });
}

/**
 * Keeps the first `keep` problems of each code and counts the rest, so a
 * file of 200,000 unknown keys hands its receiver a few hundred problems,
 * not 200,000 to copy, freeze and log (a worker's outcome is copied on the
 * thread that receives it).
 *
 * @param outcome A validation's outcome.
 * @param keep Problems kept of each code.
 * @returns The outcome with fewer problems and `omitted` set, or the same
 *   outcome when nothing was left out.
 */
export function foldOutcome(
  outcome: FileValidationOutcome,
  keep: number,
): FileValidationOutcome {
  const seen = new Map<string, number>();
  const kept: PolicyProblem[] = [];
  const omitted: Record<string, number> = { ...outcome.omitted };
  for (const problem of outcome.result.problems) {
    const count = (seen.get(problem.code) ?? 0) + 1;
    seen.set(problem.code, count);
    if (count <= keep) kept.push(problem);
    else omitted[problem.code] = (omitted[problem.code] ?? 0) + 1;
  }
  if (kept.length === outcome.result.problems.length) return outcome;
  switch (outcome.kind) {
    case "policy":
      return {
        ...outcome,
        result: { ...outcome.result, problems: kept },
        omitted,
      };
    case "settings":
      return {
        ...outcome,
        result: { ...outcome.result, problems: kept },
        omitted,
      };
    case "organization":
      return {
        ...outcome,
        result: { ...outcome.result, problems: kept },
        omitted,
      };
  }
}

/**
 * Freezes an outcome received by structured clone, all the way down, as
 * the validator froze it (byte arrays, which cannot be frozen, excepted).
 *
 * @param outcome A cloned outcome.
 * @returns The same outcome, frozen.
 */
export function frozenOutcome(
  outcome: FileValidationOutcome,
): FileValidationOutcome {
  return deepFreeze(outcome);
}

function deepFreeze<T>(value: T): T {
  if (
    typeof value !== "object" || value === null || ArrayBuffer.isView(value) ||
    Object.isFrozen(value)
  ) {
    return value;
  }
  if (value instanceof Map) {
    for (const item of value.values()) deepFreeze(item);
  } else {
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return Object.freeze(value);
}
