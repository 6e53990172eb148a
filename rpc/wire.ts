/**
 * The wire contract moved to `wire/` (the floor every part imports); this
 * name stays until the visitor widget's files move with the page-view work.
 *
 * @module
 */

export * from "../wire/mod.ts";
