/**
 * The reading pipeline every Parley file goes through (a policy, a policy
 * directory's files, a policy test file): `parse.ts` reads the text with
 * positions, and the file's JSON Schema checks the data
 * (`schema_problems.ts`). What is left is typed data for the rules that a
 * schema cannot state, and one problem collector for all of them.
 *
 * @module
 */

import { PolicyDocument } from "./document.ts";
import { parsePolicyText } from "./parse.ts";
import { type SchemaRoot, schemaValidator } from "./policy_schema.ts";
import { type DocumentPath, Problems } from "./problems.ts";
import { checkSchema } from "./schema_problems.ts";

/** A file read and checked against its schema. */
export interface ReadDocument {
  /** Positions and what was written; absent when the text holds nothing. */
  readonly document?: PolicyDocument;
  /** The data without what the schema found wrong; `undefined` when nothing is left. */
  readonly data: unknown;
  /** Every problem so far; the rules add theirs. */
  readonly problems: Problems;
}

/** Options of {@linkcode readDocument}. */
export interface ReadDocumentOptions {
  /** The problem of a text that holds no document at all. */
  readonly empty: {
    readonly code: string;
    readonly path: DocumentPath;
    readonly message: string;
    readonly hint: string;
  };
  /**
   * Runs after the parse, before the schema: reports and takes out what it
   * reads in its own words (`document` is absent for an empty text).
   */
  readonly before?:
    | ((problems: Problems, document: PolicyDocument | undefined) => void)
    | undefined;
}

/**
 * Parses a text and checks it against a schema.
 *
 * @param text YAML or JSON.
 * @param root Which schema.
 * @param options The empty file's problem, and a step before the schema.
 * @returns The typed data, the document and the problems.
 */
export function readDocument(
  text: string,
  root: SchemaRoot,
  options: ReadDocumentOptions,
): ReadDocument {
  const parsed = parsePolicyText(text);
  const problems = new Problems(parsed.problems);
  // After a syntax error the tree is the parser's guess, so checking its
  // shape reports problems the error made up (a mis-indented key read as
  // unknown, a list read as missing): report what the parser found; the
  // rest is checked once it parses.
  if (parsed.problems.some((problem) => problem.code === "syntax")) {
    return { data: undefined, problems };
  }
  const document = parsed.root && new PolicyDocument(parsed.root);
  options.before?.(problems, document);
  // A refused text (too large) was not parsed: nothing is empty or missing.
  if (parsed.refused) return { data: undefined, problems };
  if (document === undefined) {
    const { code, path, message, hint } = options.empty;
    problems.error(code, path, { line: 1, column: 1 }, message, hint);
    return { data: undefined, problems };
  }
  const data = checkSchema(schemaValidator(root), document, problems);
  return { document, data, problems };
}
