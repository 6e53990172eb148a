/**
 * The parsed tree (`parse.ts`) as the plain data a JSON Schema validator
 * reads, and the way back: from a path in that data to the line and column
 * it was written at.
 *
 * Mappings become objects without a prototype, so no key (`__proto__`,
 * `constructor`) means anything but itself. A key written twice keeps its
 * first value; the repeats are listed for the reader to report. Timestamps
 * become ISO strings, as JSON writes them.
 *
 * @module
 */

import type { MapEntry, MapNode, PolicyNode, Position } from "./parse.ts";
import type { DocumentPath } from "./problems.ts";

/** A key written again in the same mapping. */
export interface RepeatedKey {
  /** The mapping's path. */
  readonly parent: DocumentPath;
  readonly key: string;
  /** Where the repeat is written. */
  readonly at: Position;
}

/** A parsed text as plain data, with positions. */
export class PolicyDocument {
  /** The data: objects, arrays, strings, numbers, booleans and `null`. */
  readonly data: unknown;
  /** Keys written twice, in file order. */
  get repeats(): readonly RepeatedKey[] {
    return this.#repeats;
  }
  #repeats: RepeatedKey[];
  readonly #root: PolicyNode;
  readonly #entries = new WeakMap<MapNode, Map<string, MapEntry>>();

  /** @param root The parsed tree. */
  constructor(root: PolicyNode) {
    this.#root = root;
    const repeats: RepeatedKey[] = [];
    this.data = plain(root, [], repeats);
    this.#repeats = repeats;
  }

  /**
   * Takes a key out of the top mapping's data, with its repeats, for a
   * reader that reports it in its own words.
   *
   * @param key The key.
   * @returns Where each time it is written was.
   */
  takeTopKey(key: string): Position[] {
    if (this.#root.kind !== "map") return [];
    delete (this.data as Record<string, unknown>)[key];
    // Its value is never read, so neither are the keys repeated in it.
    this.#repeats = this.#repeats.filter((repeat) =>
      (repeat.parent[0] ?? repeat.key) !== key
    );
    return this.#root.entries
      .filter((entry) => entry.key === key)
      .map((entry) => entry.at);
  }

  /**
   * The node written at `path`.
   *
   * @param path Keys and indexes from the top.
   * @returns The node, or `undefined` when nothing is written there.
   */
  node(path: DocumentPath): PolicyNode | undefined {
    let node: PolicyNode | undefined = this.#root;
    for (const part of path) {
      if (node === undefined) return undefined;
      node = typeof part === "number"
        ? node.kind === "list" ? node.items[part] : undefined
        : node.kind === "map"
        ? this.#entry(node, part)?.value
        : undefined;
    }
    return node;
  }

  /**
   * Where the value at `path` is written; the closest written parent when
   * it is not.
   *
   * @param path Keys and indexes from the top.
   * @returns Line and column.
   */
  at(path: DocumentPath): Position {
    for (let length = path.length; length >= 0; length--) {
      const node = this.node(path.slice(0, length));
      if (node !== undefined) return node;
    }
    return this.#root;
  }

  /**
   * Where the key of the entry at `path` is written (the value's position
   * for a list item or the top).
   *
   * @param path Keys and indexes from the top.
   * @returns Line and column.
   */
  keyAt(path: DocumentPath): Position {
    const key = path[path.length - 1];
    const parent = this.node(path.slice(0, -1));
    if (typeof key === "string" && parent?.kind === "map") {
      const entry = this.#entry(parent, key);
      if (entry !== undefined) return entry.at;
    }
    return this.at(path);
  }

  /**
   * Whether `path` is written in the text, whatever its value.
   *
   * @param path Keys and indexes from the top.
   * @returns `true` when it is.
   */
  written(path: DocumentPath): boolean {
    return this.node(path) !== undefined;
  }

  #entry(node: MapNode, key: string): MapEntry | undefined {
    let entries = this.#entries.get(node);
    if (entries === undefined) {
      entries = new Map();
      for (const entry of node.entries) {
        if (!entries.has(entry.key)) entries.set(entry.key, entry);
      }
      this.#entries.set(node, entries);
    }
    return entries.get(key);
  }
}

/** `path` is one stack, copied only for a repeated key: most texts have none. */
function plain(
  node: PolicyNode,
  path: (string | number)[],
  repeats: RepeatedKey[],
): unknown {
  if (node.kind === "map") {
    const object: Record<string, unknown> = Object.create(null);
    for (const entry of node.entries) {
      if (Object.hasOwn(object, entry.key)) {
        repeats.push({ parent: [...path], key: entry.key, at: entry.at });
        continue;
      }
      path.push(entry.key);
      object[entry.key] = plain(entry.value, path, repeats);
      path.pop();
    }
    return object;
  }
  if (node.kind === "list") {
    const items: unknown[] = [];
    for (const item of node.items) {
      path.push(items.length);
      items.push(plain(item, path, repeats));
      path.pop();
    }
    return items;
  }
  const value = node.value;
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? null : value.toISOString();
  }
  if (typeof value === "bigint") return Number(value);
  return value;
}
