import {
  deepStrictEqual as deepEqual,
  ok,
  strictEqual as equal,
} from "node:assert/strict";
import { formatPath, Problems } from "./problems.ts";

Deno.test("Problems hands out problems by line and column, ties in the order reported, frozen", () => {
  const problems = new Problems();
  problems.error("b", ["b"], { line: 2, column: 1 }, "B");
  problems.warning("a2", ["a"], { line: 1, column: 5 }, "A2");
  problems.error("a1", ["a"], { line: 1, column: 5 }, "A1");
  problems.warning("z", [], { line: 1, column: 1 }, "Z");
  const sorted = problems.sorted();
  deepEqual(sorted.map((problem) => problem.code), ["z", "a2", "a1", "b"]);
  ok(sorted.every((problem) => Object.isFrozen(problem)));
  ok(Object.isFrozen(sorted));
  equal(problems.failed, true);
});

Deno.test("Problems says whether a path or anything inside it has a problem", () => {
  const problems = new Problems();
  problems.warning(
    "w",
    ["cases", 1, "token", "kid"],
    { line: 1, column: 1 },
    "W",
  );
  equal(problems.within("cases[1]"), true);
  equal(problems.within("cases[10]"), false);
  equal(problems.failed, false);
});

Deno.test("formatPath() writes keys with dots and indexes in brackets", () => {
  equal(
    formatPath(["organizations", "acme", "domains", "allow", 2]),
    "organizations.acme.domains.allow[2]",
  );
  equal(formatPath([0, "name"]), "[0].name");
  equal(formatPath([]), "");
});
