/**
 * Typed reading of RPC body fields: each method states the fields it takes,
 * with lengths, and a wrong type or length is a `BAD_REQUEST` naming the field.
 *
 * No string field holds a control character: C0 (U+0000–U+001F), DEL and C1
 * (U+007F–U+009F) are refused with reason `param.control_character`. They
 * have no place in ids, names, addresses, cursors or page data; PostgreSQL
 * cannot store a NUL (it would fail the request as if the store were down),
 * and the others can rewrite the terminal or log line they are printed to.
 * Message text (`optionalText`) keeps tab, line feed and carriage return, so
 * pasted text and an API client's `\r\n` line ends arrive as written.
 *
 * @module
 */

import { hasControlCharacter } from "../policy/control_character.ts";
import { RpcError } from "./rpc_error.ts";

/** Reads fields of one request body. */
export class Params {
  readonly #body: Record<string, unknown>;
  readonly #path: string;

  /**
   * @param body The parsed JSON object.
   * @param path Where it sits in the request body (`page.` for a nested object).
   */
  constructor(body: Record<string, unknown>, path = "") {
    this.#body = body;
    this.#path = path;
  }

  /**
   * An optional nested object, read with the same rules.
   *
   * @param name Field name.
   * @returns Its fields, or `undefined`.
   * @throws {RpcError} `BAD_REQUEST` when not an object.
   */
  optionalObject(name: string): Params | undefined {
    const value = this.#body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "object" || Array.isArray(value)) {
      throw new RpcError(
        "BAD_REQUEST",
        `Field "${this.#path}${name}" must be an object`,
        { reason: `param.${this.#path}${name}.type` },
      );
    }
    return new Params(
      value as Record<string, unknown>,
      `${this.#path}${name}.`,
    );
  }

  /**
   * A required non-empty string.
   *
   * @param name Field name.
   * @param maxLength Longest accepted.
   * @returns The value.
   * @throws {RpcError} `BAD_REQUEST` when missing, empty, not a string or too long.
   */
  requiredString(name: string, maxLength: number): string {
    const value = this.optionalString(name, maxLength);
    if (value === undefined || value === "") {
      throw new RpcError(
        "BAD_REQUEST",
        `Field "${this.#path}${name}" is required`,
        { reason: `param.${this.#path}${name}.missing` },
      );
    }
    return value;
  }

  /**
   * An optional string (`null` counts as absent).
   *
   * @param name Field name.
   * @param maxLength Longest accepted.
   * @returns The value, or `undefined`.
   * @throws {RpcError} `BAD_REQUEST` when not a string, too long, or holding a control character.
   */
  optionalString(name: string, maxLength: number): string | undefined {
    return this.#string(name, maxLength, false);
  }

  /**
   * Optional message text: a string that may hold tab, line feed and
   * carriage return, and no other control character.
   *
   * @param name Field name.
   * @param maxLength Longest accepted.
   * @returns The value, or `undefined`.
   * @throws {RpcError} `BAD_REQUEST` when not a string, too long, or holding another control character.
   */
  optionalText(name: string, maxLength: number): string | undefined {
    return this.#string(name, maxLength, true);
  }

  #string(
    name: string,
    maxLength: number,
    keepLineBreaks: boolean,
  ): string | undefined {
    const value = this.#body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") {
      throw new RpcError(
        "BAD_REQUEST",
        `Field "${this.#path}${name}" must be a string`,
        { reason: `param.${this.#path}${name}.type` },
      );
    }
    if (value.length > maxLength) {
      throw new RpcError(
        "BAD_REQUEST",
        `Field "${this.#path}${name}" is longer than ${maxLength} characters`,
        { reason: `param.${this.#path}${name}.length` },
      );
    }
    if (hasControlCharacter(value, keepLineBreaks)) {
      throw new RpcError(
        "BAD_REQUEST",
        `Field "${this.#path}${name}" holds a control character`,
        { reason: "param.control_character" },
      );
    }
    return value;
  }

  /**
   * A string or `null`, which must be present (`agentId: null` unassigns).
   *
   * @param name Field name.
   * @param maxLength Longest accepted.
   * @returns The value, `null` included.
   * @throws {RpcError} `BAD_REQUEST` when missing, empty, not a string or too long.
   */
  nullableString(name: string, maxLength: number): string | null {
    if (this.#body[name] === null) return null;
    return this.requiredString(name, maxLength);
  }

  /**
   * An optional integer within bounds.
   *
   * @param name Field name.
   * @param min Smallest accepted.
   * @param max Largest accepted.
   * @returns The value, or `undefined`.
   * @throws {RpcError} `BAD_REQUEST` when not an integer in range.
   */
  optionalInteger(name: string, min: number, max: number): number | undefined {
    const value = this.#body[name];
    if (value === undefined || value === null) return undefined;
    if (
      typeof value !== "number" || !Number.isInteger(value) || value < min ||
      value > max
    ) {
      throw new RpcError(
        "BAD_REQUEST",
        `Field "${this.#path}${name}" must be an integer from ${min} to ${max}`,
        { reason: `param.${this.#path}${name}.type` },
      );
    }
    return value;
  }
}
